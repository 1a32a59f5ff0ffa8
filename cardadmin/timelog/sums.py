"""The weekly totals (WeekSum) the dashboards read: one row per timesheet, desk, pilot period and activity.

The entry services recount a key's row from its entries after every change, in the entry's transaction,
while the timesheet row is locked (so two writers of one week queue). Recounting instead of adding and taking
away what the service had read means a total cannot drift from its entries: taking away an entry as a
concurrent tab had read it, before the other tab corrected or removed it, made a week's total negative.
``rebuild`` recomputes every row (after a bulk load; the tests check both ways agree)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select

from cardadmin.db import db
from cardadmin.timelog.models import TimeEntry, WeekSum

KEY = ("timesheet_id", "desk_id", "pilot_period_id", "activity_id")


def key_of(entry: TimeEntry) -> dict[str, Any]:
    """The weekly total ``entry`` counts in (take it before changing the entry: it may move to another)."""
    return {name: getattr(entry, name) for name in KEY}


def recount(key: dict[str, Any]) -> None:
    """Set one weekly total to what its entries add up to now (flushed changes included); no entries, no row."""
    db.session.flush()
    count, minutes, persons, journeys, km, iso_year, iso_week = db.session.execute(
        select(func.count(), func.sum(TimeEntry.minutes), func.sum(TimeEntry.persons_handled),
               func.sum(TimeEntry.journeys_avoided), func.sum(TimeEntry.km_avoided), func.min(TimeEntry.iso_year),
               func.min(TimeEntry.iso_week))
        .filter_by(**key)).one()
    row = db.session.scalar(select(WeekSum).filter_by(**key))
    if not count:
        if row is not None:
            db.session.delete(row)
    else:
        if row is None:
            row = WeekSum(**key, iso_year=iso_year, iso_week=iso_week)
            db.session.add(row)
        row.entries, row.minutes, row.persons_handled = int(count), int(minutes), int(persons)
        row.journeys_avoided, row.km_avoided = int(journeys), Decimal(km)
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
