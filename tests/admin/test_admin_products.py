"""Products in the admin, in a real browser: a release with its tracks inline, the UPC and
ISRC rules and uniqueness as form errors at their fields, search, filters and dates."""

import datetime

import pytest

from products.models import Label, Product
from tests.factories import make_label, make_product
from tracks.models import Track

from .test_admin_browser import choose, log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def choose_english(page, field):
    page.click(f"#id_{field} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", "English")
    page.click(".select2-results__option:text-is('English (en)')")


def fill_track(page, row, title, number, isrc):
    page.fill(f"#id_tracks-{row}-title", title)
    page.fill(f"#id_tracks-{row}-volume_number", "1")
    page.fill(f"#id_tracks-{row}-track_number", str(number))
    page.fill(f"#id_tracks-{row}-isrc_code", isrc)
    page.fill(f"#id_tracks-{row}-artist", '["The Band"]')
    choose_english(page, f"tracks-{row}-audio_language")


def test_a_release_with_its_tracks_inline(live_server, browser_page):
    make_label(name="Inline Records")
    page = browser_page
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/products/product/add/")
    page.fill("#id_name", "Two Songs")
    choose(page, "label", "Inline Records")
    choose_english(page, "language")
    for row in range(2):
        page.click(".add-row a")
        fill_track(page, row, f"Song {row + 1}", row + 1, "ESA112600001")  # the same ISRC
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote")
    errors = " ".join(page.locator(".errorlist").all_inner_texts())
    assert "Please correct the duplicate data for ISRC code." in errors, errors
    assert not Product.objects.exists() and not Track.objects.exists()

    page.fill("#id_tracks-1-isrc_code", "es-a11-26-00002")  # normalised on save
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    product = Product.objects.get()
    tracks = list(product.tracks.order_by("track_number").values_list("title", "isrc_code"))
    assert tracks == [("Song 1", "ESA112600001"), ("Song 2", "ESA112600002")]

    page.goto(f"{live_server.url}/admin/products/product/{product.pk}/change/")
    page.fill("#id_tracks-1-track_number", "1")  # the position of Song 1
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote")
    errors = " ".join(page.locator(".errorlist").all_inner_texts())
    assert (
        "Please correct the duplicate data for volume number and track number, which must be "
        "unique." in errors
    ), errors
    assert sorted(product.tracks.values_list("track_number", flat=True)) == [1, 2]


def test_products_are_searched_filtered_and_browsed_by_release_date(live_server, browser_page):
    mine = make_label(name="Search Records")
    make_product(name="Spring", upc_code="036000291452", label=mine, status="active",
                 release_date=datetime.date(2026, 3, 1))  # fmt: skip
    make_product(name="Autumn", label=make_label(name="Other Records"), release_date=None)
    page = browser_page
    log_in(page, live_server)
    base = f"{live_server.url}/admin/products/product/"

    def listed(query):
        page.goto(base + query)
        return page.locator("#result_list tbody th a").all_inner_texts()

    assert listed("?q=036000291452") == ["Spring"]
    assert listed("?status__exact=active") == ["Spring"]
    assert listed(f"?label__id__exact={mine.pk}") == ["Spring"]
    assert listed("?release_date__year=2026") == ["Spring"]
    page.goto(base)
    assert "2026" in page.inner_text("nav.toplinks")  # the date hierarchy's years
    assert "Search Records" in page.inner_text("#changelist-filter")


def test_a_release_is_deleted_after_its_tracks_and_a_label_after_its_releases(
    live_server, browser_page
):
    label = make_label(name="Closing Records")
    product = make_product(name="Last Album", label=label)
    track = Track.objects.create(product=product, title="Last Song", track_number=1,
                                 volume_number=1, isrc_code="ESA112600009", artist=["The Band"],
                                 audio_language_id="en")  # fmt: skip
    page = browser_page
    log_in(page, live_server)
    admin = f"{live_server.url}/admin"

    def delete(url):
        page.goto(f"{admin}/{url}/delete/")
        if page.locator("h1").inner_text().startswith("Cannot delete"):
            return page.locator("#content ul li").all_inner_texts()
        page.click("input[type=submit]")
        page.wait_for_selector(".messagelist .success")
        return None

    # Protected: Django's page names what still refers to them, and nothing is deleted.
    assert delete(f"products/label/{label.pk}") == ["Product: Last Album"]
    assert delete(f"products/product/{product.pk}") == ["Track: Last Song"]
    assert Product.objects.filter(pk=product.pk).exists() and label.products.exists()

    assert delete(f"tracks/track/{track.pk}") is None
    assert delete(f"products/product/{product.pk}") is None
    assert delete(f"products/label/{label.pk}") is None
    assert not Track.objects.exists() and not Product.objects.exists()
    assert not Label.objects.filter(pk=label.pk).exists()
