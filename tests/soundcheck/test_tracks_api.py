"""Soundcheck tracks and checks over HTTP: the seeds' bodies accepted and answered whole,
every seed rule and every runtime rule refused with a precise pointer and nothing
written, client-generated ids, partial and wholesale updates, filters and sorts."""

import copy

import pytest

from soundcheck.models import Check, Level, LevelCheck, SoundcheckTrack
from tests.assertions import errors_by_pointer, ids, the_error
from tests.client import JsonApiClient
from tests.factories import add_member, make_check, make_organization, make_soundcheck_track

from .conftest import BADGE_SVG, CHECKS, TRACKS, check_document, seed_track

pytestmark = pytest.mark.django_db


def attributes(response):
    return response.document["data"]["attributes"]


def snapshot():
    """Everything the Soundcheck tables hold, to prove a refused request wrote nothing."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Check, SoundcheckTrack, Level, LevelCheck)
    ]


def refused(client, method, url, document, status=422):
    """Send ``document``; assert it is refused with ``status`` and changed nothing."""
    before = snapshot()
    response = client.send(method, url, document)
    assert snapshot() == before
    return errors_by_pointer(response, status)


def campaign(**attributes):
    values = {
        "track-type": "campaign",
        "start-date": "2027-01-01",
        "target-completion-date": "2027-06-30",
        "milestones": [
            {"name": "Kick-off", "date": "2027-01-15"},
            {"name": "Halfway", "date": "2027-03-31", "level": 1},
        ],
    }
    return seed_track("q1-reliability", **{**values, **attributes})


# The seeds' bodies.


def test_the_create_seed_is_accepted_and_answered_with_every_member(client):
    document = seed_track()
    response = client.post_doc(TRACKS, document)
    assert response.status_code == 201, response.document
    sent = document["data"]["attributes"]
    answered = attributes(response)
    assert set(answered) == set(sent) | {"createdAt", "updatedAt"}
    for member, value in sent.items():
        assert answered[member] == value, member
    assert response.document["data"]["id"] == "test-certified"
    assert response["Location"] == f"http://testserver{TRACKS}/test-certified"
    assert client.get(f"{TRACKS}/test-certified").document["data"] == response.document["data"]
    track = SoundcheckTrack.objects.get(slug="test-certified")
    assert [level.ordinal for level in track.levels.all()] == [1, 2]
    assert Check.objects.get(slug="coverage_above_80").name == "Coverage is above 80%"


def test_a_campaign_is_accepted_with_its_dates_and_milestones(client):
    response = client.post_doc(TRACKS, campaign())
    assert response.status_code == 201, response.document
    answered = attributes(response)
    assert answered["track-type"] == "campaign"
    assert (answered["start-date"], answered["target-completion-date"]) == (
        "2027-01-01",
        "2027-06-30",
    )
    assert answered["milestones"][1] == {"name": "Halfway", "date": "2027-03-31", "level": 1}


def test_the_update_seed_replaces_the_levels_wholesale(client):
    client.post_doc(TRACKS, seed_track())
    update = seed_track(name="Test Certified, second edition", group="Reliability")
    update["data"]["attributes"]["levels"] = [
        {
            "ordinal": 1,
            "name": "Everything",
            "description": "One level now",
            "badge": {"color": "#fff", "type": "status", "svg": BADGE_SVG},
            "checks": [{"id": "coverage_above_80"}, {"id": "python_service_runs_tests"}],
        }
    ]
    response = client.patch_doc(f"{TRACKS}/test-certified", update)
    assert response.status_code == 200, response.document
    levels = attributes(response)["levels"]
    assert [level["name"] for level in levels] == ["Everything"]
    assert [check["id"] for check in levels[0]["checks"]] == [
        "coverage_above_80",
        "python_service_runs_tests",
    ]
    # Checks given by id alone keep their fields.
    assert levels[0]["checks"][0]["name"] == "Coverage is above 80%"
    assert attributes(response)["name"] == "Test Certified, second edition"
    assert Level.objects.filter(track__slug="test-certified").count() == 1


def test_an_update_without_levels_keeps_them(client):
    client.post_doc(TRACKS, seed_track())
    document = {
        "data": {
            "type": "soundcheck-tracks",
            "id": "test-certified",
            "attributes": {"draft": True, "archived": True},
        }
    }
    response = client.patch_doc(f"{TRACKS}/test-certified", document)
    assert response.status_code == 200, response.document
    assert (attributes(response)["draft"], attributes(response)["archived"]) == (True, True)
    assert [level["ordinal"] for level in attributes(response)["levels"]] == [1, 2]


def test_an_inline_check_with_fields_updates_the_existing_check(client):
    make_check(slug="python_service_runs_tests", name="Old name")
    response = client.post_doc(TRACKS, seed_track())
    assert response.status_code == 201, response.document
    check = Check.objects.get(slug="python_service_runs_tests")
    assert check.name == "The python service runs pytest"
    assert check.filter == {"metadata.tags": "python"}


def test_entity_references_are_stored_normalised(client):
    response = client.post_doc(TRACKS, seed_track(**{"owner-entity-ref": "Group:Platform"}))
    assert response.status_code == 201, response.document
    assert attributes(response)["owner-entity-ref"] == "group:default/platform"


def test_defaults_fill_what_the_seed_leaves_out(client):
    document = seed_track()
    values = document["data"]["attributes"]
    for member in list(values):
        if member not in ("name", "description", "owner-entity-ref", "levels"):
            del values[member]
    response = client.post_doc(TRACKS, document)
    assert response.status_code == 201, response.document
    answered = attributes(response)
    assert answered["track-type"] == "standard"
    assert (answered["draft"], answered["archived"], answered["is-editable"]) == (
        False,
        False,
        True,
    )
    assert answered["milestones"] == [] and answered["badge"] is None


# Client-generated ids.


def test_the_id_is_required_and_a_duplicate_is_a_conflict(client):
    document = seed_track()
    del document["data"]["id"]
    assert the_error(client.post_doc(TRACKS, document), 400)["source"] == {"pointer": "/data/id"}
    client.post_doc(TRACKS, seed_track())
    errors = refused(client, "POST", TRACKS, seed_track(), 409)
    assert errors["/data/id"]["code"] == "unique"


@pytest.mark.parametrize("bad", ["has readme", "-leading", "x" * 101, "ünïcode", ""])
def test_an_id_that_is_not_a_slug_is_refused(client, bad):
    errors = refused(client, "POST", CHECKS, check_document(bad))
    assert set(errors) == {"/data/id"}


def test_two_organizations_may_use_the_same_ids(client, make_token, django_user_model):
    other = make_organization(slug="globex")
    user = django_user_model.objects.create_superuser("other", "o@example.com", "pw")
    other_client = JsonApiClient(make_token(user, organization=other))
    assert client.post_doc(TRACKS, seed_track()).status_code == 201
    response = other_client.post_doc(TRACKS, seed_track(name="Globex's"))
    assert response.status_code == 201, response.document
    assert attributes(client.get(f"{TRACKS}/test-certified"))["name"] == "Test Certified"
    assert attributes(other_client.get(f"{TRACKS}/test-certified"))["name"] == "Globex's"
    # A superuser acting in every organization must say which one it means.
    everywhere = JsonApiClient(make_token(user, organization=None))
    error = the_error(everywhere.get(f"{TRACKS}/test-certified"), 403)
    assert error["code"] == "organization_required"
    named = everywhere.get(f"{TRACKS}/test-certified", HTTP_X_ORGANIZATION="globex")
    assert attributes(named)["name"] == "Globex's"


def test_an_update_may_not_change_the_id(client):
    client.post_doc(CHECKS, check_document())
    document = check_document("other-id")
    response = client.patch_doc(f"{CHECKS}/has-readme", document)
    assert the_error(response, 409)["code"] == "id_conflict"


# The seeds' rules and the runtime rules, each refused with its pointer.

ATTRIBUTE_CASES = [
    ({"name": ""}, "name"),
    ({"name": "n" * 101}, "name"),
    ({"name": 7}, "name"),
    ({"description": ""}, "description"),
    ({"owner-entity-ref": None}, "owner-entity-ref"),
    ({"owner-entity-ref": "payments"}, "owner-entity-ref"),
    ({"owner-entity-ref": "component:default/pay/ments"}, "owner-entity-ref"),
    ({"track-type": "program"}, "track-type"),
    ({"badge-type": "gold"}, "badge-type"),
    ({"draft": "yes"}, "draft"),
    ({"documentation-url": "ftp://example.com/docs"}, "documentation-url"),
    ({"documentation-url": "javascript:alert(1)"}, "documentation-url"),
    ({"badge": "gold"}, "badge"),
    ({"badge": {"color": "red"}}, "badge/color"),
    ({"badge": {"color": "rgb(300, 0, 0)"}}, "badge/color"),
    ({"badge": {"type": "trophy"}}, "badge/type"),
    ({"badge": {"shape": "round"}}, "badge/shape"),
    ({"badge": {"svg": "<svg><script>alert(1)</script></svg>"}}, "badge/svg"),
    ({"badge": {"svg": '<svg onload="alert(1)"/>'}}, "badge/svg"),
    ({"badge": {"svg": '<svg><image href="https://evil.example/x.png"/></svg>'}}, "badge/svg"),
    ({"badge": {"svg": '<svg><rect fill="url(https://evil.example/p)"/></svg>'}}, "badge/svg"),
    ({"badge": {"svg": '<!DOCTYPE svg [<!ENTITY x "y">]><svg>&x;</svg>'}}, "badge/svg"),
    ({"badge": {"svg": "<svg><unclosed></svg>"}}, "badge/svg"),
    ({"badge": {"svg": "<html/>"}}, "badge/svg"),
    ({"filter": "python"}, "filter"),
    ({"filter": {"metadata.tags": []}}, "filter/metadata.tags"),
    ({"filter": {"metadata.tags": ["python", 3]}}, "filter/metadata.tags"),
    ({"exclude": {"kind": {"nested": "object"}}}, "exclude/kind"),
    ({"levels": []}, "levels"),
    ({"levels": None}, "levels"),
    ({"levels": [{"ordinal": 1, "name": "Basic", "checks": []}]}, "levels/0/checks"),
    ({"levels": [{"ordinal": 0, "name": "Basic", "checks": [{"id": "a"}]}]}, "levels/0/ordinal"),
    (
        {"levels": [{"ordinal": 1.5, "name": "Basic", "checks": [{"id": "a"}]}]},
        "levels/0/ordinal",
    ),
    ({"levels": [{"ordinal": 1, "name": "", "checks": [{"id": "a"}]}]}, "levels/0/name"),
    (
        {"levels": [{"ordinal": 1, "name": "B", "checks": [{"id": "a"}], "colour": 1}]},
        "levels/0/colour",
    ),
    (
        {
            "levels": [
                {
                    "ordinal": 1,
                    "name": "B",
                    "checks": [{"id": "a", "name": "A"}],
                    "badge": {"color": "#12"},
                }
            ]
        },
        "levels/0/badge/color",
    ),
    ({"levels": [{"ordinal": 1, "name": "B", "checks": ["a"]}]}, "levels/0/checks/0"),
    (
        {"levels": [{"ordinal": 1, "name": "B", "checks": [{"name": "A"}]}]},
        "levels/0/checks/0/id",
    ),
]


@pytest.mark.parametrize(("change", "member"), ATTRIBUTE_CASES)
def test_each_rule_is_refused_at_its_member(client, change, member):
    errors = refused(client, "POST", TRACKS, seed_track(**change))
    assert f"/data/attributes/{member}" in errors, errors


def test_ordinals_are_unique_within_a_track(client):
    document = seed_track()
    document["data"]["attributes"]["levels"][1]["ordinal"] = 1
    errors = refused(client, "POST", TRACKS, document)
    assert errors["/data/attributes/levels/1/ordinal"]["code"] == "duplicate_ordinal"


def test_a_check_appears_once_per_track(client):
    document = seed_track()
    document["data"]["attributes"]["levels"][1]["checks"].append(
        {"id": "python_service_runs_tests"}
    )
    errors = refused(client, "POST", TRACKS, document)
    assert errors["/data/attributes/levels/1/checks/1/id"]["code"] == "duplicate_check"


def test_an_unknown_check_id_is_refused_where_it_is_named(client):
    make_check(slug="has-readme")
    document = seed_track()
    document["data"]["attributes"]["levels"][0]["checks"] = [
        {"id": "has-readme"},
        {"id": "no-such-check"},
    ]
    errors = refused(client, "POST", TRACKS, document)
    assert set(errors) == {"/data/attributes/levels/0/checks/1/id"}
    assert errors["/data/attributes/levels/0/checks/1/id"]["code"] == "unknown_check"


def test_another_organizations_check_is_unknown(client):
    make_check(slug="has-readme", organization=make_organization())
    document = seed_track()
    document["data"]["attributes"]["levels"][0]["checks"] = [{"id": "has-readme"}]
    errors = refused(client, "POST", TRACKS, document)
    assert "/data/attributes/levels/0/checks/0/id" in errors


def test_an_inline_check_is_validated_as_a_check(client):
    document = seed_track()
    document["data"]["attributes"]["levels"][1]["checks"][0].update(
        {"name": "", "kind": "rule", "filter": {"x": []}}
    )
    errors = refused(client, "POST", TRACKS, document)
    for member in ("name", "filter/x"):
        assert f"/data/attributes/levels/1/checks/0/{member}" in errors, errors


@pytest.mark.parametrize("member", ["createdAt", "updatedAt"])
def test_the_servers_timestamps_are_refused_not_replaced(client, member):
    errors = refused(client, "POST", TRACKS, seed_track(**{member: "2020-01-01T00:00:00Z"}))
    assert errors[f"/data/attributes/{member}"]["code"] == "read_only"


def test_the_seeds_type_member_is_track_type(client):
    response = client.post_doc(TRACKS, seed_track(type="campaign"))
    assert response.status_code == 400
    assert the_error(response, 400)["source"] == {"pointer": "/data/attributes/type"}


@pytest.mark.parametrize(
    ("change", "member"),
    [
        ({"start-date": None}, "start-date"),
        ({"target-completion-date": None}, "target-completion-date"),
        ({"target-completion-date": "2026-12-31"}, "target-completion-date"),
        ({"start-date": "2027-02-30"}, "start-date"),
        ({"milestones": [{"name": "Late", "date": "2027-07-01"}]}, "milestones/0/date"),
        ({"milestones": [{"name": "Early", "date": "2026-12-31"}]}, "milestones/0/date"),
        ({"milestones": [{"name": "", "date": "2027-02-01"}]}, "milestones/0/name"),
        ({"milestones": [{"name": "X", "date": "soon"}]}, "milestones/0/date"),
        ({"milestones": [{"name": "X", "date": "2027-02-01", "level": 3}]}, "milestones/0/level"),
        ({"milestones": [{"name": "X", "date": "2027-02-01", "owner": 1}]}, "milestones/0/owner"),
        ({"milestones": {"name": "X"}}, "milestones"),
    ],
)
def test_campaign_rules(client, change, member):
    errors = refused(client, "POST", TRACKS, campaign(**change))
    assert f"/data/attributes/{member}" in errors, errors


def test_milestones_need_a_campaigns_dates(client):
    document = seed_track(milestones=[{"name": "Kick-off", "date": "2027-01-15"}])
    errors = refused(client, "POST", TRACKS, document)
    assert "/data/attributes/milestones/0/date" in errors


def test_an_update_breaking_a_campaign_with_stored_dates_is_refused(client):
    client.post_doc(TRACKS, campaign())
    document = {
        "data": {
            "type": "soundcheck-tracks",
            "id": "q1-reliability",
            "attributes": {"target-completion-date": "2026-01-01"},
        }
    }
    before = snapshot()
    response = client.patch_doc(f"{TRACKS}/q1-reliability", document)
    assert response.status_code in (409, 422), response.document
    assert snapshot() == before


def test_new_levels_must_keep_the_levels_milestones_name(client):
    client.post_doc(TRACKS, campaign())
    document = {
        "data": {
            "type": "soundcheck-tracks",
            "id": "q1-reliability",
            "attributes": {
                "levels": [{"ordinal": 2, "name": "Only", "checks": [{"id": "coverage_above_80"}]}]
            },
        }
    }
    errors = refused(client, "PATCH", f"{TRACKS}/q1-reliability", document)
    assert "/data/attributes/milestones/1/level" in errors


# Checks.


def test_a_check_is_created_with_every_member(client):
    rule = {
        "all": [
            {
                "fact-ref": "catalog:default/entity_descriptor",
                "path": "$.spec.lifecycle",
                "operator": "equal",
                "value": "production",
            },
            {
                "any": [
                    {
                        "fact-ref": "github:default/repo",
                        "path": "$.stars",
                        "operator": "greaterThanInclusive",
                        "value": 10,
                    },
                    {
                        "fact-ref": "github:default/repo",
                        "path": "$.topics",
                        "operator": "in",
                        "value": ["music", "audio"],
                    },
                ]
            },
        ]
    }
    values = {
        "name": "Lifecycle is production",
        "description": "The entity is in production",
        "owner-entity-ref": "group:default/platform",
        "kind": "rule",
        "rule": rule,
        "passed-message": "In production.",
        "failed-message": "Set spec.lifecycle to production.",
        "not-applicable-message": "Not a component.",
        "filter": {"kind": "Component"},
        "exclude": {"spec.type": ["library"]},
    }
    response = client.post_doc(CHECKS, check_document("lifecycle_defined", **values))
    assert response.status_code == 201, response.document
    assert {k: v for k, v in attributes(response).items() if k in values} == values
    assert {"createdAt", "updatedAt"} <= set(attributes(response))


RULE_CASES = [
    ({"kind": "rule"}, "rule"),
    (
        {
            "kind": "external",
            "rule": {"fact-ref": "a:b", "path": "$", "operator": "equal", "value": 1},
        },
        "rule",
    ),
    ({"kind": "rule", "rule": []}, "rule"),
    (
        {
            "kind": "rule",
            "rule": {"fact-ref": "f:x", "path": "$.a", "operator": "like", "value": 1},
        },
        "rule/operator",
    ),
    (
        {
            "kind": "rule",
            "rule": {"fact-ref": "f:x", "path": "spec", "operator": "equal", "value": 1},
        },
        "rule/path",
    ),
    (
        {
            "kind": "rule",
            "rule": {"fact-ref": "f:x", "path": "$.a", "operator": "lessThan", "value": "5"},
        },
        "rule/value",
    ),
    (
        {
            "kind": "rule",
            "rule": {"fact-ref": "f:x", "path": "$.a", "operator": "matches", "value": "(unclosed"},
        },
        "rule/value",
    ),
    (
        {"kind": "rule", "rule": {"fact-ref": "f:x", "path": "$.a", "operator": "in", "value": []}},
        "rule/value",
    ),
    (
        {"kind": "rule", "rule": {"path": "$.a", "operator": "equal", "value": 1}},
        "rule/fact-ref",
    ),
    ({"kind": "rule", "rule": {"all": []}}, "rule/all"),
    (
        {
            "kind": "rule",
            "rule": {
                "any": [
                    {"fact-ref": "f:x", "path": "$.a", "operator": "equal", "value": 1},
                    {"oops": 1},
                ]
            },
        },
        "rule/any/1/oops",
    ),
    (
        {
            "kind": "rule",
            "rule": {
                "all": [
                    {
                        "all": [
                            {
                                "all": [
                                    {
                                        "all": [
                                            {
                                                "all": [
                                                    {
                                                        "fact-ref": "f:x",
                                                        "path": "$",
                                                        "operator": "equal",
                                                        "value": 1,
                                                    }
                                                ]
                                            }
                                        ]
                                    }
                                ]
                            }
                        ]
                    }
                ]
            },
        },
        "rule/all/0/all/0/all/0/all/0/all/0",
    ),
    ({"kind": "magic"}, "kind"),
    ({"owner-entity-ref": "nobody"}, "owner-entity-ref"),
    ({"filter": {"kind": ""}}, "filter/kind"),
    ({"name": ""}, "name"),
]


@pytest.mark.parametrize(("change", "member"), RULE_CASES)
def test_each_check_rule_is_refused_at_its_member(client, change, member):
    errors = refused(client, "POST", CHECKS, check_document(**change))
    assert f"/data/attributes/{member}" in errors, errors


def test_a_check_in_use_cannot_be_deleted_and_an_unused_one_can(client):
    client.post_doc(TRACKS, seed_track())
    error = the_error(client.delete(f"{CHECKS}/coverage_above_80"), 409)
    assert error["code"] == "in_use"
    client.post_doc(CHECKS, check_document())
    assert client.delete(f"{CHECKS}/has-readme").status_code == 204
    assert not Check.objects.filter(slug="has-readme").exists()


# Editing, archiving, deleting.


def test_a_track_that_is_not_editable_is_changed_in_the_admin_only(client):
    client.post_doc(TRACKS, seed_track(**{"is-editable": False}))
    document = {
        "data": {
            "type": "soundcheck-tracks",
            "id": "test-certified",
            "attributes": {"is-editable": True},
        }
    }
    error = the_error(client.patch_doc(f"{TRACKS}/test-certified", document), 403)
    assert error["code"] == "not_editable" and "admin" in error["detail"]
    assert the_error(client.delete(f"{TRACKS}/test-certified"), 403)["code"] == "not_editable"
    assert SoundcheckTrack.objects.get(slug="test-certified").is_editable is False


def test_a_track_is_deleted_with_its_levels_but_not_its_checks(client):
    client.post_doc(TRACKS, seed_track())
    assert client.delete(f"{TRACKS}/test-certified").status_code == 204
    assert not Level.objects.exists()
    assert Check.objects.count() == 2


def test_a_viewer_reads_but_does_not_write(client, viewer, make_token):
    client.post_doc(TRACKS, seed_track())
    reader = JsonApiClient(make_token(viewer))
    assert reader.get(f"{TRACKS}/test-certified").status_code == 200
    assert reader.post_doc(CHECKS, check_document()).status_code == 403


def test_an_editor_with_the_soundcheck_permissions_writes(editor, make_token, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("sc-editor")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="soundcheck"))
    add_member(user, role="editor")
    writer = JsonApiClient(make_token(user))
    assert writer.post_doc(TRACKS, seed_track()).status_code == 201


# Lists.


@pytest.fixture
def catalog():
    checks = [make_check(slug=slug) for slug in ("has-readme", "has-owner", "has-tests")]
    make_soundcheck_track(slug="basics", name="Basics", checks=checks[:2], group="Quality")
    make_soundcheck_track(slug="testing", name="Testing", checks=checks[2:], draft=True)
    make_soundcheck_track(
        slug="q1",
        name="Q1 push",
        checks=checks[1:],
        track_type="campaign",
        start_date="2027-01-01",
        target_completion_date="2027-03-31",
        owner_entity_ref="group:default/sre",
    )
    make_soundcheck_track(
        slug="q2",
        name="Archive me",
        checks=checks[:1],
        track_type="campaign",
        start_date="2027-04-01",
        target_completion_date="2027-06-30",
        archived=True,
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filter[track-type]=campaign", ["q1", "q2"]),
        ("filter[track-type]=standard", ["basics", "testing"]),
        ("filter[owner-entity-ref]=Group:SRE", ["q1"]),
        ("filter[group]=Quality", ["basics"]),
        ("filter[archived]=true", ["q2"]),
        ("filter[draft]=true", ["testing"]),
        ("filter[check]=has-owner", ["basics", "q1"]),
        ("filter[check]=has-tests", ["testing", "q1"]),
        ("filter[id]=q1,basics", ["basics", "q1"]),
        ("sort=name", ["q2", "basics", "q1", "testing"]),
        ("sort=-name", ["testing", "q1", "basics", "q2"]),
        ("filter[track-type]=campaign&sort=-start-date", ["q2", "q1"]),
        ("sort=createdAt", ["basics", "testing", "q1", "q2"]),
    ],
)
def test_track_filters_and_sorts(client, catalog, query, expected):
    response = client.get(f"{TRACKS}?{query}")
    assert response.status_code == 200, response.document
    ids_found = ids(response)
    assert ids_found == expected if "sort" in query else sorted(ids_found) == sorted(expected)


@pytest.mark.parametrize(
    "query", ["filter[track-type]=program", "filter[archived]=maybe", "sort=levels"]
)
def test_bad_list_parameters_are_400s(client, catalog, query):
    the_error(client.get(f"{TRACKS}?{query}"), 400)


def test_listing_tracks_costs_the_same_queries_for_one_or_many(client, catalog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (1, 4):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{TRACKS}?page[size]={size}")
        assert len(response.document["data"]) == size
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_check_filters(client, catalog):
    make_check(
        slug="lifecycle",
        kind="rule",
        rule={"fact-ref": "f:x", "path": "$", "operator": "equal", "value": 1},
    )
    assert ids(client.get(f"{CHECKS}?filter[kind]=rule")) == ["lifecycle"]
    assert ids(client.get(f"{CHECKS}?filter[name.icontains]=OWNER")) == ["has-owner"]


def test_a_patch_keeps_members_it_does_not_name(client):
    client.post_doc(TRACKS, seed_track())
    before = copy.deepcopy(attributes(client.get(f"{TRACKS}/test-certified")))
    document = {
        "data": {
            "type": "soundcheck-tracks",
            "id": "test-certified",
            "attributes": {"support-channel": "#help"},
        }
    }
    after = attributes(client.patch_doc(f"{TRACKS}/test-certified", document))
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"support-channel", "updatedAt"}
