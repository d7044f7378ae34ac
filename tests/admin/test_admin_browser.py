"""The admin in a real browser (Debian's Chromium driven by Playwright): catalog managers
get the same validation and normalisation as the API, because the rules live on the models.
"""

import pytest
from django.contrib.auth import get_user_model

from products.models import Product
from tests.factories import make_label, make_track


def log_in(page, live_server):
    get_user_model().objects.create_superuser("manager", "m@example.com", "secret-pass-1")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "secret-pass-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def choose(page, field, text):
    """Pick ``text`` in the admin's autocomplete (select2) widget of ``field``."""
    page.click(f"#id_{field} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.click(f".select2-results__option:has-text('{text}')")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_admin_applies_the_model_rules_to_products(live_server, browser_page):
    page = browser_page
    make_label(name="Browser Records")
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/products/product/add/")
    page.fill("#id_name", "Browser Album")
    page.fill("#id_upc_code", "036000291453")  # wrong check digit
    choose(page, "label", "Browser Records")
    choose(page, "language", "English")
    page.click("input[name=_save]")
    assert "The UPC is not valid" in page.inner_text(".field-upc_code")
    assert not Product.objects.exists()

    page.fill("#id_upc_code", "0360 0029 1452")
    page.click("input[name=_save]")
    errors = page.locator(".errorlist").all_inner_texts()
    assert not errors, errors
    page.wait_for_selector(".messagelist .success")
    product = Product.objects.get()
    assert (product.name, product.upc_code, product.status) == (
        "Browser Album",
        "036000291452",
        "draft",
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_admin_refuses_a_remix_cycle(live_server, browser_page):
    page = browser_page
    original = make_track(title="Original Song")
    remix = make_track(title="Remix Song", product=original.product)
    remix.remix_of.set([original])
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/tracks/track/{original.pk}/change/")
    page.click("fieldset summary:has-text('Audius: remixes, stems and covers')")  # folded
    choose(page, "remix_of", "Remix Song")
    page.click("input[name=_save]")
    assert "would make a cycle" in page.inner_text(".field-remix_of")
    assert not original.remix_of.exists()
