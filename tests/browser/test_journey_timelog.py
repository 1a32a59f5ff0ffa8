"""Time log in a real browser: the card administrator logs the day from suggestions and submits the week →
the project leader approves → the evaluator opens the dashboard and downloads the evaluation pack."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cardadmin.accounts import service as accounts
from cardadmin.db import db
from cardadmin.orders import support
from cardadmin.orders.states import Status
from cardadmin.roles import Role
from cardadmin.timelog import service
from tests.browser.conftest import screenshot
from tests.browser.test_journey_orders import _as
from tests.conftest import PASSWORD
from tests.test_orders_service import order_for, to_status

pytestmark = pytest.mark.browser


@pytest.fixture
def day_of_work(app, live_server):
    """A pilot period around today; the desk's day so far: two orders produced and handed over, a support case."""
    world = app.config["TEST_WORLD"]
    with app.app_context():
        admin = db.session.get(type(world.users["admin"]), world.users["admin"].id)
        year, week, _ = service.today().isocalendar()
        accounts.save_pilot_period(admin, None, desk_id=world.desk_id, name="Pilot Lycksele", year=year,
                                   week_from=week, week_to=week)
        service.seed_activities()
        service.save_distance(admin, desk_id=world.desk_id, unit_id=None, km="240", label="Lycksele–Umeå")
        accounts.create_user(admin, accounts.UserInput("projektledare", "Pia Projektledare", roles=[Role.EVALUATOR],
                                                       organisation_id=world.region_id), PASSWORD)
        db.session.commit()
        for n in (1, 2):
            to_status(world, order_for(world, f"B{n}"), Status.HANDED_OVER, card_number=f"97520000001{n}")
        clerk = db.session.get(type(world.users["card_admin"]), world.users["card_admin"].id)
        support.open_support_case(clerk, support.SupportInput(kind="pin_puk", channel="phone", minutes_spent=20,
                                                                description="PIN spärrad"))
        db.session.commit()
    return live_server


def test_log_from_suggestions_submit_approve_and_download_the_pack(day_of_work, page, tmp_path):
    base = day_of_work
    page.on("dialog", lambda dialog: dialog.accept())  # the submit button asks for confirmation

    _as(page, base, "card_admin")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Min tid").click()
    suggestions = page.locator("#suggestions")
    expect(suggestions.get_by_role("cell", name="Id-kontroll och utlämning")).to_be_visible()
    screenshot(page, "timelog-1-suggestions")
    # The day's acts: two orders put in production and registered, two hand-overs, one support case.
    # Each suggestion is confirmed through the pre-filled form; nothing is booked before that.
    for _ in range(4):
        page.locator("#suggestions").get_by_role("link", name="Använd förslaget").first.click()
        assert page.get_by_label("…eller tidsåtgång (t:mm eller minuter)").input_value() in ("10", "30", "20")
        organisation = page.get_by_label("Organisation (vems personal)")
        if not organisation.input_value():  # a phone case without a linked person: the user says whose staff
            organisation.select_option(label="Region Västerbotten")
        page.get_by_label("Anteckning (inga personnummer)").fill("Från dagens förslag")
        with page.expect_navigation():
            page.get_by_role("button", name="Spara tidspost").click()
        expect(page.get_by_text("Tidsposten är sparad")).to_be_visible()
    expect(page.get_by_text("Inga förslag för")).to_be_visible()
    expect(page.locator("table.entries tfoot")).to_contain_text("1:10")
    with page.expect_navigation():
        page.get_by_role("button", name="Skicka in veckan för godkännande").click()
    expect(page.locator("#sheet-status")).to_have_text("Inskickad")
    screenshot(page, "timelog-2-submitted")

    _as(page, base, "projektledare")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Attestera tid").click()
    expect(page.get_by_role("heading", name="Card_Admin")).to_be_visible()
    screenshot(page, "timelog-3-approval")
    with page.expect_navigation():
        page.get_by_role("button", name="Godkänn och lås").click()
    expect(page.get_by_text("är godkänd och låst")).to_be_visible()

    _as(page, base, "evaluator")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Uppföljning").click()
    expect(page.get_by_role("heading", name="Alla pilotorter")).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.locator("#site-1 .total-hours")).to_have_text("1,2")
    screenshot(page, "timelog-4-dashboard")
    page.get_by_role("link", name="Utvärderingspaket").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ner (XLSX)").click()
    path = tmp_path / "pack.xlsx"
    download.value.save_as(path)
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["Sammanfattning", "Per vecka", "Per aktivitet", "Per organisation", "Tidsposter"]
    raw = list(book["Tidsposter"].iter_rows(values_only=True))[1:]
    assert sum(r[5] for r in raw) == 70 and {r[17] for r in raw} == {"Godkänd (låst)"}
    screenshot(page, "timelog-5-pack")
    _figures_fit(page, base, ["/utvardering/", "/utvardering/manad", "/utvardering/paket"])


def _figures_fit(page, base: str, paths: list[str]) -> None:
    """At 1280 px every figures table fits without scrolling; at 390 px the page itself never scrolls sideways,
    wide tables scroll in their own box with the first column (week, month, activity) kept in view."""
    widths = {1280: 800, 390: 800}
    for width, height in widths.items():
        page.set_viewport_size({"width": width, "height": height})
        for path in paths:
            page.goto(base + path)
            doc = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert doc[0] <= doc[1], (width, path, doc)
            tables = page.evaluate("""() => [...document.querySelectorAll('main table')].map(t => ({
                width: t.scrollWidth, box: t.parentElement.clientWidth,
                sticky: t.classList.contains('sticky-first')
                    ? getComputedStyle(t.querySelector('tbody tr > :first-child')).position : 'n/a'}))""")
            assert tables, path
            for table in tables:
                if width == 1280:
                    assert table["width"] <= table["box"], (path, table)
                assert table["sticky"] in ("sticky", "n/a"), (path, table)
    page.set_viewport_size({"width": 1280, "height": 800})
