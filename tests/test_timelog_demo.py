"""The demo has a pilot's worth of time: both sites, approved, submitted and open weeks, money and costs."""

from __future__ import annotations

from sqlalchemy import func, select

from cardadmin import demo
from cardadmin.db import db
from cardadmin.evaluation import pack
from cardadmin.evaluation.models import PriceItem
from cardadmin.timelog.models import Timesheet


def test_demo_time_log_and_evaluation(app_ctx):
    assert demo.load_demo_data()
    db.session.commit()
    statuses = dict(db.session.execute(select(Timesheet.status, func.count()).group_by(Timesheet.status)).all())
    assert statuses["approved"] >= 8 and statuses["submitted"] == 2 and statuses["open"] == 2
    built = pack.build(demo.demo_year())
    assert {s.name for s in built.sites} == {"Kortutlämning Lycksele", "Kortutlämning Vindeln"}
    assert built.combined.total.hours > 50 and built.km > 1000
    assert built.reimbursement_total > 0 and len(built.risks) == 3 and built.observations


def test_demo_orders_lie_in_the_pilot_weeks_and_agree_with_the_time_log(app_ctx):
    """The dashboard tells one story: every pilot week with identity checks has cards handed over, as many as the
    time entries say were checked; every order state is still there."""
    from cardadmin.audit.service import verify
    from cardadmin.orders.models import Order
    from cardadmin.orders.states import Status

    assert demo.load_demo_data()
    db.session.commit()
    states = set(db.session.scalars(select(Order.status)))
    assert states == {str(s) for s in Status}
    built = pack.build(demo.demo_year())
    for site in built.sites:
        for week, f in list(site.weeks.items())[1:]:  # the first week: cards ordered, not yet collected
            assert f.orders > 0 and f.handed_over > 0, (site.name, week)
            assert f.minutes_per_card is not None and f.median_lead is not None
            assert f.journeys == f.handed_over, (site.name, week)  # one journey avoided per card handed over
    assert built.combined.total.handed_over >= 80
    assert all(c.cards > 0 and c.counts[PriceItem.HSA_ENTRY] > 0 for c in built.costs) and len(built.costs) == 2
    assert verify(db.session).ok
