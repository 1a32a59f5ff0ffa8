"""The weekly running totals (WeekSum): added to and taken from by the entry services, in the entry's
transaction, while the timesheet row is locked (so two writers of one week queue). ``rebuild`` recomputes
them from the entries (after a bulk load; the tests check both ways agree)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, func, insert, select

from cardadmin.db import db
from cardadmin.timelog.models import TimeEntry, WeekSum


def apply(entry: TimeEntry, sign: int) -> None:
    """Add (+1) or take away (-1) one entry's figures."""
    key = {"timesheet_id": entry.timesheet_id, "desk_id": entry.desk_id, "pilot_period_id": entry.pilot_period_id,
           "activity_id": entry.activity_id}
    row = db.session.scalar(select(WeekSum).filter_by(**key))
    if row is None:
        row = WeekSum(**key, iso_year=entry.iso_year, iso_week=entry.iso_week, entries=0, minutes=0,
                      persons_handled=0, journeys_avoided=0, km_avoided=Decimal("0"))
        db.session.add(row)
    row.entries += sign
    row.minutes += sign * entry.minutes
    row.persons_handled += sign * entry.persons_handled
    row.journeys_avoided += sign * entry.journeys_avoided
    row.km_avoided += sign * Decimal(entry.km_avoided)
    if row.entries == 0:
        db.session.delete(row)
    db.session.flush()


def rebuild() -> int:
    """Recompute every weekly total from the entries; returns the number of rows."""
    db.session.execute(delete(WeekSum))
    group = (TimeEntry.timesheet_id, TimeEntry.desk_id, TimeEntry.pilot_period_id, TimeEntry.activity_id,
             TimeEntry.iso_year, TimeEntry.iso_week)
    db.session.execute(insert(WeekSum).from_select(
        ["timesheet_id", "desk_id", "pilot_period_id", "activity_id", "iso_year", "iso_week", "entries", "minutes",
         "persons_handled", "journeys_avoided", "km_avoided"],
        select(*group, func.count(), func.sum(TimeEntry.minutes), func.sum(TimeEntry.persons_handled),
               func.sum(TimeEntry.journeys_avoided), func.sum(TimeEntry.km_avoided)).group_by(*group)))
    db.session.flush()
    return int(db.session.scalar(select(func.count()).select_from(WeekSum)) or 0)
