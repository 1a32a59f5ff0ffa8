"""First journey: each role logs in through the real login page and sees its own navigation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# What each role must see in the main menu, and what it must not.
EXPECTED_MENU = {
    "admin": {"Start", "Sök kort", "Support", "HSA-poster", "HSA-debitering", "Uppföljning", "Exportera tid", "Logg",
              "Administration", "Mitt konto"},
    "orderer": {"Start", "Ny beställning", "Mina beställningar", "Mitt konto"},
    "card_admin": {"Start", "Utlämning", "Sök kort", "Support", "HSA-poster", "Min tid", "Exportera tid", "Mitt konto"},
    "ra_officer": {"Start", "Att godkänna", "Sök kort", "Support", "HSA-poster", "HSA-debitering", "Attestera tid",
                   "Exportera tid", "Logg", "Mitt konto"},
    "evaluator": {"Start", "HSA-debitering", "Attestera tid", "Uppföljning", "Exportera tid", "Mitt konto"},
}


def _log_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    with page.expect_navigation():  # every login answer is a new page (redirect or the form again)
        page.get_by_role("button", name="Logga in").click()


@pytest.mark.parametrize("username", sorted(EXPECTED_MENU))
def test_each_role_logs_in_and_sees_its_navigation(live_server, page, username):
    _log_in(page, live_server, username)
    page.wait_for_url(f"{live_server}/")
    menu = {text.strip() for text in page.locator("nav[aria-label='Huvudmeny'] a").all_inner_texts()}
    assert menu == EXPECTED_MENU[username]
    assert page.get_by_role("heading", level=1).inner_text().startswith("Välkommen")
    screenshot(page, f"login-{username}")
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_url(f"{live_server}/login")
    assert "Du är utloggad" in page.content()


def test_wrong_password_shows_a_clear_message(live_server, page):
    _log_in(page, live_server, "orderer", "fel-losenord-123")
    expect(page.get_by_text("Fel användarnamn eller lösenord.")).to_be_visible()
    assert page.url.endswith("/login")
    screenshot(page, "login-wrong-password")


def test_admin_form_errors_are_visible_and_tied_to_fields(live_server, page):
    _log_in(page, live_server, "admin")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/admin/organisationer/ny")
    page.get_by_label("Namn").fill("Storumans kommun")
    page.get_by_label("Organisationsnummer").fill("212000-9999")
    with page.expect_navigation():
        page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text("kontrollsiffra")).to_be_visible()
    assert page.get_by_label("Namn").input_value() == "Storumans kommun"  # what the user typed is kept
    screenshot(page, "admin-organisation-error")


def test_first_invalid_field_gets_the_focus(live_server, page):
    _log_in(page, live_server, "admin")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/admin/anvandare/ny")
    page.get_by_label("Användarnamn").fill("ny.person")
    with page.expect_navigation():  # the failed submission is a new page; wait for it, not the old one
        page.get_by_role("button", name="Spara").click()  # no name, no role: the form comes back with errors
    # app.js is deferred: wait for it to move the focus instead of racing it.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'full_name'")
