"""The card's life in a real browser: the orderer registers the recipient and orders → the RA approves → the desk
produces, registers the card and hands it over with an identity check → receipt → active → revoked as lost →
the orderer orders a replacement."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_journey_login import _log_in

pytestmark = pytest.mark.browser


def _as(page, base: str, username: str) -> None:
    if page.get_by_role("button", name="Logga ut").count():
        page.get_by_role("button", name="Logga ut").click()
        page.wait_for_url(f"{base}/login")
    _log_in(page, base, username)
    page.wait_for_url(f"{base}/")


def test_order_approve_produce_hand_over_revoke_and_replace(live_server, page):
    base = live_server
    # Orderer: the person is not registered yet, so register them from the order page, then order.
    _as(page, base, "orderer")
    page.get_by_role("link", name="Ny beställning").first.click()
    page.get_by_label("HSA-id eller namn").fill("SE2321000222-J1")
    page.get_by_role("button", name="Sök person").click()
    expect(page.get_by_text("Ingen person hittades.")).to_be_visible()
    page.get_by_role("link", name="Finns personen inte? Registrera en ny kortmottagare").click()
    assert page.get_by_label("HSA-id").input_value() == "SE2321000222-J1"
    page.get_by_label("Förnamn").fill("Johanna")
    page.get_by_label("Efternamn").fill("Journey")
    page.get_by_role("button", name="Spara person").click()
    page.get_by_label("Kortutlämning där kortet hämtas").select_option(label="Kortutlämning Lycksele (Lycksele)")
    screenshot(page, "orders-1-new-order")
    page.get_by_role("button", name="Skicka beställning").click()
    expect(page.get_by_text("är skickad till RA")).to_be_visible()
    order_id = re.search(r"/bestallningar/(\d+)$", page.url).group(1)
    page.get_by_role("link", name="Mina beställningar").click()
    expect(page.get_by_role("cell", name="Beställd")).to_be_visible()

    # RA officer: the one approval queue.
    _as(page, base, "ra_officer")
    page.get_by_role("link", name="Att godkänna").first.click()
    page.get_by_label(f"Välj beställning {order_id} för Johanna Journey").check()
    screenshot(page, "orders-2-ra-queue")
    page.get_by_role("button", name="Godkänn markerade").click()
    expect(page.get_by_text("1 av 1 beställningar godkända.")).to_be_visible()

    # Card administrator: produce, register the card, hand over with an identity check.
    _as(page, base, "card_admin")
    page.get_by_role("link", name="Utlämning").first.click()
    page.get_by_role("button", name=f"Starta tillverkning av {order_id}").click()
    page.get_by_label("Kortnummer").fill("9752 0000 0000 77")
    page.get_by_role("button", name="Registrera kortet – finns att hämta").click()
    expect(page.get_by_text("finns att hämta för Johanna Journey")).to_be_visible()
    page.locator("#queue-at_desk").get_by_role("link", name="Utlämning").click()
    expect(page.get_by_role("button", name="Läs från kortläsaren")).to_be_enabled()  # the desk PC reads its reader
    page.get_by_label("Kortnummer på kortet som lämnas ut").fill("97520000000077")
    page.get_by_label("Id-handling", exact=True).check()
    page.get_by_label("Typ av id-handling").select_option("driving_licence")
    page.get_by_label("Id-handlingen giltig till").fill((date.today() + timedelta(days=700)).isoformat())
    page.get_by_label("Id-handlingens nummer").fill("12345678")
    screenshot(page, "orders-3-hand-over")
    page.get_by_role("button", name="Identiteten är kontrollerad – lämna ut kortet").click()
    expect(page.get_by_role("heading", name="Kvittens av SITHS-kort")).to_be_visible()
    expect(page.get_by_text("Svenskt körkort, nummer slutar på 5678")).to_be_visible()
    page.emulate_media(media="print")
    screenshot(page, "orders-4-receipt-print")
    page.emulate_media(media="screen")
    page.get_by_role("button", name="Mottagaren har skrivit under och tagit emot kortet").click()
    expect(page.get_by_text("Kortet är aktivt.")).to_be_visible()
    card_url = page.url

    # The card is lost: the desk revokes it, choosing the reason and confirming (the form is folded away under
    # the new card, and one click does not revoke).
    expect(page.get_by_role("button", name="Spärra kortet")).to_be_hidden()
    page.get_by_text("Spärra kortet…").click()
    assert page.get_by_label("Skäl för spärr").input_value() == ""
    page.get_by_label("Skäl för spärr").select_option("lost")
    page.get_by_label("Vem begärde spärren").fill("Johanna Journey (telefon)")
    page.get_by_role("button", name="Spärra kortet").click()
    expect(page.get_by_text("Bekräfta spärren genom att kryssa i rutan.")).to_be_visible()
    page.get_by_label("Jag har kontrollerat att det är rätt kort").check()
    page.get_by_role("button", name="Spärra kortet").click()
    expect(page.get_by_text("är spärrat")).to_be_visible()
    expect(page.get_by_role("cell", name="Förlorat", exact=True)).to_be_visible()
    screenshot(page, "orders-5-card-revoked")

    # The orderer orders the replacement from the card page.
    _as(page, base, "orderer")
    page.goto(card_url)
    page.get_by_role("link", name="Beställ ersättningskort").click()
    assert page.get_by_label("Typ av beställning").input_value() == "replacement_lost"
    page.get_by_label("Kortutlämning där kortet hämtas").select_option(label="Kortutlämning Lycksele (Lycksele)")
    page.get_by_role("button", name="Skicka beställning").click()
    expect(page.get_by_text("Ersättning – förlorat kort", exact=True)).to_be_visible()
    screenshot(page, "orders-6-replacement-ordered")
