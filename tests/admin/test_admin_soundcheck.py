"""Soundcheck in the admin, in a real browser: checks, standard tracks and campaigns (an
entry of their own) with their levels and the levels' checks (in order) inline, validated
by the same code as the API's; each organization's checks and tracks kept to it; a check
in use cannot be deleted, one unused can. More campaign flows: test_admin_campaigns.py.
"""

import json

import pytest

from soundcheck.levels import replace_levels, resolve_levels, validate_levels_shape
from soundcheck.models import Certification, Check, CheckResult, SoundcheckTrack
from tests.factories import default_organization, make_organization

from .test_admin_organizations import log_in, staff

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ADMIN = "/admin/soundcheck"


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

    # A campaign with two levels; the second's checks in the order they were added. It is
    # a campaign without being asked.
    page.goto(f"{live_server.url}{ADMIN}/campaign/add/")
    assert page.locator("#id_track_type").count() == 0
    page.select_option("#id_organization", label="Acme")
    page.fill("#id_slug", "q1-quality")
    page.fill("#id_name", "Q1 quality")
    page.fill("#id_description", "Every service tested by April")
    page.fill("#id_owner_entity_ref", "Group:Platform")
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
    assert (track.track_type, track.organization, track.owner_entity_ref, track.milestones) == (
        "campaign",
        acme,
        "group:default/platform",
        milestones,
    )
    assert track.is_editable is False
    assert saved_levels(track) == [
        (1, "Basic", ["has-readme"]),
        (2, "Production", ["runs-tests", "lifecycle-defined"]),
    ]
    # Its certifications were computed: payments passed the first level.
    certified = Certification.objects.get(track=track)
    assert (certified.entity_ref, certified.highest_level) == ("component:default/payments", 1)
    row = page.locator("#result_list tbody tr:has(th a:text-is('q1-quality'))")
    assert row.locator("td.field-level_count").inner_text() == "2"
    assert rows(page, "milestone_count") == {"q1-quality": "1"}
    # The check's page links to the campaign, in the campaigns' entry.
    page.goto(f"{live_server.url}{ADMIN}/check/{lifecycle.pk}/change/")
    page.click(".field-used_by a:text-is('q1-quality')")
    page.wait_for_url(f"**{ADMIN}/campaign/{track.pk}/change/")
    # Standard tracks are listed apart: the campaign is not among them.
    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/")
    assert "0 Soundcheck tracks" in page.inner_text("#changelist-form")


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

    page.goto(f"{live_server.url}{ADMIN}/campaign/{track.pk}/change/")
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
    dates = {"start_date": "2026-01-01", "target_completion_date": "2026-03-31"}
    their_campaign = make_soundcheck_track(
        "their-q1", [["has-readme"]], theirs, track_type="campaign", **dates
    )
    staff("manager", mine, "editor", "soundcheck")
    page = browser_page
    log_in(page, live_server, "manager")

    page.goto(f"{live_server.url}{ADMIN}/check/")
    assert rows(page, "name") == {"has-readme": "My README", "runs-tests": "Runs tests"}
    assert rows(page, "track_count") == {"has-readme": "1", "runs-tests": "0"}
    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/")
    assert rows(page, "level_count") == {"mine": "1"}
    page.goto(f"{live_server.url}{ADMIN}/campaign/")
    assert "0 campaigns" in page.inner_text("#changelist-form")
    theirs_ = [f"check/{their_check.pk}", f"soundchecktrack/{their_track.pk}",
               f"campaign/{their_campaign.pk}"]  # fmt: skip
    for url in theirs_:
        page.goto(f"{live_server.url}{ADMIN}/{url}/change/")
        assert "Perhaps it was deleted?" in page.inner_text(".messagelist")

    # A new track is in their organization, with its checks to choose from.
    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/add/")
    assert page.locator("#id_organization option:checked").inner_text() == "Mine"
    options = page.locator("#id_levels-0-checks_from option").all_inner_texts()
    assert options == ["has-readme (My README)", "runs-tests (Runs tests)"]
    page.goto(f"{live_server.url}{ADMIN}/campaign/add/")  # a campaign too
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

    # Checks are searched and filtered; the unused one is deleted.
    page.goto(f"{live_server.url}{ADMIN}/check/?q=tests")
    assert rows(page, "name") == {"runs-tests": "Runs tests"}
    page.goto(f"{live_server.url}{ADMIN}/check/?kind__exact=external")
    assert set(rows(page, "name")) == {"has-readme", "runs-tests"}
    page.goto(f"{live_server.url}{ADMIN}/check/?kind__exact=rule")
    assert rows(page, "name") == {}
    unused = Check.objects.get(organization=mine, slug="runs-tests")
    page.goto(f"{live_server.url}{ADMIN}/check/{unused.pk}/delete/")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert "was deleted successfully" in page.inner_text(".messagelist")
    assert set(Check.objects.filter(organization=mine).values_list("slug", flat=True)) == {
        "has-readme"
    }


def test_standard_tracks_are_added_validated_listed_and_deleted(live_server, superuser_page):
    page = superuser_page
    make_check("has-readme")
    make_check("runs-tests")
    make_soundcheck_track("docs", [["runs-tests"]], track_type="playlist", name="Docs")

    # A level without checks is refused at the level, as the API refuses it; a campaign is
    # not offered here.
    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/add/")
    types = page.locator("#id_track_type option").all_inner_texts()
    assert types == ["Standard", "Playlist"]
    page.select_option("#id_organization", label="Acme")
    page.fill("#id_slug", "basics")
    page.fill("#id_name", "Basics")
    page.fill("#id_description", "The basics")
    page.fill("#id_owner_entity_ref", "group:default/platform")
    page.fill("#id_levels-0-ordinal", "1")
    page.fill("#id_levels-0-name", "Bronze")
    save(page)
    assert errors(page, "#levels-0 .field-checks") == [
        "A level has at least one check, in an array."
    ]
    assert not SoundcheckTrack.objects.filter(slug="basics").exists()

    add_checks(page, 0, "has-readme (Has readme)")
    save(page)
    page.wait_for_selector(".messagelist .success")
    track = SoundcheckTrack.objects.get(slug="basics")
    assert (track.track_type, saved_levels(track)) == (
        "standard",
        [(1, "Bronze", ["has-readme"])],
    )

    # Listed, searched and filtered by type.
    assert rows(page, "track_type") == {"basics": "Standard", "docs": "Playlist"}
    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/?q=bas")
    assert rows(page, "name") == {"basics": "Basics"}
    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/?track_type__exact=playlist")
    assert rows(page, "name") == {"docs": "Docs"}

    # A change breaking a rule of the model (an entity reference) is refused at its field.
    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/{track.pk}/change/")
    page.fill("#id_owner_entity_ref", "not a reference")
    save(page)
    assert errors(page, ".field-owner_entity_ref") == [
        "An entity reference is kind:namespace/name, e.g. component:default/payments "
        "(the namespace may be left out)."
    ]
    track.refresh_from_db()
    assert track.owner_entity_ref == "group:default/platform"

    # Deleted with its levels; its checks stay.
    page.goto(f"{live_server.url}{ADMIN}/soundchecktrack/{track.pk}/delete/")
    assert "Level: basics level 1" in page.inner_text("#content")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert not SoundcheckTrack.objects.filter(slug="basics").exists()
    assert Check.objects.count() == 2
