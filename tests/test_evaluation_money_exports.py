"""Reimbursement from approved entries only (Decimal, rounded once); Inera costs; exports read back and
their totals equal the dashboard's."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from cardadmin.audit.models import AuditEvent
from cardadmin.db import db
from cardadmin.errors import Conflict, InvalidInput
from cardadmin.evaluation import exports, figures, settings
from cardadmin.evaluation.costs import inera_costs, monthly_statistics
from cardadmin.evaluation.models import PriceItem
from cardadmin.timelog import money, service, sheets
from tests.timelog_fixtures import MONDAY_W37, build_pilot, entry


@pytest.fixture
def pilot(app_ctx, world):
    return build_pilot(world)


def _week(pilot, user, monday, minutes_list, approve_by="evaluator", **extra):
    clerk = pilot.users[user]
    for n, minutes in enumerate(minutes_list):
        service.create_entry(clerk, entry(pilot, work_date=monday + timedelta(days=n), start="", end="",
                                          duration=minutes, **extra))
    sheet = sheets.submit(clerk, *monday.isocalendar()[:2])
    if approve_by:
        sheets.approve(pilot.users[approve_by], sheet.id)
    db.session.commit()
    return sheet


def test_reimbursement_counts_approved_weeks_only_and_rounds_once(pilot):
    admin = pilot.users["admin"]
    money.save_rate(admin, None, organisation_id=pilot.world.municipality_id, valid_from=date(2026, 1, 1),
                    valid_to=date(2026, 12, 31), rate="250,05", on_cost_percent="31.42")
    with pytest.raises(Conflict):
        money.save_rate(admin, None, organisation_id=pilot.world.municipality_id, valid_from=date(2026, 6, 1),
                        valid_to=date(2027, 6, 1), rate="1", on_cost_percent="0")
    with pytest.raises(InvalidInput):
        money.save_rate(admin, None, organisation_id=pilot.world.municipality_id, valid_from=date(2027, 6, 1),
                        valid_to=date(2027, 1, 1), rate="1", on_cost_percent="0")
    _week(pilot, "card_admin", MONDAY_W37, [20, 20, 20, 7])  # 67 min, approved
    _week(pilot, "card_admin", MONDAY_W37 + timedelta(weeks=1), [600], approve_by=None)  # submitted only
    rows = money.reimbursement("month")
    assert [(r.organisation, r.key, r.minutes) for r in rows] == [("Lycksele kommun", "2026-09", 67)]
    # 67/60 h × 250.05 × 1.3142 = 366.9549… → 366.95; rounding per entry would give 366.96.
    assert rows[0].amount == Decimal("366.95")
    assert money.reimbursement("period")[0].key == "Pilot Lycksele"
    assert json.loads(db.session.scalars(select(AuditEvent.data).where(
        AuditEvent.action == "hourly_rate.save")).one())["rate"] == "250.05"


def test_minutes_without_a_rate_are_reported_not_paid(pilot):
    _week(pilot, "card_admin", MONDAY_W37, [60])
    (row,) = money.reimbursement("month")
    assert row.minutes_without_rate == 60 and row.amount == 0


def test_inera_costs_per_organisation_and_period(pilot):
    from cardadmin.orders.states import Status
    from tests.test_orders_service import order_for, to_status

    evaluator = pilot.users["evaluator"]
    for item, price in [("card", "100"), ("shipping", "25.50"), ("certificate", "40"), ("hsa_entry", "12")]:
        settings.save_price(evaluator, item=item, valid_from=date(2020, 1, 1), valid_to=date(2030, 12, 31),
                            price=price)
    with pytest.raises(InvalidInput):
        settings.save_price(evaluator, item="card", valid_from=date(2026, 1, 1), valid_to=date(2026, 2, 1), price="1")
    year, week, _ = service.today().isocalendar()
    from cardadmin.accounts import service as accounts

    period = accounts.save_pilot_period(pilot.users["admin"], None, desk_id=pilot.world.desk_id, name="Nu",
                                        year=year, week_from=week, week_to=week)
    to_status(pilot.world, order_for(pilot.world, "C1"), Status.AT_DESK, card_number="9752000000031")
    (row,) = inera_costs([period])
    assert row.organisation == "Region Västerbotten" and row.cards == 1
    assert row.cost(PriceItem.CERTIFICATE) == Decimal("80.00") and row.total == Decimal("205.50")


def _read_csv(data: bytes, semicolon=False):
    text = data.decode("utf-8")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";" if semicolon else ","))


def test_csv_and_xlsx_read_back_and_equal_the_dashboard(pilot, tmp_path):
    _week(pilot, "card_admin", MONDAY_W37, [30, 45], journeys_avoided=1, km_avoided="240",
          note="=HYPERLINK(\"http://x\")")
    _week(pilot, "card_admin2", MONDAY_W37, [15], approve_by="evaluator", note="@SUM(A1)")
    evaluator = pilot.users["evaluator"]
    f = exports.ExportFilter()
    data = b"".join(exports.csv_chunks(evaluator, f, bom=True, semicolon=True))
    assert data.startswith("\ufeff".encode())
    table = _read_csv(data, semicolon=True)
    assert table[0] == exports.HEADER and len(table) == 4
    notes = {r[16] for r in table[1:]}
    assert notes == {"'=HYPERLINK(\"http://x\")", "'@SUM(A1)"}
    assert {r[6] for r in table[1:]} == {"0,50", "0,75", "0,25"}  # decimal comma with semicolons
    csv_minutes = sum(int(r[5]) for r in table[1:])
    csv_km = sum(Decimal(r[15].replace(",", ".")) for r in table[1:])
    _sites, combined = figures.dashboard(2026)
    assert csv_minutes == combined.total.minutes == 90
    assert csv_km == combined.total.km == 480

    handle = exports.xlsx_file(evaluator, f)
    path = tmp_path / "t.xlsx"
    path.write_bytes(handle.read())
    sheet = openpyxl.load_workbook(path, read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == exports.HEADER
    assert sum(v[5] for v in values[1:]) == combined.total.minutes
    assert all(not str(v[16]).startswith("=") for v in values[1:])


def test_filters_and_scope(pilot):
    _week(pilot, "card_admin", MONDAY_W37, [30])
    _week(pilot, "card_admin2", MONDAY_W37 + timedelta(weeks=1), [15], approve_by=None)
    ev = pilot.users["evaluator"]
    assert exports.totals(ev, exports.ExportFilter(status="approved"))["minutes"] == 30
    assert exports.totals(ev, exports.ExportFilter(status="submitted"))["minutes"] == 15
    assert exports.totals(ev, exports.ExportFilter(user_id=pilot.users["card_admin2"].id))["rows"] == 1
    assert exports.totals(ev, exports.ExportFilter(date_from=MONDAY_W37 + timedelta(days=1)))["rows"] == 1
    assert exports.totals(ev, exports.ExportFilter(activity_id=pilot.activities["travel"]))["rows"] == 0
    assert exports.count(pilot.users["card_admin"], exports.ExportFilter()) == 1  # own entries only
    assert exports.count(pilot.users["orderer"], exports.ExportFilter()) == 0
    assert exports.count(pilot.users["ra_kommun"], exports.ExportFilter()) == 2
    assert exports.count(pilot.users["ra_officer"], exports.ExportFilter()) == 0
    with pytest.raises(InvalidInput):
        exports.ExportFilter(status="nonsense")


def test_monthly_statistics_per_municipality(pilot):
    money.save_rate(pilot.users["admin"], None, organisation_id=pilot.world.municipality_id,
                    valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31), rate="400", on_cost_percent="0")
    _week(pilot, "card_admin", MONDAY_W37, [90], journeys_avoided=2, km_avoided="480")
    (row,) = monthly_statistics(2026)
    assert (row.municipality, row.month, row.minutes, row.journeys) == ("Lycksele kommun", "2026-09", 90, 2)
    assert row.reimbursement == Decimal("600.00")


def test_a_pack_for_one_year_holds_only_that_years_money(pilot):
    """Two years of one pilot with the same name (Pilot Lycksele 2025 and 2026): the 2026 pack counts 2026 only,
    per period, per site and per organisation served."""
    from cardadmin.accounts import service as accounts
    from cardadmin.evaluation import pack

    accounts.save_pilot_period(pilot.users["admin"], None, desk_id=pilot.world.desk_id, name="Pilot Lycksele",
                               year=2025, week_from=37, week_to=43)
    money.save_rate(pilot.users["admin"], None, organisation_id=pilot.world.municipality_id,
                    valid_from=date(2025, 1, 1), valid_to=date(2026, 12, 31), rate="600", on_cost_percent="0")
    _week(pilot, "card_admin", date.fromisocalendar(2025, 37, 1), [120])  # 1 200 kr, the year before
    _week(pilot, "card_admin", MONDAY_W37, [30])  # 300 kr
    built = pack.build(2026)
    assert built.reimbursement_total == Decimal("300.00")
    assert [(r.key, r.minutes) for r in built.reimbursement_by_period] == [("Pilot Lycksele", 30)]
    assert [(r.key, r.minutes) for r in built.reimbursement_by_served] == [("Region Västerbotten", 30)]
    ((_site, _cards, paid, _inera, _per_card),) = built.cost_per_card_by_site()
    assert paid == Decimal("300.00")
    ((_org, _cards, staff_paid, _inera, _per_card),) = built.cost_per_card_by_organisation()
    assert staff_paid == Decimal("300.00")
    assert pack.build(2025).reimbursement_total == Decimal("1200.00")


def test_the_pack_adds_up_every_municipalitys_time_for_one_organisation_served(pilot):
    """Lycksele and Vindeln both served the region's staff: the per-organisation cost counts both desks' time."""
    from cardadmin.accounts import service as accounts
    from cardadmin.evaluation import pack
    from cardadmin.roles import Role
    from tests.conftest import PASSWORD

    admin = pilot.users["admin"]
    vindeln = accounts.save_organisation(admin, None, name="Vindelns kommun", org_number="212000-2460",
                                         kind="municipality")
    desk = accounts.save_desk(admin, None, name="Kortutlämning Vindeln", town="Vindeln", organisation_id=vindeln.id,
                              is_regional=False, opening_hours="")
    accounts.save_pilot_period(admin, None, desk_id=desk.id, name="Pilot Vindeln", year=2026, week_from=37,
                               week_to=45)
    clerk = accounts.create_user(admin, accounts.UserInput("clerk_vindeln", "Clerk", roles=[Role.CARD_ADMIN],
                                                           organisation_id=vindeln.id, desk_ids=[desk.id]), PASSWORD)
    for org_id in (pilot.world.municipality_id, vindeln.id):
        money.save_rate(admin, None, organisation_id=org_id, valid_from=date(2026, 1, 1),
                        valid_to=date(2026, 12, 31), rate="600", on_cost_percent="0")
    _week(pilot, "card_admin", MONDAY_W37, [30])  # 300 kr
    service.create_entry(clerk, entry(pilot, desk_id=desk.id, start="", end="", duration=60))  # 600 kr
    sheets.approve(pilot.users["evaluator"], sheets.submit(clerk, 2026, 37).id)
    ((org, _cards, staff_paid, _inera, _per_card),) = pack.build(2026).cost_per_card_by_organisation()
    assert (org, staff_paid) == ("Region Västerbotten", Decimal("900.00"))


def test_a_user_with_two_roles_exports_what_either_role_allows(pilot):
    """An RA officer of the region who is also a card administrator at the Lycksele desk exports the region's
    desks' entries and their own (the first role's scope alone left their own out)."""
    from cardadmin.accounts import service as accounts
    from cardadmin.roles import Role
    from tests.conftest import PASSWORD

    both = accounts.create_user(pilot.users["admin"], accounts.UserInput(
        "ra_and_desk", "Ra Och Disk", roles=[Role.RA_OFFICER, Role.CARD_ADMIN],
        organisation_id=pilot.world.region_id, desk_ids=[pilot.world.desk_id]), PASSWORD)
    service.create_entry(both, entry(pilot, start="", end="", duration=20))
    _week(pilot, "card_admin", MONDAY_W37, [30], approve_by=None)
    assert exports.totals(both, exports.ExportFilter())["minutes"] == 20
    assert exports.count(pilot.users["ra_kommun"], exports.ExportFilter()) == 2  # the municipality's desk


def test_inera_costs_count_the_hsa_entries_the_billing_report_bills_to_the_pilot(pilot):
    """HSA entries created at the pilot desk in its pilot weeks (Swedish time) are charged; the pack and
    /hsa/rapport's pilot rows agree. Creation is dated by the act (the change log), not by when it was typed in."""
    from datetime import datetime, time

    from cardadmin.hsa import service as hsa
    from cardadmin.hsa.changelog import ChangeContext
    from cardadmin.hsa.report import billing_rows
    from cardadmin.hsa.service import PersonEntryInput
    from cardadmin.timefmt import LOCAL

    settings.save_price(pilot.users["evaluator"], item="hsa_entry", valid_from=date(2020, 1, 1),
                        valid_to=date(2030, 12, 31), price="25")
    period = db.session.get(figures.PilotPeriod, pilot.period_id)
    clerk, admin = pilot.users["card_admin"], pilot.users["admin"]
    last_sunday = date.fromisocalendar(2026, 43, 7)

    def create(actor, local, day, clock, desk_id):
        at = datetime.combine(day, clock, tzinfo=LOCAL)
        hsa.create_person_entry(ChangeContext(actor, "web", desk_id=desk_id, at=at), PersonEntryInput(
            hsa_id=f"SE2321000222-{local}", given_name="Åsa", surname="Öberg"))

    create(clerk, "P1", MONDAY_W37 + timedelta(days=2), time(10), pilot.world.desk_id)
    create(clerk, "P2", last_sunday, time(23, 30), pilot.world.desk_id)  # 21:30 UTC: still the pilot's last day
    create(clerk, "P3", last_sunday + timedelta(days=1), time(0, 30), pilot.world.desk_id)  # Sunday in UTC, V.44 here
    create(admin, "P4", MONDAY_W37 + timedelta(days=3), time(10), pilot.world.other_desk_id)  # another desk
    create(admin, "P5", MONDAY_W37 + timedelta(days=3), time(11), pilot.world.desk_id)  # an admin at the pilot desk
    db.session.commit()
    (row,) = inera_costs([period])
    assert row.organisation == "Region Västerbotten"
    assert row.counts[PriceItem.HSA_ENTRY] == 3 and row.cost(PriceItem.HSA_ENTRY) == Decimal("75.00")
    (billed,) = [r for r in billing_rows(pilot.users["evaluator"]) if r.period_kind == "pilot"]
    assert billed.created == row.counts[PriceItem.HSA_ENTRY]


def test_monthly_statistics_count_a_card_in_the_month_it_was_handed_over(pilot):
    """An order placed on New Year's Eve (Swedish time) and collected in January counts as ordered in December
    and handed over in January, also in the new year's statistics."""
    from datetime import datetime, time

    from cardadmin.db import acting_at
    from cardadmin.orders import service as orders
    from cardadmin.orders.states import Status
    from cardadmin.timefmt import LOCAL
    from tests.test_orders_service import DOC, order_for, to_status

    with acting_at(datetime.combine(date(2025, 12, 31), time(23, 30), tzinfo=LOCAL)):  # 22:30 UTC
        order = order_for(pilot.world, "NY1")
        to_status(pilot.world, order, Status.AT_DESK, card_number="975200000009991")
    with acting_at(datetime.combine(date(2026, 1, 8), time(10), tzinfo=LOCAL)):
        orders.hand_over(pilot.users["card_admin"], order.id, "975200000009991", DOC)
    db.session.commit()
    assert [(r.month, r.orders, r.handed_over) for r in monthly_statistics(2025)] == [("2025-12", 1, 0)]
    assert [(r.month, r.orders, r.handed_over) for r in monthly_statistics(2026)] == [("2026-01", 0, 1)]
