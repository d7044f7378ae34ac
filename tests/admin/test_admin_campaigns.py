"""Campaigns (Soundcheck tracks of type campaign) in their own admin entry, in a real
browser: added with their dates, milestones and levels; refused as the API refuses them
(date order, milestones, ordinals, unsafe SVG badges) at the field concerned; listed,
searched, filtered by period and start date; deleted with their levels.
"""

import datetime
import json

import pytest

from soundcheck.models import Campaign, Check, Level, SoundcheckTrack

from .test_admin_soundcheck import (
    ADMIN,
    add_checks,
    errors,
    make_check,
    make_soundcheck_track,
    rows,
    save,
    saved_levels,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

UNSAFE_SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'
SAFE_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'


def test_a_campaign_is_added_only_once_every_rule_of_the_api_holds(live_server, superuser_page):
    page = superuser_page
    make_check("has-readme")
    make_check("runs-tests")

    page.goto(f"{live_server.url}{ADMIN}/campaign/add/")
    page.select_option("#id_organization", label="Acme")
    page.fill("#id_slug", "q2-quality")
    page.fill("#id_name", "Q2 quality")
    page.fill("#id_description", "Every service documented by June")
    page.fill("#id_owner_entity_ref", "group:default/platform")
    page.fill("#id_start_date", "2026-06-30")  # after its target
    page.fill("#id_target_completion_date", "2026-04-01")
    page.fill("#id_milestones", '[{"name": "Halfway", "date": "2026-05-15", "level": 2}]')
    page.fill("#id_levels-0-ordinal", "1")
    page.fill("#id_levels-0-name", "Basic")
    page.fill("#id_levels-0-badge", json.dumps({"svg": UNSAFE_SVG}))
    add_checks(page, 0, "has-readme (Has readme)")
    page.click("#levels-group .add-row a")
    page.fill("#id_levels-1-ordinal", "1")  # the first level's
    page.fill("#id_levels-1-name", "Production")
    add_checks(page, 1, "runs-tests (Runs tests)")
    save(page)
    assert errors(page, ".field-target_completion_date") == [
        "The target completion date cannot be before the start date."
    ]
    assert errors(page, ".field-milestones") == [
        "A milestone is dated within the campaign (2026-06-30 to 2026-04-01)."
    ]
    assert errors(page, "#levels-0 .field-badge") == ["An SVG badge may not have event handlers."]
    assert not SoundcheckTrack.objects.exists() and not Level.objects.exists()

    # The dates and the badge corrected: the second level's ordinal is the next error.
    page.fill("#id_start_date", "2026-04-01")
    page.fill("#id_target_completion_date", "2026-06-30")
    page.fill("#id_levels-0-badge", json.dumps({"svg": SAFE_SVG, "color": "#1DB954"}))
    save(page)
    assert errors(page, "#levels-1 .field-ordinal") == [
        "Ordinal 1 is used by another level of this track."
    ]
    assert "Milestone 1: The track has no level 2." in page.inner_text("#levels-group")
    assert not SoundcheckTrack.objects.exists()

    page.fill("#id_levels-1-ordinal", "2")
    save(page)
    page.wait_for_selector(".messagelist .success")
    campaign = Campaign.objects.get()
    assert (
        campaign.track_type,
        str(campaign.start_date),
        str(campaign.target_completion_date),
    ) == (
        "campaign",
        "2026-04-01",
        "2026-06-30",
    )
    assert saved_levels(campaign) == [
        (1, "Basic", ["has-readme"]),
        (2, "Production", ["runs-tests"]),
    ]
    assert campaign.levels.get(ordinal=1).badge == {"svg": SAFE_SVG, "color": "#1DB954"}
    assert rows(page, "start_date") == {"q2-quality": "April 1, 2026"}
    assert rows(page, "level_count") == {"q2-quality": "2"}


def test_campaigns_are_listed_searched_filtered_changed_and_deleted(live_server, superuser_page):
    page = superuser_page
    today = datetime.date.today()
    days = datetime.timedelta(days=30)
    for slug in ("has-readme", "runs-tests", "has-owner"):
        make_check(slug)

    def campaign(slug, check, start, target, **fields):
        return make_soundcheck_track(slug, [[check]], track_type="campaign", start_date=start,
                                     target_completion_date=target, **fields)  # fmt: skip

    past = campaign("past", "has-readme", today - 3 * days, today - days)
    campaign("now", "runs-tests", today - days, today + days, name="Ongoing")
    campaign("next", "has-owner", today + days, today + 2 * days)
    make_soundcheck_track("standard", [["has-readme"]])  # not a campaign: not listed here
    base = f"{live_server.url}{ADMIN}/campaign/"

    page.goto(base)
    assert set(rows(page, "name")) == {"past", "now", "next"}
    assert str(today.year) in page.inner_text("nav.toplinks")  # the start dates' years
    page.goto(base + "?q=ongoing")
    assert rows(page, "name") == {"now": "Ongoing"}
    for period, listed in (("running", "now"), ("upcoming", "next"), ("ended", "past")):
        page.goto(f"{base}?period={period}")
        assert list(rows(page, "name")) == [listed]
    page.goto(
        f"{base}?start_date__year={(today + days).year}&start_date__month={(today + days).month}"
    )
    assert "next" in rows(page, "name")

    # A change breaking a rule is refused at its field: an SVG badge with a script.
    page.goto(f"{base}{past.pk}/change/")
    script = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    page.fill("#id_badge", json.dumps({"svg": script}))
    page.fill("#id_target_completion_date", str(today + days))
    save(page)
    assert errors(page, ".field-badge") == ["An SVG badge may not contain scripts."]
    past.refresh_from_db()
    assert (past.badge, past.target_completion_date) == (None, today - days)

    # Deleted with its levels; its checks stay for other tracks.
    page.goto(f"{base}{past.pk}/delete/")
    assert "Level: past level 1" in page.inner_text("#content")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert set(rows(page, "name")) == {"now", "next"}
    assert not SoundcheckTrack.objects.filter(slug="past").exists()
    assert Check.objects.filter(slug="has-readme").exists()
