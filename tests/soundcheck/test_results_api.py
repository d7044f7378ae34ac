"""Check results and certifications over HTTP: history kept and the latest counting,
preserve-state-on-error, levels reached (warning and not-applicable do not block, a failed
lower level caps the higher ones), a track's entities and its aggregate per level, and
constant query counts whatever the number of entities."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from soundcheck.models import Certification, CheckResult
from tests.assertions import errors_by_pointer, ids, the_error
from tests.factories import make_check, make_organization, make_soundcheck_track

from .conftest import CERTIFICATIONS, RESULTS, TRACKS, result_document

pytestmark = pytest.mark.django_db
PAYMENTS = "component:default/payments"
SEARCH = "component:default/search"


@pytest.fixture
def track():
    """Three levels: README (1), owner and tests (2), coverage (3)."""
    readme, owner, tests, coverage = (
        make_check(slug=slug, name=slug.replace("-", " ").capitalize())
        for slug in ("has-readme", "has-owner", "has-tests", "has-coverage")
    )
    track = make_soundcheck_track(slug="basics", checks=[readme, owner, coverage])
    level_two = track.levels.get(ordinal=2)
    level_two.level_checks.create(track=track, check_definition=tests, position=1)
    return track


def report(client, check_id, state, entity=PAYMENTS, query="", **attributes):
    response = client.post_doc(
        f"{RESULTS}{query}", result_document(check_id, entity, state, **attributes)
    )
    assert response.status_code == 201, response.document
    return response.document["data"]


def certification_of(client, entity=PAYMENTS, track_id="basics"):
    response = client.get(
        f"{CERTIFICATIONS}?filter[entity-ref]={entity}&filter[track-id]={track_id}"
    )
    assert response.status_code == 200, response.document
    [data] = response.document["data"]
    return data["attributes"]


def states(certification):
    return {
        level["ordinal"]: {check["id"]: check["state"] for check in level["checks"]}
        for level in certification["levels"]
    }


def test_a_result_is_answered_with_every_member(client, track):
    data = report(
        client,
        "has-readme",
        "passed",
        entity="Component:Payments",
        details={"file": "README.md"},
        scope="default",
        **{"submitted-by": "ci:github-actions", "timestamp": "2026-12-01T10:00:00Z"},
    )
    assert data["attributes"] == {
        "entity-ref": PAYMENTS,
        "state": "passed",
        "effective-state": "passed",
        "details": {"file": "README.md"},
        "scope": "default",
        "submitted-by": "ci:github-actions",
        "timestamp": "2026-12-01T10:00:00.000000Z",
        "createdAt": data["attributes"]["createdAt"],
    }
    assert data["relationships"]["check"]["data"] == {"type": "checks", "id": "has-readme"}


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"state": "green"}, "/data/attributes/state"),
        ({"entity-ref": "payments"}, "/data/attributes/entity-ref"),
        ({"details": ["not", "an", "object"]}, "/data/attributes/details"),
        ({"scope": "has space"}, "/data/attributes/scope"),
        ({"timestamp": "yesterday"}, "/data/attributes/timestamp"),
        ({"effective-state": "passed"}, "/data/attributes/effective-state"),
    ],
)
def test_invalid_results_are_refused_and_not_kept(client, track, attributes, pointer):
    document = result_document("has-readme", PAYMENTS, "passed")
    document["data"]["attributes"].update(attributes)
    errors = errors_by_pointer(client.post_doc(RESULTS, document), 422)
    assert pointer in errors
    assert not CheckResult.objects.exists() and not Certification.objects.exists()


def test_a_result_for_an_unknown_or_foreign_check_is_refused(client, track):
    make_check(slug="foreign", organization=make_organization())
    for check_id in ("no-such-check", "foreign"):
        response = client.post_doc(RESULTS, result_document(check_id, PAYMENTS, "passed"))
        assert the_error(response, 404)["source"] == {"pointer": "/data/relationships/check"}
    assert not CheckResult.objects.exists()


def test_results_are_history_the_latest_counts(client, track):
    report(client, "has-readme", "failed", timestamp="2026-12-01T10:00:00Z")
    report(client, "has-readme", "passed", timestamp="2026-12-02T10:00:00Z")
    report(client, "has-readme", "failed", entity=SEARCH)
    history = client.get(f"{RESULTS}?filter[entity-ref]={PAYMENTS}&filter[check-id]=has-readme")
    assert [r["attributes"]["state"] for r in history.document["data"]] == ["failed", "passed"]
    assert len(ids(client.get(f"{RESULTS}?filter[state]=failed"))) == 2
    assert states(certification_of(client))[1] == {"has-readme": "passed"}


def test_an_older_result_arriving_late_does_not_replace_the_newer(client, track):
    report(client, "has-readme", "passed", timestamp="2026-12-02T10:00:00Z")
    report(client, "has-readme", "failed", timestamp="2026-12-01T10:00:00Z")
    assert states(certification_of(client))[1] == {"has-readme": "passed"}


def test_results_are_never_changed_or_deleted(client, track):
    result_id = report(client, "has-readme", "passed")["id"]
    assert client.delete(f"{RESULTS}/{result_id}").status_code == 405
    assert client.patch_doc(f"{RESULTS}/{result_id}", {"data": {}}).status_code == 405


def test_preserve_state_on_error_keeps_the_earlier_state(client, track):
    report(client, "has-readme", "passed", timestamp="2026-12-01T10:00:00Z")
    kept = report(
        client,
        "has-readme",
        "error",
        query="?preserve-state-on-error=true",
        timestamp="2026-12-02T10:00:00Z",
    )
    assert kept["attributes"]["state"] == "error"
    assert kept["attributes"]["effective-state"] == "passed"
    assert states(certification_of(client))[1] == {"has-readme": "passed"}
    # Without being asked, an error is the state.
    report(client, "has-readme", "error", timestamp="2026-12-03T10:00:00Z")
    assert states(certification_of(client))[1] == {"has-readme": "error"}
    # With nothing to keep, the error stands.
    other = report(
        client, "has-readme", "error", entity=SEARCH, query="?preserve-state-on-error=true"
    )
    assert other["attributes"]["effective-state"] == "error"


def test_a_bad_preserve_option_is_a_400(client, track):
    response = client.post_doc(
        f"{RESULTS}?preserve-state-on-error=maybe",
        result_document("has-readme", PAYMENTS, "error"),
    )
    assert the_error(response, 400)["source"] == {"parameter": "preserve-state-on-error"}
    assert not CheckResult.objects.exists()


def test_levels_are_reached_in_order(client, track):
    report(client, "has-readme", "passed")
    assert certification_of(client)["highest-level"] == 1
    report(client, "has-owner", "passed")
    report(client, "has-coverage", "passed")  # level 3 passes, level 2 does not yet
    certification = certification_of(client)
    assert certification["highest-level"] == 1
    assert [level["certified"] for level in certification["levels"]] == [True, False, True]
    assert states(certification)[2] == {"has-owner": "passed", "has-tests": "not-reported"}
    report(client, "has-tests", "warning")  # a warning does not block
    assert certification_of(client)["highest-level"] == 3
    report(client, "has-readme", "failed")  # a failed level 1 caps everything
    certification = certification_of(client)
    assert certification["highest-level"] is None
    assert certification["certified-at"] is None


def test_not_applicable_does_not_block_and_reported_times_are_kept(client, track):
    report(client, "has-readme", "not-applicable", timestamp="2026-12-01T10:00:00Z")
    certification = certification_of(client)
    assert certification["highest-level"] == 1
    assert certification["certified-at"] == "2026-12-01T10:00:00.000000Z"
    [check] = certification["levels"][0]["checks"]
    assert check["timestamp"] == "2026-12-01T10:00:00.000000Z"
    # A later result that keeps the entity at its level does not move the time it got there.
    report(client, "has-readme", "passed", timestamp="2026-12-05T10:00:00Z")
    assert certification_of(client)["certified-at"] == "2026-12-01T10:00:00.000000Z"


@pytest.mark.parametrize("state", ["failed", "error", "not-reported"])
def test_blocking_states(client, track, state):
    report(client, "has-readme", state)
    assert certification_of(client)["highest-level"] is None


def test_results_in_another_scope_do_not_certify(client, track):
    report(client, "has-readme", "passed", scope="staging")
    response = client.get(f"{CERTIFICATIONS}?filter[entity-ref]={PAYMENTS}")
    assert response.document["data"] == []


def test_certifications_need_an_entity(client, track):
    error = the_error(client.get(CERTIFICATIONS), 400)
    assert error["source"] == {"parameter": "filter[entity-ref]"}


def test_certifications_of_an_entity_across_tracks(client, track):
    make_soundcheck_track(
        slug="docs", checks=[track.levels.get(ordinal=1).level_checks.get().check_definition]
    )
    report(client, "has-readme", "passed")
    response = client.get(f"{CERTIFICATIONS}?filter[entity-ref]=Component:Payments&include=track")
    assert response.status_code == 200
    by_track = {
        c["relationships"]["track"]["data"]["id"]: c["attributes"]["highest-level"]
        for c in response.document["data"]
    }
    assert by_track == {"basics": 1, "docs": 1}
    assert {r["id"] for r in response.document["included"]} == {"basics", "docs"}


def test_changing_the_levels_computes_certifications_again(client, track):
    report(client, "has-readme", "passed")
    report(client, "has-owner", "failed")
    document = {
        "data": {
            "type": "soundcheck-tracks",
            "id": "basics",
            "attributes": {
                "levels": [
                    {"ordinal": 1, "name": "Docs", "checks": [{"id": "has-readme"}]},
                    {"ordinal": 2, "name": "More docs", "checks": [{"id": "has-coverage"}]},
                ]
            },
        }
    }
    assert client.patch_doc(f"{TRACKS}/basics", document).status_code == 200
    certification = certification_of(client)
    assert certification["highest-level"] == 1
    assert [level["name"] for level in certification["levels"]] == ["Docs", "More docs"]


def test_a_renamed_check_is_renamed_in_certifications(client, track):
    report(client, "has-readme", "passed")
    document = {
        "data": {"type": "checks", "id": "has-readme", "attributes": {"name": "README present"}}
    }
    assert client.patch_doc("/api/v1/soundcheck/checks/has-readme", document).status_code == 200
    assert certification_of(client)["levels"][0]["checks"][0]["name"] == "README present"


@pytest.fixture
def reported(client, track):
    """payments: level 3; search: level 1 (fails tests); web: nothing passes; docs: only
    not-reported for level 1 but a result on level 3."""
    for check_id in ("has-readme", "has-owner", "has-tests", "has-coverage"):
        report(client, check_id, "passed")
    report(client, "has-readme", "passed", entity=SEARCH)
    report(client, "has-owner", "passed", entity=SEARCH)
    report(client, "has-tests", "failed", entity=SEARCH)
    report(client, "has-readme", "failed", entity="component:default/web")
    report(client, "has-coverage", "failed", entity="component:default/docs")


def test_a_tracks_entities_by_status(client, reported):
    url = f"{TRACKS}/basics/entities"
    entities = client.get(f"{url}?filter[status]=passed&sort=-highest-level").document["data"]
    assert [
        (e["attributes"]["entity-ref"], e["attributes"]["highest-level"]) for e in entities
    ] == [
        (PAYMENTS, 3),
        (SEARCH, 1),
    ]
    failed = {
        e["attributes"]["entity-ref"]
        for e in client.get(f"{url}?filter[status]=failed").document["data"]
    }
    assert failed == {"component:default/web", "component:default/docs"}
    assert client.get(url).document["meta"]["page"]["total"] == 4
    the_error(client.get(f"{url}?filter[status]=maybe"), 400)
    the_error(client.get(f"{TRACKS}/no-such-track/entities"), 404)


def test_a_tracks_aggregate_per_level(client, reported):
    response = client.get(f"{TRACKS}/basics/status")
    assert response.status_code == 200, response.document
    assert response.document["meta"] == {
        "number-of-entities": 4,
        "status-by-level": [
            # payments, search passed; web failed; docs reported nothing for level 1.
            {"ordinal": 1, "passed": 2, "failed": 1, "cumulatively-passed": 2, "not-reported": 1},
            # payments passed; search failed (tests); web and docs reported nothing.
            {"ordinal": 2, "passed": 1, "failed": 1, "cumulatively-passed": 1, "not-reported": 2},
            # payments passed; docs failed; search and web reported nothing.
            {"ordinal": 3, "passed": 1, "failed": 1, "cumulatively-passed": 1, "not-reported": 2},
        ],
    }


def test_another_organizations_track_has_no_entities_or_status(client, track, make_token):
    other = make_soundcheck_track(slug="hidden", organization=make_organization())
    assert other.organization != track.organization
    the_error(client.get(f"{TRACKS}/hidden/entities"), 404)
    the_error(client.get(f"{TRACKS}/hidden/status"), 404)


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.document
    return len(captured)


def test_lists_of_entities_cost_the_same_whatever_their_number(client, track):
    urls = [
        f"{TRACKS}/basics/entities?page[size]=100&include=track",
        f"{TRACKS}/basics/status",
        f"{CERTIFICATIONS}?filter[entity-ref]={PAYMENTS}&include=track",
        f"{RESULTS}?include=check&page[size]=100",
    ]
    report(client, "has-readme", "passed")
    few = [queries(client, url) for url in urls]
    for n in range(30):
        report(client, "has-readme", "passed", entity=f"component:default/service-{n}")
    assert [queries(client, url) for url in urls] == few
