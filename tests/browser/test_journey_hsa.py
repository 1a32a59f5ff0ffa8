"""HSA work in a real browser: the card administrator creates and changes a person entry at the desk and sees its
change history; the evaluator reads the billing report and downloads it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_journey_orders import _as

pytestmark = pytest.mark.browser


def test_card_admin_creates_and_changes_an_entry_evaluator_sees_the_billing(live_server, page):
    base = live_server
    _as(page, base, "card_admin")
    page.get_by_role("link", name="HSA-poster").first.click()
    page.get_by_role("link", name="Ny personpost").click()
    page.get_by_label("HSA-id (hsaIdentity)").fill("SE2321000222-4KX7")
    page.get_by_label("Förnamn (givenName)").fill("Åsa")
    page.get_by_label("Efternamn (sn)").fill("Öberg")
    page.get_by_label("Titel (title)").fill("Sjuksköterska")
    screenshot(page, "hsa-1-new-entry")
    page.get_by_role("button", name="Spara HSA-posten").click()
    expect(page.get_by_text("HSA-posten för Åsa Öberg (SE2321000222-4KX7) är skapad.")).to_be_visible()
    page.get_by_role("link", name="Ändra").click()
    page.get_by_label("Efternamn (sn)").fill("Åberg")
    page.get_by_role("button", name="Spara HSA-posten").click()
    history = page.locator("table").last
    expect(history.get_by_role("cell", name="Öberg", exact=True)).to_be_visible()
    expect(history.get_by_role("cell", name="Åberg", exact=True)).to_be_visible()
    expect(history.get_by_role("cell", name="Kortutlämning Lycksele").first).to_be_visible()
    screenshot(page, "hsa-2-history")

    # A wrong check digit is explained on the form, nothing saved.
    page.get_by_role("link", name="HSA-poster").first.click()
    page.get_by_role("link", name="Ny personpost").click()
    page.get_by_label("HSA-id (hsaIdentity)").fill("SE2321000223-1")
    page.get_by_label("Förnamn (givenName)").fill("Fel")
    page.get_by_label("Efternamn (sn)").fill("Siffra")
    page.get_by_role("button", name="Spara HSA-posten").click()
    expect(page.get_by_text("Organisationsnumret i HSA-id:t har fel kontrollsiffra.")).to_be_visible()

    _as(page, base, "evaluator")
    page.get_by_role("link", name="HSA-debitering").first.click()
    row = page.get_by_role("row").filter(has_text="Region Västerbotten")
    expect(row).to_contain_text("1")
    screenshot(page, "hsa-3-billing")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (XLSX)").click()
    assert download.value.suggested_filename == "hsa-fakturering.xlsx"
