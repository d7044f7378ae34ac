"""manage.py import_soundcheck and export_soundcheck: Soundcheck's YAML configuration in and
out, validated by the API's own serializers."""

import io
import json
import textwrap
from datetime import date
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from soundcheck.models import Certification, Check, CheckResult, Level, SoundcheckTrack
from tests.factories import default_organization, make_organization

from .conftest import CERTIFICATIONS, RESULTS, TRACKS, result_document

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
CHECKS_YAML = DATA / "checks.yaml"
TRACKS_YAML = DATA / "tracks.yaml"


def run(*files, organization="acme", **options):
    """import_soundcheck ``files``: (stdout, stderr); raises CommandError as the command."""
    default_organization()
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_soundcheck",
        *map(str, files),
        organization=organization,
        stdout=out,
        stderr=err,
        **options,
    )
    return out.getvalue(), err.getvalue()


def failing(*files, **options):
    """import_soundcheck that must fail: (the CommandError's message, stdout, stderr)."""
    default_organization()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(
            "import_soundcheck",
            *map(str, files),
            organization=options.pop("organization", "acme"),
            stdout=out,
            stderr=err,
            **options,
        )
    return str(failure.value), out.getvalue(), err.getvalue()


def export(organization="acme"):
    out = io.StringIO()
    call_command("export_soundcheck", organization=organization, stdout=out)
    return out.getvalue()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def levels_of(track_id, organization=None):
    track = SoundcheckTrack.objects.get(
        organization=organization or default_organization(), slug=track_id
    )
    return [
        (level.ordinal, [lc.check_definition.slug for lc in level.level_checks.all()])
        for level in Level.objects.filter(track=track).order_by("ordinal")
    ]


# The configuration in tests/soundcheck/data


def test_imports_a_soundcheck_configuration(client):
    out, err = run(CHECKS_YAML, TRACKS_YAML)

    assert err == ""
    assert "checks: 7 created, 0 updated, 0 skipped, 0 failed" in out
    assert "tracks: 3 created, 0 updated, 0 skipped, 0 failed" in out
    # Soundcheck's schedule is not kept, and the import says so.
    assert "checks.yaml: item 2 (id lifecycle_defined): schedule is not kept" in out

    checks = {check.slug: check for check in Check.objects.all()}
    assert {slug: check.kind for slug, check in checks.items()} == {
        "has_readme": "rule",
        "lifecycle_defined": "rule",
        "few-open-issues-private-repo": "rule",
        "service-definition-complete": "rule",
        "security-review": "manual",  # type: manual
        "ci-tests-passing": "external",  # neither type nor rule
        "has-on-call-rotation": "external",
    }
    # factRef is fact-ref; a bare list of conditions is all of them.
    assert checks["few-open-issues-private-repo"].rule == {
        "all": [
            {"fact-ref": "github:default/repo_details", "path": "$.open_issues",
             "operator": "lessThan", "value": 10},
            {"fact-ref": "github:default/repo_details", "path": "$.private",
             "operator": "equal", "value": True},
        ]
    }  # fmt: skip
    nested = checks["service-definition-complete"].rule["all"][1]["any"]
    assert [condition["operator"] for condition in nested] == ["matches", "greaterThanInclusive"]
    assert nested[0]["value"] == r"^[a-z0-9.-]+@example\.com$"
    # {catalog: {...}} filters are unwrapped.
    assert checks["few-open-issues-private-repo"].filter == {"spec.type": ["service", "website"]}
    assert checks["has-on-call-rotation"].filter == {"spec.lifecycle": "production"}
    assert checks["ci-tests-passing"].exclude == {"metadata.tags": ["experimental", "deprecated"]}
    assert checks["has_readme"].owner_entity_ref == "group:default/developer-experience"
    assert checks["has_readme"].failed_message == "Add a README.md at the root of the repository."
    assert checks["service-definition-complete"].not_applicable_message == (
        "Only services have a service definition."
    )
    # A check without a name is created under its id; the track's level names it.
    assert checks["lifecycle_defined"].name == "Lifecycle is defined"
    assert checks["lifecycle_defined"].description.startswith("The catalog-info.yaml says")

    assert levels_of("basic-setup") == [
        (1, ["has_readme", "lifecycle_defined"]),
        (2, ["few-open-issues-private-repo", "ci-tests-passing"]),
        (3, ["security-review"]),
    ]
    assert levels_of("on-call-q3") == [(1, ["has-on-call-rotation"]), (2, ["security-review"])]

    # Through the API, members as the API names them.
    basic = client.get(f"{TRACKS}/basic-setup").document["data"]["attributes"]
    assert basic["documentation-url"] == "https://backstage.io/docs/features/software-catalog/"
    assert basic["badge-type"] == "medal"
    assert basic["support-channel"] == "#basic-setup"
    assert basic["track-type"] == "standard"
    assert basic["levels"][0]["badge"] == {"color": "#cd7f32", "type": "medal"}
    tested = client.get(f"{TRACKS}/test-certified").document["data"]["attributes"]
    assert tested["filter"] == {"metadata.tags": "python"}
    campaign = client.get(f"{TRACKS}/on-call-q3").document["data"]["attributes"]
    # type is track-type; YAML's dates (read by PyYAML as dates) arrive as ISO dates.
    assert campaign["track-type"] == "campaign"
    assert (campaign["start-date"], campaign["target-completion-date"]) == (
        "2025-07-01",
        "2025-09-30",
    )
    assert campaign["milestones"] == [
        {"name": "Rotations set up", "date": "2025-08-15", "level": 1},
        {"name": "Reviews signed off", "date": "2025-09-30", "level": 2},
    ]


def certifications_of(client, entity_ref):
    response = client.get(CERTIFICATIONS, {"filter[entity-ref]": entity_ref})
    assert response.status_code == 200, response.document
    return {
        item["relationships"]["track"]["data"]["id"]: item["attributes"]
        for item in response.document["data"]
    }


def entities_of(client, track_id, status):
    response = client.get(f"{TRACKS}/{track_id}/entities", {"filter[status]": status})
    assert response.status_code == 200, response.document
    return sorted(item["attributes"]["entity-ref"] for item in response.document["data"])


def status_of(client, track_id):
    response = client.get(f"{TRACKS}/{track_id}/status")
    assert response.status_code == 200, response.document
    meta = response.document["meta"]
    return meta["number-of-entities"], {
        level["ordinal"]: (
            level["passed"],
            level["failed"],
            level["cumulatively-passed"],
            level["not-reported"],
        )
        for level in meta["status-by-level"]
    }


def test_certifies_entities_on_the_imported_tracks(client):
    """The done criterion: the realistic configuration loaded by the command, results
    submitted through the API for three entities, their certifications and each track's
    aggregate as the rules give them (worked out by hand below)."""
    run(CHECKS_YAML, TRACKS_YAML)
    payments = "component:default/payments"
    checkout = "component:default/checkout"
    docs = "component:default/docs-site"
    results = [
        # payments: Bronze and Silver of basic-setup (a warning certifies), not Gold.
        ("has_readme", "Component:payments", "passed"),  # stored as component:default/...
        ("lifecycle_defined", payments, "passed"),
        ("few-open-issues-private-repo", payments, "passed"),
        ("ci-tests-passing", payments, "warning"),
        ("security-review", payments, "failed"),
        ("service-definition-complete", payments, "passed"),
        # checkout: its lifecycle check fails, CI failed and then passed (the latest counts).
        ("has_readme", checkout, "passed"),
        ("lifecycle_defined", checkout, "failed"),
        ("ci-tests-passing", checkout, "failed"),
        ("ci-tests-passing", checkout, "passed"),
        ("security-review", checkout, "passed"),
        ("has-on-call-rotation", checkout, "passed"),
        # docs-site: CI does not apply to it (certifies), the on-call check errored.
        ("ci-tests-passing", docs, "not-applicable"),
        ("service-definition-complete", docs, "passed"),
        ("has-on-call-rotation", docs, "error"),
    ]
    for check_id, entity_ref, state in results:
        response = client.post_doc(RESULTS, result_document(check_id, entity_ref, state))
        assert response.status_code == 201, response.document
    assert CheckResult.objects.count() == len(results)

    # basic-setup: 1 {has_readme, lifecycle_defined}, 2 {few-open-issues..., ci-tests-passing},
    # 3 {security-review}. test-certified: 1 {ci-tests-passing}, 2 {service-definition-complete}.
    # on-call-q3: 1 {has-on-call-rotation}, 2 {security-review}.
    payments_certs = certifications_of(client, payments)
    assert {track: cert["highest-level"] for track, cert in payments_certs.items()} == {
        "basic-setup": 2,  # passed+passed, passed+warning, failed
        "test-certified": 2,  # warning, passed
        "on-call-q3": None,  # not reported, failed
    }
    assert [level["certified"] for level in payments_certs["basic-setup"]["levels"]] == [
        True,
        True,
        False,
    ]
    silver = payments_certs["basic-setup"]["levels"][1]["checks"]
    assert [(check["id"], check["state"]) for check in silver] == [
        ("few-open-issues-private-repo", "passed"),
        ("ci-tests-passing", "warning"),
    ]
    on_call = payments_certs["on-call-q3"]["levels"]
    assert [check["state"] for level in on_call for check in level["checks"]] == [
        "not-reported",
        "failed",
    ]

    checkout_certs = certifications_of(client, checkout)
    assert {track: cert["highest-level"] for track, cert in checkout_certs.items()} == {
        "basic-setup": None,  # Bronze fails (lifecycle), though Gold alone is met
        "test-certified": 1,  # CI passed at last; service definition not reported
        "on-call-q3": 2,  # rotation passed, review passed
    }
    assert [level["certified"] for level in checkout_certs["basic-setup"]["levels"]] == [
        False,
        False,  # few-open-issues... not reported
        True,
    ]

    docs_certs = certifications_of(client, docs)
    assert {track: cert["highest-level"] for track, cert in docs_certs.items()} == {
        "basic-setup": None,  # only ci-tests-passing reported (not applicable)
        "test-certified": 2,  # not applicable certifies, passed
        "on-call-q3": None,  # an error does not certify
    }

    # Each track: (entities), per ordinal (passed, failed, cumulatively-passed, not-reported).
    # basic-setup, level 1: payments passed, checkout failed, docs reported nothing;
    # level 2: payments passed, checkout (ci passed, issues not reported) and docs
    # (n/a, not reported) failed; level 3: checkout passed, payments failed, docs nothing.
    assert status_of(client, "basic-setup") == (
        3,
        {1: (1, 1, 1, 1), 2: (1, 2, 1, 0), 3: (1, 1, 0, 1)},
    )
    # test-certified, level 1: all three (warning, passed, not-applicable); level 2:
    # payments and docs passed, checkout reported nothing.
    assert status_of(client, "test-certified") == (3, {1: (3, 0, 3, 0), 2: (2, 0, 2, 1)})
    # on-call-q3, level 1: checkout passed, docs failed (error), payments nothing;
    # level 2: checkout passed, payments failed, docs nothing.
    assert status_of(client, "on-call-q3") == (3, {1: (1, 1, 1, 1), 2: (1, 1, 1, 1)})

    assert entities_of(client, "basic-setup", "passed") == [payments]
    assert entities_of(client, "basic-setup", "failed") == [checkout, docs]
    assert entities_of(client, "test-certified", "passed") == [checkout, docs, payments]
    assert entities_of(client, "test-certified", "failed") == []
    assert entities_of(client, "on-call-q3", "passed") == [checkout]
    assert entities_of(client, "on-call-q3", "failed") == [docs, payments]


# Problems: each reported with its file, item and path; the other items are imported


BAD_CHECKS = """\
    - id: bad-operator
      name: Bad operator
      rule:
        all:
          - {factRef: github:default/repo_details, path: $.a, operator: equals, value: 1}
    - id: fine
      name: A fine check
    - id: bad-number
      name: Bad number
      rule:
        - factRef: github:default/repo_details
          path: $.open_issues
          operator: lessThan
          value: ten
    - id: bad-owner
      name: Bad owner
      ownerEntityRef: not a reference
    - id: unknown-key
      name: Unknown key
      severity: high
    - id: manual-with-rule
      name: Manual with a rule
      type: manual
      rule: {factRef: github:default/repo_details, path: $.private, operator: equal, value: true}
    - id: bad-filter
      name: Bad filter
      filter: {catalog: {metadata.tags: []}}
    - just a string
    - name: No id
    - id: also fine
      name: Spaces are not allowed in an id
    - id: fine-too
      name: Another fine check
    """

BAD_TRACKS = """\
    tracks:
      - id: unknown-check
        name: Unknown check
        description: Refers to a check that does not exist
        ownerEntityRef: group:default/web
        levels:
          - {ordinal: 1, name: One, checks: [{id: fine}, {id: nope}]}
      - id: campaign-without-target
        name: Campaign without a target
        type: campaign
        description: A campaign needs both dates
        ownerEntityRef: group:default/web
        startDate: 2025-01-01
        levels: [{ordinal: 1, name: One, checks: [{id: fine}]}]
      - id: bad-inline-check
        name: Bad inline check
        description: Defines a check in its level, with a bad owner
        ownerEntityRef: group:default/web
        levels:
          - ordinal: 1
            name: One
            checks:
              - {id: fine}
              - {id: brand-new, name: Brand new, ownerEntityRef: nobody}
      - id: good-track
        name: Good track
        description: Uses the fine checks
        ownerEntityRef: group:default/web
        levels:
          - {ordinal: 1, name: One, checks: [{id: fine}]}
          - {ordinal: 2, name: Two, checks: [{id: fine-too}, {id: inline-new, name: Inline new}]}
      - id: no-levels
        name: No levels
        description: A track has levels
        ownerEntityRef: group:default/web
    """


def test_reports_each_problem_with_file_item_and_path_and_imports_the_rest(tmp_path):
    checks = write(tmp_path, "checks.yaml", BAD_CHECKS)
    tracks = write(tmp_path, "tracks.yaml", BAD_TRACKS)

    report = tmp_path / "report.jsonl"
    message, out, err = failing(tracks, checks, report=str(report))  # checks first all the same

    assert message == "13 item(s) failed (reported above); the rest were imported."
    assert "checks: 2 created, 0 updated, 0 skipped, 9 failed" in out
    assert "tracks: 1 created, 0 updated, 0 skipped, 4 failed" in out
    lines = err.splitlines()
    expected = [
        f"{checks}: item 1 (id bad-operator): /rule/all/0/operator: operator is one of equal,",
        f"{checks}: item 3 (id bad-number): /rule/0/value: 'lessThan' compares with a number.",
        f"{checks}: item 4 (id bad-owner): /ownerEntityRef: An entity reference is",
        f"{checks}: item 5 (id unknown-key): /severity: 'severity' is not a member of checks.",
        f"{checks}: item 6 (id manual-with-rule): /rule: A manual check has no rule.",
        f"{checks}: item 7 (id bad-filter): /filter/catalog/metadata.tags: A filter's value is",
        f"{checks}: item 8: a check is a mapping of its members.",
        f"{checks}: item 9: /id: a check needs its id (a string).",
        f"{checks}: item 10 (id also fine): /id: An id is 1 to 100 letters, digits,",
        f"{tracks}: tracks item 1 (id unknown-check): /levels/0/checks/1/id: There is no check "
        "'nope'",
        f"{tracks}: tracks item 2 (id campaign-without-target): /targetCompletionDate: A "
        "campaign needs its start date and target completion date.",
        f"{tracks}: tracks item 3 (id bad-inline-check): /levels/0/checks/1/ownerEntityRef: An "
        "entity reference is",
        f"{tracks}: tracks item 5 (id no-levels): /levels: The levels field is required.",
    ]
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), line
    # The report file has the same problems, one JSON object per line.
    reported = [json.loads(line) for line in report.read_text().splitlines()]
    assert [f"{p['file']}: {p['where']}: " for p in reported][:2] == [
        f"{checks}: item 1 (id bad-operator): ",
        f"{checks}: item 3 (id bad-number): ",
    ]
    assert reported[0]["item"] == "item 1" and reported[0]["id"] == "bad-operator"
    assert reported[0]["pointer"] == "/rule/all/0/operator"
    assert reported[0]["message"].startswith("operator is one of equal,")
    assert reported[6] == {
        "file": str(checks), "item": "item 8", "where": "item 8", "pointer": "",
        "message": "a check is a mapping of its members.",
    }  # fmt: skip
    assert len(reported) == len(lines)

    assert set(Check.objects.values_list("slug", flat=True)) == {"fine", "fine-too", "inline-new"}
    assert list(SoundcheckTrack.objects.values_list("slug", flat=True)) == ["good-track"]
    assert levels_of("good-track") == [(1, ["fine"]), (2, ["fine-too", "inline-new"])]
    # The failed track's inline check was not created: its savepoint was rolled back.
    assert not Check.objects.filter(slug="brand-new").exists()


def test_malformed_yaml_names_the_file_and_line_and_imports_nothing(tmp_path):
    broken = write(
        tmp_path,
        "broken.yaml",
        """\
        - id: has-readme
          name: Has a README
        - id: lifecycle
          name: [unclosed
        """,
    )
    message, _, _ = failing(CHECKS_YAML, broken)

    assert message.startswith(f"{broken}: line 5, column 1: not valid YAML:")
    assert not Check.objects.exists()  # not even the valid file before it


def test_what_the_api_refuses_in_any_document_is_refused_in_an_item(tmp_path):
    """A NUL (which PostgreSQL cannot store), however it is written, and nesting deeper
    than the API takes (an alias that holds itself, say) fail their item, where they are,
    as the API refuses a document holding them; the other items are imported."""
    checks = write(
        tmp_path,
        "checks.yaml",
        """\
        - id: "has\\0readme"
          name: A check
        - id: fine
          rule: {factRef: "scm:default/x", path: $.a, operator: equal, value: "\\0"}
        - &loop
          id: loop
          rule: *loop
        - id: fine-too
        """,
    )
    message, _, err = failing(checks)

    assert message == "3 item(s) failed (reported above); the rest were imported."
    lines = err.splitlines()
    nul = "Strings may not contain NUL (U+0000) characters."
    assert lines[0] == f"{checks}: item 1 (id has\x00readme): /id: {nul}"
    assert lines[1] == f"{checks}: item 2 (id fine): /rule/value: {nul}"
    assert lines[2] == (
        f"{checks}: item 3 (id loop): {'/rule' * 63}: The document is nested deeper than 64 levels."
    )
    assert list(Check.objects.values_list("slug", flat=True)) == ["fine-too"]


def test_keys_that_are_not_strings_fail_their_item(tmp_path):
    """YAML names members by numbers, nulls or dates too; a JSON document only by
    strings: such an item fails where the key is (the API's rules compare its keys)."""
    checks = write(
        tmp_path,
        "checks.yaml",
        """\
        - id: numbered
          rule: {factRef: "scm:default/x", path: $.a, operator: equal, value: {0: 1, a: 2}}
        - id: nulled
          rule: {null: 1}
        - id: fine
        """,
    )
    message, _, err = failing(checks)

    assert message == "2 item(s) failed (reported above); the rest were imported."
    assert err.splitlines() == [
        f"{checks}: item 1 (id numbered): /rule/value/0: A key is a string, as in JSON.",
        f"{checks}: item 2 (id nulled): /rule/None: A key is a string, as in JSON.",
    ]
    assert list(Check.objects.values_list("slug", flat=True)) == ["fine"]


def test_a_level_may_name_a_check_a_later_track_defines(tmp_path):
    """Tracks in any order: a level naming a check by id alone, which a later track
    defines in its own levels, is imported on the first run (a failed track is tried
    again once the others are in), and its problems, should it fail again, are told once."""
    tracks = write(
        tmp_path,
        "tracks.yaml",
        """\
        tracks:
          - id: early
            name: Early
            description: A track
            ownerEntityRef: group:default/web
            levels: [{ordinal: 1, name: One, checks: [{id: later-check}]}]
          - id: broken
            name: Broken
            description: A track
            ownerEntityRef: group:default/web
            levels: [{ordinal: 1, name: One, checks: [{id: nowhere}]}]
          - id: late
            name: Late
            description: A track
            ownerEntityRef: group:default/web
            levels: [{ordinal: 1, name: One, checks: [{id: later-check, name: Later}]}]
        """,
    )
    message, out, err = failing(tracks)

    assert message == "1 item(s) failed (reported above); the rest were imported."
    assert "tracks: 2 created, 0 updated, 0 skipped, 1 failed" in out
    assert len(err.splitlines()) == 1 and "(id broken)" in err
    assert levels_of("early") == levels_of("late") == [(1, ["later-check"])]


def test_an_id_is_looked_up_as_it_is_stored(tmp_path):
    """An id the API trims (`` ci``) is stored trimmed: a second run finds it so."""
    checks = write(tmp_path, "checks.yaml", "- id: ' ci'\n  name: Padded\n")
    run(checks)
    out, _ = run(checks)
    assert "checks: 0 created, 1 updated" in out
    assert list(Check.objects.values_list("slug", flat=True)) == ["ci"]


def test_an_include_whose_name_holds_a_nul_is_refused(tmp_path):
    path = write(tmp_path, "app.yaml", 'checks: {$include: "nul\\0.yaml"}\n')
    message, _, _ = failing(path)
    assert message.startswith(f"{tmp_path / 'nul'}")
    assert "cannot be read" in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("just text\n", "expected a list of checks or tracks"),
        ("soundcheck: [a, b]\n", "'soundcheck' is a mapping of checks and tracks."),
        ("checks: 12\n", "'checks' is a list of checks."),
    ],
)
def test_a_file_of_another_shape_is_refused(tmp_path, text, problem):
    path = write(tmp_path, "odd.yaml", text)
    message, _, _ = failing(path)
    assert message.startswith(f"{path}: ")
    assert problem in message


def test_a_missing_file_is_refused(tmp_path):
    message, _, _ = failing(tmp_path / "missing.yaml")
    assert message.startswith(f"{tmp_path / 'missing.yaml'}: cannot be read")


# Options


def test_dry_run_validates_everything_and_writes_nothing(tmp_path):
    out, err = run(CHECKS_YAML, TRACKS_YAML, dry_run=True)
    assert out.splitlines()[-3:] == [
        "Dry run, nothing written: organization acme",
        "  checks: 7 created, 0 updated, 0 skipped, 0 failed",
        "  tracks: 3 created, 0 updated, 0 skipped, 0 failed",
    ]
    assert err == ""
    assert not Check.objects.exists()
    assert not SoundcheckTrack.objects.exists()
    assert not Level.objects.exists()

    # Problems are reported as in a real run (the tracks still find the dry run's checks).
    checks = write(tmp_path, "checks.yaml", BAD_CHECKS)
    tracks = write(tmp_path, "tracks.yaml", BAD_TRACKS)
    message, out, err = failing(checks, tracks, dry_run=True)
    assert message == "13 item(s) failed (reported above); the rest were validated."
    assert "tracks: 1 created, 0 updated, 0 skipped, 4 failed" in out
    assert len(err.splitlines()) == 13
    assert not Check.objects.exists()
    assert not SoundcheckTrack.objects.exists()


def test_skip_existing_leaves_existing_ids_alone(tmp_path):
    run(CHECKS_YAML)
    Check.objects.filter(slug="has_readme").update(name="Our own README check")
    Check.objects.filter(slug="lifecycle_defined").update(name="Our lifecycle check")

    out, err = run(CHECKS_YAML, TRACKS_YAML, skip_existing=True)

    assert err == ""
    assert "checks: 0 created, 0 updated, 7 skipped, 0 failed" in out
    assert "tracks: 3 created, 0 updated, 0 skipped, 0 failed" in out
    assert "checks.yaml: item 1 (id has_readme): skipped, the check exists." in out
    assert Check.objects.get(slug="has_readme").name == "Our own README check"
    # The level that names lifecycle_defined refers to it without renaming it.
    assert Check.objects.get(slug="lifecycle_defined").name == "Our lifecycle check"

    out, _ = run(TRACKS_YAML, skip_existing=True)
    assert "tracks: 0 created, 0 updated, 3 skipped, 0 failed" in out
    assert "tracks.yaml: programs item 3 (id on-call-q3): skipped, the track exists." in out


def test_existing_ids_are_updated_and_levels_replaced(tmp_path):
    run(CHECKS_YAML, TRACKS_YAML)
    Check.objects.filter(slug="has_readme").update(description="Changed in the meantime")
    changed = write(
        tmp_path,
        "changed.yaml",
        """\
        checks:
          - id: has_readme
            name: Has a README file
          - id: lifecycle_defined
            name: Lifecycle is defined
        programs:
          - id: basic-setup
            name: Basic Setup, reworked
            levels:
              - ordinal: 1
                name: Bronze
                checks: [{id: has_readme}, {id: security-review}]
        """,
    )
    out, err = run(changed)

    assert err == ""
    assert "checks: 0 created, 2 updated, 0 skipped, 0 failed" in out
    assert "tracks: 0 created, 1 updated, 0 skipped, 0 failed" in out
    readme = Check.objects.get(slug="has_readme")
    # Members the item leaves out stay; one with neither rule nor type is external.
    assert readme.name == "Has a README file"
    assert readme.description == "Changed in the meantime"
    assert readme.owner_entity_ref == "group:default/developer-experience"
    assert (readme.kind, readme.rule) == ("external", None)
    assert readme.passed_message == "The repository has a README."
    track = SoundcheckTrack.objects.get(slug="basic-setup")
    assert track.name == "Basic Setup, reworked"
    assert track.documentation_url == "https://backstage.io/docs/features/software-catalog/"
    assert levels_of("basic-setup") == [(1, ["has_readme", "security-review"])]


def test_a_track_that_is_not_editable_is_not_updated(tmp_path):
    run(CHECKS_YAML, TRACKS_YAML)
    SoundcheckTrack.objects.filter(slug="test-certified").update(is_editable=False)
    Level.objects.filter(track__slug="test-certified", ordinal=2).delete()

    out, err = run(TRACKS_YAML)

    assert err == ""
    assert "tracks: 0 created, 2 updated, 1 skipped, 0 failed" in out
    assert (
        "tracks.yaml: programs item 2 (id test-certified): not updated, the track is not "
        "editable (isEditable is false): change it in the admin." in out
    )
    assert levels_of("test-certified") == [(1, ["ci-tests-passing"])]


def test_updating_levels_recomputes_certifications(client, tmp_path):
    run(CHECKS_YAML, TRACKS_YAML)
    entity = "component:default/payments"
    for check_id in ("has_readme", "lifecycle_defined"):
        client.post_doc(RESULTS, result_document(check_id, entity, "passed"))
    assert certifications_of(client, entity)["basic-setup"]["highest-level"] == 1

    # Level 1 now also needs the security review, which payments has not reported.
    reworked = write(
        tmp_path,
        "reworked.yaml",
        """\
        id: basic-setup
        levels:
          - ordinal: 1
            name: Bronze
            checks: [{id: has_readme}, {id: lifecycle_defined}, {id: security-review}]
        """,
    )
    run(reworked)
    assert certifications_of(client, entity)["basic-setup"]["highest-level"] is None


def test_organization_is_named_unless_there_is_only_one(tmp_path):
    default_organization()
    out, _ = run(CHECKS_YAML, organization=None)  # acme is the only one
    assert "organization acme" in out

    other = make_organization(slug="globex", name="Globex")
    with pytest.raises(CommandError, match="Name the organization with --organization SLUG"):
        call_command("import_soundcheck", str(CHECKS_YAML), stdout=io.StringIO())
    with pytest.raises(CommandError, match="No organization 'initech'"):
        call_command("import_soundcheck", str(CHECKS_YAML), organization="initech")

    run(CHECKS_YAML, TRACKS_YAML, organization="globex")
    # Ids are per organization: acme's checks and globex's live side by side.
    assert Check.objects.filter(slug="has_readme").count() == 2
    assert SoundcheckTrack.objects.get(slug="basic-setup").organization == other


# File shapes


def test_tracks_under_tracks_programs_or_a_bare_list(tmp_path):
    run(CHECKS_YAML)
    track = """\
        id: minimal
        name: Minimal
        description: One level
        ownerEntityRef: group:default/web
        levels: [{ordinal: 1, name: One, checks: [{id: has_readme}]}]
    """
    indented = textwrap.indent(textwrap.dedent(track), "    ")
    as_tracks = write(tmp_path, "a.yaml", "tracks:\n  -" + indented[3:])
    run(as_tracks)
    assert levels_of("minimal") == [(1, ["has_readme"])]

    SoundcheckTrack.objects.all().delete()
    as_programs = write(tmp_path, "b.yaml", "programs:\n  -" + indented[3:])
    out, _ = run(as_programs)
    assert "tracks: 1 created" in out

    SoundcheckTrack.objects.all().delete()
    bare = write(tmp_path, "c.yaml", "-" + textwrap.indent(textwrap.dedent(track), "  ")[1:])
    out, _ = run(bare)
    assert "tracks: 1 created" in out  # levels make it a track


def test_a_bare_list_is_of_tracks_when_an_item_is_one(tmp_path):
    run(CHECKS_YAML)
    tracks = write(
        tmp_path,
        "tracks.yaml",
        """\
        - id: minimal
          name: Minimal
          description: One level
          ownerEntityRef: group:default/web
          levels: [{ordinal: 1, name: One, checks: [{id: has_readme}]}]
        - id: forgot-levels
          name: Forgot its levels
          description: Not a check for all that
          ownerEntityRef: group:default/web
        """,
    )
    message, out, err = failing(tracks)

    assert message == "1 item(s) failed (reported above); the rest were imported."
    assert "tracks: 1 created, 0 updated, 0 skipped, 1 failed" in out
    assert err == (f"{tracks}: item 2 (id forgot-levels): /levels: The levels field is required.\n")
    assert not Check.objects.filter(slug="forgot-levels").exists()


def test_a_file_with_one_item(tmp_path):
    check = write(
        tmp_path,
        "check.yaml",
        """\
        id: has-changelog
        name: Has a CHANGELOG
        rule: {factRef: scm:default/files, path: $.changelog, operator: equal, value: true}
        """,
    )
    track = write(
        tmp_path,
        "track.yaml",
        """\
        id: release-hygiene
        name: Release hygiene
        description: Releases are documented
        ownerEntityRef: group:default/release
        levels: [{ordinal: 1, name: Documented, checks: [{id: has-changelog}]}]
        """,
    )
    out, err = run(track, check)

    assert err == ""
    assert "checks: 1 created" in out
    assert "tracks: 1 created" in out
    assert Check.objects.get(slug="has-changelog").kind == "rule"
    assert levels_of("release-hygiene") == [(1, ["has-changelog"])]


def test_app_config_with_includes(tmp_path):
    """The demo environment's shape: app-config.yaml includes the lists from files."""
    (tmp_path / "soundcheck").mkdir()
    (tmp_path / "soundcheck" / "checks.yaml").write_text(CHECKS_YAML.read_text())
    tracks = TRACKS_YAML.read_text().replace("programs:\n", "")
    (tmp_path / "soundcheck" / "tracks.yaml").write_text(textwrap.dedent(tracks))
    config = write(
        tmp_path,
        "app-config.yaml",
        """\
        app:
          title: Backstage
        soundcheck:
          programs:
            $include: ./soundcheck/tracks.yaml
          checks:
            $include: ./soundcheck/checks.yaml
          collectors:
            github:
              $include: ./soundcheck/github-fact-collector.yaml
        """,
    )
    out, err = run(config)

    assert err == ""
    assert "checks: 7 created" in out
    assert "tracks: 3 created" in out
    # Reports name the file the item is in.
    assert f"{tmp_path / 'soundcheck' / 'checks.yaml'}: item 2 (id lifecycle_defined)" in out


def test_an_empty_file_imports_nothing(tmp_path):
    empty = write(tmp_path, "empty.yaml", "# nothing yet\n")
    out, _ = run(empty)
    assert f"{empty}: no checks or tracks found." in out


def test_progress_is_drawn_on_a_terminal(tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    default_organization()
    err = Terminal()
    call_command(
        "import_soundcheck",
        str(CHECKS_YAML),
        str(TRACKS_YAML),
        organization="acme",
        stdout=io.StringIO(),
        stderr=err,
    )
    drawn = err.getvalue()
    assert "\r[" + " " * 30 + "]   0% 0 items" in drawn
    assert drawn.endswith("\n")
    final = drawn.rstrip("\n").rpartition("\r")[2]
    assert final.startswith("[" + "#" * 30 + "] 100% 10 items ")
    assert "items/s ETA 0:00" in final


# Export


def test_export_writes_soundcheck_yaml():
    run(CHECKS_YAML, TRACKS_YAML)
    document = yaml.safe_load(export())
    assert list(document) == ["checks", "tracks"]
    checks = {check["id"]: check for check in document["checks"]}
    assert checks["security-review"] == {
        "id": "security-review",
        "name": "Security review signed off",
        "description": "A security engineer reviewed the threat model this year.",
        "ownerEntityRef": "group:default/security",
        "type": "manual",
    }
    assert checks["ci-tests-passing"] == {
        "id": "ci-tests-passing",
        "name": "CI tests pass on the default branch",
        "description": "Reported by the CI pipeline after every build of main.",
        "ownerEntityRef": "group:default/platform",
        "exclude": {"metadata.tags": ["experimental", "deprecated"]},
    }
    assert checks["has_readme"]["rule"] == {
        "factRef": "scm:default/readme_and_catalog_info_files_exist_fact",
        "path": "$.readme_exists",
        "operator": "equal",
        "value": True,
    }
    tracks = {track["id"]: track for track in document["tracks"]}
    campaign = tracks["on-call-q3"]
    assert list(campaign) == [
        "id", "name", "description", "ownerEntityRef", "type", "draft", "isEditable",
        "archived", "startDate", "targetCompletionDate", "milestones", "levels",
    ]  # fmt: skip
    assert (campaign["startDate"], campaign["targetCompletionDate"]) == (
        date(2025, 7, 1),
        date(2025, 9, 30),
    )
    assert campaign["levels"][0] == {
        "ordinal": 1,
        "name": "Reachable",
        "checks": [{"id": "has-on-call-rotation", "name": "Has an on-call rotation"}],
    }
    assert tracks["basic-setup"]["documentationURL"] == (
        "https://backstage.io/docs/features/software-catalog/"
    )


def test_export_then_import_round_trips(tmp_path):
    run(CHECKS_YAML, TRACKS_YAML)
    first = export()
    path = tmp_path / "exported.yaml"
    call_command("export_soundcheck", organization="acme", output=str(path), stdout=io.StringIO())
    assert path.read_text(encoding="utf-8") == first

    make_organization(slug="globex", name="Globex")
    out, err = run(path, organization="globex")
    assert err == ""
    assert "checks: 7 created" in out
    assert "tracks: 3 created" in out
    assert export("globex") == first

    # Imported again over itself, everything is an update and nothing changes.
    out, _ = run(path, organization="globex")
    assert "checks: 0 created, 7 updated" in out
    assert "tracks: 0 created, 3 updated" in out
    assert export("globex") == first
    assert Certification.objects.count() == 0
