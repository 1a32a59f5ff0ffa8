"""The demo has a pilot's worth of time: both sites, approved, submitted and open weeks, money and costs."""

from __future__ import annotations

from sqlalchemy import func, select

from cardadmin import demo
from cardadmin.db import db
from cardadmin.evaluation import pack
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
