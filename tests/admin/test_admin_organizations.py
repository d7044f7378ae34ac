"""Organizations in the admin, in a real browser: staff see and change their own
organizations' catalog only, organizations' admins manage their members, superusers see all.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from organizations.models import Membership
from tests.factories import add_member, make_label, make_organization

from .test_admin_browser import choose

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PASSWORD = "secret-pass-1"


def staff(username, organization, role, *app_labels):
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=app_labels))
    add_member(user, organization, role)
    return user


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def label_names(page, live_server):
    page.goto(f"{live_server.url}/admin/products/label/")
    return set(page.locator("#result_list tbody th a").all_inner_texts())


@pytest.fixture
def two_catalogs():
    mine, theirs = make_organization(name="Mine"), make_organization(name="Theirs")
    return (mine, make_label(name="My Records", organization=mine)), (
        theirs,
        make_label(name="Their Records", organization=theirs),
    )


def test_staff_see_and_offer_only_their_organizations_rows(live_server, browser_page, two_catalogs):
    (mine, _), (_, their_label) = two_catalogs
    staff("manager", mine, "editor", "products", "tracks")
    page = browser_page
    log_in(page, live_server, "manager")
    assert label_names(page, live_server) == {"My Records"}

    page.goto(f"{live_server.url}/admin/products/label/{their_label.pk}/change/")
    assert "Perhaps it was deleted?" in page.inner_text(".messagelist")

    page.goto(f"{live_server.url}/admin/products/product/add/")
    page.click("#id_label + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", "Records")
    page.wait_for_selector(".select2-results__option:has-text('My Records')")
    page.wait_for_selector(".select2-results__option.loading-results", state="detached")
    options = page.locator(".select2-results__option").all_inner_texts()
    assert options == ["My Records"]


def test_a_viewer_looks_but_cannot_change(live_server, browser_page, two_catalogs):
    (mine, my_label), _ = two_catalogs
    staff("reader", mine, "viewer", "products", "tracks")
    page = browser_page
    log_in(page, live_server, "reader")
    page.goto(f"{live_server.url}/admin/products/label/{my_label.pk}/change/")
    assert page.locator("input[name=_save]").count() == 0
    assert page.locator(".field-name .readonly").inner_text() == "My Records"
    page.goto(f"{live_server.url}/admin/products/label/add/")
    assert "403" in page.title() or "Forbidden" in page.content()


def test_superuser_sees_every_organization(live_server, browser_page, two_catalogs):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    page = browser_page
    log_in(page, live_server, "root")
    assert label_names(page, live_server) == {"My Records", "Their Records"}


def test_an_organizations_admin_manages_its_members(live_server, browser_page, two_catalogs):
    (mine, _), (theirs, _) = two_catalogs
    staff("boss", mine, "admin", "organizations", "auth")
    newcomer = get_user_model().objects.create_user("newcomer")
    page = browser_page
    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/organizations/organization/")
    names = set(page.locator("#result_list tbody th a").all_inner_texts())
    assert names == {"Mine"}

    page.goto(f"{live_server.url}/admin/organizations/organization/{mine.pk}/change/")
    page.click("#memberships-group .add-row a")
    choose(page, "memberships-1-user", "newcomer")
    page.select_option("#id_memberships-1-role", "viewer")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert Membership.objects.get(user=newcomer).organization == mine

    page.goto(f"{live_server.url}/admin/organizations/organization/{theirs.pk}/change/")
    assert "Perhaps it was deleted?" in page.inner_text(".messagelist")


def test_renaming_a_label_to_a_name_its_organization_uses_is_a_form_error(
    live_server, browser_page, two_catalogs
):
    """The organization is read-only on the change form, yet the rule (organization, name)
    is checked: the clash is shown at the name, and nothing is saved (it was a 500)."""
    (mine, my_label), (_, their_label) = two_catalogs
    make_label(name="Other Records", organization=mine)
    staff("manager", mine, "editor", "products")
    page = browser_page
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/admin/products/label/{my_label.pk}/change/")
    page.fill("#id_name", "Other Records")
    page.click("input[name=_save]")
    error = page.locator(".field-name .errorlist")
    assert error.inner_text() == "Label with this Organization and Name already exists."
    my_label.refresh_from_db()
    assert my_label.name == "My Records"

    page.fill("#id_name", their_label.name)  # another organization's name is free
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    my_label.refresh_from_db()
    assert my_label.name == "Their Records"
