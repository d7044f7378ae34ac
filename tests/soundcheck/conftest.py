"""Documents and rows for the Soundcheck tests, from the seeds' shapes with realistic values."""

import pytest

from tests.client import JsonApiClient

CHECKS = "/api/v1/soundcheck/checks"
TRACKS = "/api/v1/soundcheck/tracks"
RESULTS = "/api/v1/soundcheck/check-results"
CERTIFICATIONS = "/api/v1/soundcheck/certifications"

BADGE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24">'
    '<circle cx="12" cy="12" r="10" fill="#1DB954"/></svg>'
)


def seed_track(track_id="test-certified", **attributes):
    """The create-tracks seed's track, every member given, as a JSON:API document."""
    values = {
        "name": "Test Certified",
        "description": "Improve quality and reliability of your software component",
        "owner-entity-ref": "group:default/example-owner",
        "group": "Quality",
        "track-type": "standard",
        "badge": {"color": "#1DB954", "type": "medal", "svg": BADGE_SVG},
        "filter": {"kind": "Component", "spec.type": ["service", "website"]},
        "exclude": {"metadata.tags": "experimental"},
        "documentation-url": "https://backstage.io/docs/features/software-catalog",
        "badge-type": "medal",
        "draft": False,
        "is-editable": True,
        "archived": False,
        "support-channel": "#soundcheck-support",
        "start-date": None,
        "target-completion-date": None,
        "milestones": [],
        "levels": [
            {
                "ordinal": 1,
                "name": "Basic",
                "description": "The service runs its tests",
                "badge": {"color": "#cd7f32", "type": "medal", "svg": BADGE_SVG},
                "checks": [
                    {
                        "id": "python_service_runs_tests",
                        "name": "The python service runs pytest",
                        "description": "pytest runs in CI on every pull request",
                        "filter": {"metadata.tags": "python"},
                        "exclude": {},
                    }
                ],
            },
            {
                "ordinal": 2,
                "name": "Covered",
                "description": "Most code is tested",
                "badge": {"color": "rgb(192, 192, 192)", "type": "medal", "svg": BADGE_SVG},
                "checks": [
                    {
                        "id": "coverage_above_80",
                        "name": "Coverage is above 80%",
                        "description": "Line coverage reported by CI",
                        "filter": {},
                        "exclude": {},
                    }
                ],
            },
        ],
        **attributes,
    }
    return {"data": {"type": "soundcheck-tracks", "id": track_id, "attributes": values}}


def check_document(check_id="has-readme", **attributes):
    values = {"name": "Has a README", "description": "The repository has a README.md"}
    values.update(attributes)
    return {"data": {"type": "checks", "id": check_id, "attributes": values}}


def result_document(check_id, entity_ref, state, **attributes):
    return {
        "data": {
            "type": "check-results",
            "attributes": {"entity-ref": entity_ref, "state": state, **attributes},
            "relationships": {"check": {"data": {"type": "checks", "id": check_id}}},
        }
    }


@pytest.fixture
def client(api):
    return api


@pytest.fixture
def editor_client(editor, make_token):
    return JsonApiClient(make_token(editor))
