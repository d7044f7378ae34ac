"""Soundcheck in the admin, in a real browser: checks, and campaigns with their levels and
the levels' checks (in order) inline, validated by the same code as the API's; each
organization's checks and tracks kept to it; a check in use cannot be deleted.
"""

import json

import pytest
from django.contrib.auth import get_user_model

from soundcheck.levels import replace_levels, resolve_levels, validate_levels_shape
from soundcheck.models import Certification, Check, CheckResult, SoundcheckTrack
from tests.factories import default_organization, make_organization

from .test_admin_organizations import PASSWORD, log_in, staff

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ADMIN = "/admin/soundcheck"


@pytest.fixture
def superuser_page(live_server, browser_page):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    log_in(browser_page, live_server, "root")
    return browser_page


def make_check(slug, organization=None, **fields):
    fields.setdefault("name", slug.replace("-", " ").capitalize())
    organization = organization or default_organization()
    return Check.objects.create(organization=organization, slug=slug, **fields)


def make_soundcheck_track(slug, levels, organization=None, **fields):
    """A track whose levels are lists of check ids, saved as the API saves them."""
    organization = organization or default_organization()
    fields.setdefault("name", slug.capitalize())
    fields.setdefault("description", "Quality")
    fields.setdefault("owner_entity_ref", "group:default/platform")
    track = SoundcheckTrack.objects.create(organization=organization, slug=slug, **fields)
    shaped = [
        {"ordinal": n, "name": f"Level {n}", "checks": [{"id": slug} for slug in ids]}
        for n, ids in enumerate(levels, 1)
    ]
    validate_levels_shape(shaped)
    replace_levels(track, resolve_levels(shaped, {"organization": organization}))
    return track


def saved_levels(track):
    return [
        (level.ordinal, level.name, [lc.check_definition.slug for lc in level.level_checks.all()])
        for level in track.levels.order_by("ordinal")
    ]


def save(page):
    with page.expect_navigation():
        page.click("input[name=_save]")


def add_checks(page, level, *labels):
    """Move checks to a level's "chosen" box, one after the other."""
    for label in labels:
        page.select_option(f"#id_levels-{level}-checks_from", label=label)
        page.click(f"#id_levels-{level}-checks_add")


def remove_checks(page, level, *labels):
    for label in labels:
        page.select_option(f"#id_levels-{level}-checks_to", label=label)
        page.click(f"#id_levels-{level}-checks_remove")


def chosen(page, level):
    return page.locator(f"#id_levels-{level}-checks_to option").all_inner_texts()


def errors(page, selector):
    return page.locator(f"{selector} .errorlist").all_inner_texts()


def rows(page, column):
    """The list's rows as {id: text of ``column``}."""
    ids = page.locator("#result_list tbody th a").all_inner_texts()
    cells = page.locator(f"#result_list tbody td.field-{column}").all_inner_texts()
    return dict(zip(ids, cells, strict=True))


def test_a_superuser_creates_a_check_then_a_campaign_with_its_levels(live_server, superuser_page):
    page = superuser_page
    acme = default_organization()
    make_check("has-readme", acme, name="Has a README")
    make_check("runs-tests", acme, name="Runs its tests")
    make_check("has-readme", make_organization(name="Theirs"), name="Their README")
    CheckResult.objects.create(
        check_definition=Check.objects.get(organization=acme, slug="has-readme"),
        entity_ref="component:default/payments",
        state="passed",
        effective_state="passed",
    )

    # A check: the model's rules apply (a rule check needs its rule).
    page.goto(f"{live_server.url}{ADMIN}/check/add/")
    page.select_option("#id_organization", label="Acme")
    page.fill("#id_slug", "lifecycle-defined")
    page.fill("#id_name", "Lifecycle defined")
    page.select_option("#id_kind", "rule")
    save(page)
    assert errors(page, ".field-rule") == ["A rule check needs its rule."]
    rule = {"fact-ref": "catalog:default/entity_descriptor", "path": "$.spec.lifecycle",
            "operator": "in", "value": ["production", "experimental"]}  # fmt: skip
    page.fill("#id_rule", json.dumps(rule))
    save(page)
    page.wait_for_selector(".messagelist .success")
    lifecycle = Check.objects.get(slug="lifecycle-defined")
    assert (lifecycle.organization, lifecycle.kind, lifecycle.rule) == (acme, "rule", rule)

    # A campaign with two levels; the second's checks in the order they were added.
    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/add/")
    page.select_option("#id_organization", label="Acme")
    page.fill("#id_slug", "q1-quality")
    page.fill("#id_name", "Q1 quality")
    page.fill("#id_description", "Every service tested by April")
    page.fill("#id_owner_entity_ref", "Group:Platform")
    page.select_option("#id_track_type", "campaign")
    page.fill("#id_start_date", "2026-01-01")
    page.fill("#id_target_completion_date", "2026-03-31")
    milestones = [{"name": "Halfway", "date": "2026-02-15", "level": 2}]
    page.fill("#id_milestones", json.dumps(milestones))
    page.uncheck("#id_is_editable")
    page.fill("#id_levels-0-ordinal", "1")
    page.fill("#id_levels-0-name", "Basic")
    add_checks(page, 0, "Acme: has-readme (Has a README)")
    page.click("#levels-group .add-row a")
    page.fill("#id_levels-1-ordinal", "2")
    page.fill("#id_levels-1-name", "Production")
    add_checks(
        page, 1, "Acme: runs-tests (Runs its tests)", "Acme: lifecycle-defined (Lifecycle defined)"
    )
    save(page)
    page.wait_for_selector(".messagelist .success")

    track = SoundcheckTrack.objects.get()
    assert (track.organization, track.owner_entity_ref, track.milestones, track.is_editable) == (
        acme,
        "group:default/platform",
        milestones,
        False,
    )
    assert saved_levels(track) == [
        (1, "Basic", ["has-readme"]),
        (2, "Production", ["runs-tests", "lifecycle-defined"]),
    ]
    # Its certifications were computed: payments passed the first level.
    certified = Certification.objects.get(track=track)
    assert (certified.entity_ref, certified.highest_level) == ("component:default/payments", 1)
    row = page.locator("#result_list tbody tr:has(th a:text-is('q1-quality'))")
    assert row.locator("td.field-level_count").inner_text() == "2"
    assert rows(page, "track_type") == {"q1-quality": "Campaign"}


def test_levels_are_validated_as_the_api_validates_them(live_server, superuser_page):
    page = superuser_page
    for slug in ("has-readme", "lifecycle-defined", "runs-tests"):
        make_check(slug)
    track = make_soundcheck_track(
        "q1-quality",
        [["has-readme"], ["runs-tests", "lifecycle-defined"]],
        track_type="campaign",
        start_date="2026-01-01",
        target_completion_date="2026-03-31",
    )
    before = saved_levels(track)

    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/{track.pk}/change/")
    assert chosen(page, 1) == ["runs-tests (Runs tests)", "lifecycle-defined (Lifecycle defined)"]
    # A check in two levels, a campaign without its start, a milestone at no level.
    add_checks(page, 1, "has-readme (Has readme)")
    page.fill("#id_start_date", "")
    page.fill("#id_milestones", '[{"name": "Halfway", "date": "2026-02-15", "level": 3}]')
    save(page)
    assert errors(page, ".field-start_date") == [
        "A campaign needs its start date and target completion date."
    ]
    assert errors(page, "#levels-1 .field-checks") == [
        "The check 'has-readme' appears more than once in this track."
    ]
    assert "Milestone 1: The track has no level 3." in page.inner_text("#levels-group")
    track.refresh_from_db()
    assert (saved_levels(track), str(track.start_date), track.milestones) == (
        before,
        "2026-01-01",
        [],
    )

    # Corrected, and the second level renumbered with its checks in another order.
    page.fill("#id_start_date", "2026-01-01")
    remove_checks(page, 1, "has-readme (Has readme)", "runs-tests (Runs tests)")
    add_checks(page, 1, "runs-tests (Runs tests)")
    page.fill("#id_levels-1-ordinal", "3")
    save(page)
    page.wait_for_selector(".messagelist .success")
    track.refresh_from_db()
    assert saved_levels(track) == [
        (1, "Level 1", ["has-readme"]),
        (3, "Level 2", ["lifecycle-defined", "runs-tests"]),
    ]
    assert track.milestones == [{"name": "Halfway", "date": "2026-02-15", "level": 3}]


def test_staff_see_their_organizations_checks_and_cannot_delete_one_in_use(
    live_server, browser_page
):
    mine, theirs = make_organization(name="Mine"), make_organization(name="Theirs")
    used = make_check("has-readme", mine, name="My README")
    make_check("runs-tests", mine, name="Runs tests")
    their_check = make_check("has-readme", theirs, name="Their README")
    make_soundcheck_track("mine", [["has-readme"]], mine)
    their_track = make_soundcheck_track("theirs", [["has-readme"]], theirs)
    staff("manager", mine, "editor", "soundcheck")
    page = browser_page
    log_in(page, live_server, "manager")

    page.goto(f"{live_server.url}{ADMIN}/check/")
    assert rows(page, "name") == {"has-readme": "My README", "runs-tests": "Runs tests"}
    assert rows(page, "track_count") == {"has-readme": "1", "runs-tests": "0"}
    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/")
    assert rows(page, "level_count") == {"mine": "1"}
    for url in (f"check/{their_check.pk}", f"soundchecktrack/{their_track.pk}"):
        page.goto(f"{live_server.url}{ADMIN}/{url}/change/")
        assert "Perhaps it was deleted?" in page.inner_text(".messagelist")

    # A new track is in their organization, with its checks to choose from.
    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/add/")
    assert page.locator("#id_organization option:checked").inner_text() == "Mine"
    options = page.locator("#id_levels-0-checks_from option").all_inner_texts()
    assert options == ["has-readme (My README)", "runs-tests (Runs tests)"]

    # The check a track uses cannot be deleted: Django's page says why.
    page.goto(f"{live_server.url}{ADMIN}/check/{used.pk}/change/")
    page.click("a.deletelink")
    page.wait_for_url("**/delete/")
    assert page.locator("h1").inner_text() == "Cannot delete check"
    assert "would require deleting the following protected related objects" in page.content()
    assert page.locator("#deleted-objects li").all_inner_texts() == [
        "Level check: mine level 1: has-readme"
    ]
    assert Check.objects.filter(pk=used.pk).exists()
