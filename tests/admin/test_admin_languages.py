"""Languages in the admin, in a real browser: catalog managers add a code pycountry lacks,
rename and retire languages; a retired language stays where it is used but is neither
offered nor accepted for a new choice; a language in use is not deleted."""

import pytest

from products.models import Language, Product
from tests.factories import make_label, make_product

from .test_admin_browser import choose, log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_managers_add_rename_retire_and_delete_languages(live_server, browser_page):
    page = browser_page
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/products/language/add/")
    page.fill("#id_code", "Q1")
    page.fill("#id_name", "Local dialect")
    page.click("input[name=_save]")
    assert "two or three lower-case letters" in page.inner_text(".field-code .errorlist")
    page.fill("#id_code", "qaa")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert Language.objects.get(code="qaa").name == "Local dialect"

    page.goto(f"{live_server.url}/admin/products/language/qaa/change/")
    assert page.locator("#id_code").count() == 0  # the code is read-only once it exists
    page.fill("#id_name", "Valley dialect")
    page.check("#id_retired")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    language = Language.objects.get(code="qaa")
    assert (language.name, language.retired) == ("Valley dialect", True)
    page.goto(f"{live_server.url}/admin/products/language/?retired__exact=1")
    assert page.locator("#result_list tbody th a").all_inner_texts() == ["qaa"]

    make_product(language=Language.objects.get(code="es"))
    page.goto(f"{live_server.url}/admin/products/language/es/delete/")
    assert "would require deleting the following protected" in page.inner_text("#content")
    page.goto(f"{live_server.url}/admin/products/language/qaa/delete/")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert not Language.objects.filter(code="qaa").exists()
    assert Language.objects.filter(code="es").exists()


def test_a_retired_language_is_kept_but_not_chosen_again(live_server, browser_page):
    Language.objects.filter(code="ast").update(retired=True)
    label = make_label(name="Browser Records")
    kept = make_product(name="Old Album", label=label, language=Language.objects.get(code="ast"))
    page = browser_page
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/products/product/add/")
    page.click("#id_language + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", "Asturian")
    page.wait_for_selector(".select2-results__option:has-text('No results found')")
    page.keyboard.press("Escape")

    page.goto(f"{live_server.url}/admin/products/product/{kept.pk}/change/")
    page.fill("#id_name", "Old Album, remastered")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    kept.refresh_from_db()
    assert (kept.name, kept.language_id) == ("Old Album, remastered", "ast")

    other = make_product(name="New Album", label=label)
    page.goto(f"{live_server.url}/admin/products/product/{other.pk}/change/")
    # A crafted form naming the retired language (the autocomplete would not offer it).
    page.evaluate(
        "() => { const s = document.querySelector('#id_language');"
        " s.add(new Option('Asturian (ast)', 'ast', true, true)); }"
    )
    page.click("input[name=_save]")
    assert "Asturian (ast) is retired" in page.inner_text(".field-language .errorlist")
    assert Product.objects.get(pk=other.pk).language_id == "en"
    choose(page, "language", "Spanish")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert Product.objects.get(pk=other.pk).language_id == "es"
