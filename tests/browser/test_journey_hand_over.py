"""The hand-over page in a real browser: the card number has the focus, only the chosen identity check's part is
shown (app.js), every error appears at once beside its field, and the receipt prints."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cardadmin.orders.states import Status
from tests.browser.conftest import screenshot
from tests.browser.test_journey_orders import _as
from tests.test_orders_service import order_for, to_status

pytestmark = pytest.mark.browser


@pytest.fixture
def order_at_desk(app, live_server):
    with app.app_context():
        order = to_status(app.config["TEST_WORLD"], order_for(app.config["TEST_WORLD"], "H1"), Status.AT_DESK)
        return order.id


def test_hand_over_page_focus_method_parts_and_all_errors_at_once(live_server, order_at_desk, page):
    base = live_server
    _as(page, base, "card_admin")
    page.goto(f"{base}/utlamning/{order_at_desk}/utlamning")
    card_number = page.get_by_label("Kortnummer på kortet som lämnas ut")
    expect(card_number).to_be_focused()
    document, witness = page.get_by_label("Typ av id-handling"), page.get_by_label("Vittnets namn")
    expect(document).to_be_visible()
    expect(witness).to_be_hidden()  # the document is the default method
    page.get_by_label("Vittnesförfarande", exact=False).first.check()
    expect(witness).to_be_visible()
    expect(document).to_be_hidden()
    page.get_by_label("Id-handling", exact=True).check()
    expect(document).to_be_visible()
    screenshot(page, "hand-over-1-document-part-only")
    page.get_by_label("Id-handlingens nummer").fill("12")
    page.get_by_role("button", name="Identiteten är kontrollerad – lämna ut kortet").click()
    for message in ("Fyll i kortnumret.", "Välj vilken id-handling som visades.", "Ange id-handlingens giltighetstid.",
                    "Ange id-handlingens nummer (minst de fyra sista tecknen)."):
        expect(page.get_by_text(message, exact=True)).to_be_visible()
    expect(card_number).to_be_focused()  # the first field in error
    expect(witness).to_be_hidden()  # the part shown follows the choice sent
    screenshot(page, "hand-over-2-all-errors")


def test_receipt_print_button_prints(app, live_server, page):
    with app.app_context():
        order = to_status(app.config["TEST_WORLD"], order_for(app.config["TEST_WORLD"], "H2"), Status.HANDED_OVER)
        order_id = order.id
    page.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")
    _as(page, live_server, "card_admin")
    page.goto(f"{live_server}/utlamning/{order_id}/kvitto")
    expect(page.get_by_text("(Ctrl+P)")).to_be_hidden()
    page.get_by_role("button", name="Skriv ut kvittot").click()
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Skriv ut kvittot")).to_be_hidden()
    screenshot(page, "hand-over-3-receipt-print")
