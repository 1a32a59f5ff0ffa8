"""Time entries: the rules of logging (one home), each act audited. Services flush; edges commit.

Bad input never changes anything: every check runs before the first write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from cardadmin import audit
from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, Unit, User
from cardadmin.db import db, utcnow
from cardadmin.errors import Conflict, Forbidden, InvalidInput, NotFound
from cardadmin.roles import Role
from cardadmin.security import require_role
from cardadmin.timefmt import today
from cardadmin.timelog import rules, sums
from cardadmin.timelog.models import Activity, JourneyDistance, SheetStatus, TimeEntry, Timesheet
from cardadmin.validation import clean_text, free_text, unique_or_conflict


@dataclass
class EntryInput:
    work_date: date | None
    desk_id: int | None
    activity_id: int | None
    organisation_id: int | None
    start: str | None = None  # "08:30"
    end: str | None = None
    duration: str | int | None = None  # "1:30" or minutes
    persons_handled: int | str | None = 0
    journeys_avoided: int | str | None = 0
    km_avoided: str | Decimal | None = None  # None: journeys × the configured distance
    unit_id: int | None = None  # the recipients' unit, for the distance; optional
    note: str = ""
    source: str = ""


def period_for(desk_id: int, day: date) -> PilotPeriod | None:
    """The desk's pilot period whose ISO weeks contain ``day`` (week 53 and the year boundary included)."""
    iso_year, iso_week = rules.iso_week_of(day)
    return db.session.scalar(
        select(PilotPeriod).where(PilotPeriod.desk_id == desk_id, PilotPeriod.year == iso_year,
                                  PilotPeriod.week_from <= iso_week, PilotPeriod.week_to >= iso_week)
    )


def pilot_periods_of(actor: User) -> list[PilotPeriod]:
    """The pilot periods of the actor's desks, earliest first."""
    desk_ids = [d.id for d in actor.desks]
    return list(db.session.scalars(select(PilotPeriod).where(PilotPeriod.desk_id.in_(desk_ids))
                                   .order_by(PilotPeriod.year, PilotPeriod.week_from))) if desk_ids else []


def default_week(actor: User) -> tuple[int, int]:
    """The week the time page opens on: this week while it is in one of the actor's pilot periods, else the
    last week of the latest pilot that ended within a year (time is often logged afterwards), else this week."""
    day = today()
    now = rules.iso_week_of(day)
    ended = []
    for period in pilot_periods_of(actor):
        if period.year == now[0] and period.week_from <= now[1] <= period.week_to:
            return now
        last = (period.year, period.week_to)
        if last < now and (day - rules.week_monday(*last)).days <= 365:
            ended.append(last)
    return max(ended) if ended else now


def default_km(desk_id: int, unit_id: int | None) -> Decimal:
    """Round-trip km for one journey avoided: the unit/desk pair if configured, else the desk's default."""
    rows = {row.unit_id: row.km for row in db.session.scalars(
        select(JourneyDistance).where(JourneyDistance.desk_id == desk_id,
                                      (JourneyDistance.unit_id == unit_id) | JourneyDistance.unit_id.is_(None)))}
    return rows.get(unit_id, rows.get(None, Decimal("0")))


def sheet_for(user_id: int, iso_year: int, iso_week: int, *, create: bool, lock: bool = False) -> Timesheet | None:
    stmt = select(Timesheet).where(Timesheet.user_id == user_id, Timesheet.iso_year == iso_year,
                                   Timesheet.iso_week == iso_week)
    sheet = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if sheet is None and create:
        sheet = Timesheet(user_id=user_id, iso_year=iso_year, iso_week=iso_week, status=SheetStatus.OPEN)
        with unique_or_conflict("Veckans tidrapport skapades samtidigt i ett annat fönster. Försök igen."):
            db.session.add(sheet)
    return sheet


def require_open(sheet: Timesheet | None) -> None:
    if sheet is None or sheet.status == SheetStatus.OPEN:
        return
    week = f"v.{sheet.iso_week:02d} {sheet.iso_year}"
    if sheet.status == SheetStatus.APPROVED:
        raise Conflict(f"Tidrapporten för {week} är godkänd och låst. Den kan bara ändras om den öppnas igen "
                       "med en motivering.")
    raise Conflict(f"Tidrapporten för {week} är inskickad. Öppna den igen för att ändra.")


def _checked_fields(actor: User, data: EntryInput, *, exclude_id: int | None = None) -> dict[str, Any]:
    """Every rule of an entry, before anything is written; returns the entry's columns."""
    if data.work_date is None:
        raise InvalidInput("Ange datum.", field="work_date")
    if data.work_date > today():
        raise InvalidInput("Tid kan inte rapporteras för ett datum som inte har varit än.", field="work_date")
    start = rules.parse_clock(data.start, "Starttiden", "start")
    end = rules.parse_clock(data.end, "Sluttiden", "end")
    minutes = rules.entry_minutes(start, end, rules.parse_duration(data.duration))
    if data.desk_id not in {d.id for d in actor.desks}:
        raise Forbidden("Välj en av dina kortutlämningar.")
    period = period_for(data.desk_id, data.work_date)
    if period is None:
        raise InvalidInput(f"{data.work_date:%Y-%m-%d} (v.{rules.iso_week_of(data.work_date)[1]:02d}) ligger utanför "
                           "kortutlämningens pilotperioder.", field="work_date")
    activity = db.session.get(Activity, data.activity_id or 0)
    if activity is None or not activity.active:
        raise InvalidInput("Välj en aktivitet.", field="activity_id")
    if db.session.get(Organisation, data.organisation_id or 0) is None:
        raise InvalidInput("Välj vilken organisations personal arbetet gällde.", field="organisation_id")
    if data.unit_id is not None and db.session.get(Unit, data.unit_id) is None:
        raise InvalidInput("Enheten finns inte.", field="unit_id")
    persons = rules.bounded_count(data.persons_handled, "Antal personer/kort", "persons_handled")
    journeys = rules.bounded_count(data.journeys_avoided, "Antal undvikna resor", "journeys_avoided")
    km = rules.parse_amount(data.km_avoided, "Undvikna km", "km_avoided", maximum=Decimal("100000"), places=1)
    if km is None:
        km = journeys * default_km(data.desk_id, data.unit_id)
    note = free_text(data.note, "Anteckning", where="anteckningen", max_length=2000, required=False, field="note")
    iso_year, iso_week = rules.iso_week_of(data.work_date)
    same_day = list(db.session.scalars(select(TimeEntry).where(
        TimeEntry.user_id == actor.id, TimeEntry.work_date == data.work_date,
        TimeEntry.id != (exclude_id or 0))))
    if start is not None and end is not None:
        for other in same_day:
            if other.start_time and other.end_time and rules.overlaps(start, end, other.start_time, other.end_time):
                raise Conflict(f"Tiden överlappar en annan post samma dag ({other.start_time:%H:%M}–"
                               f"{other.end_time:%H:%M}, {other.activity.name}).")
    if sum(o.minutes for o in same_day) + minutes > rules.DAY_MINUTES:
        raise InvalidInput("Mer än 24 timmar samma dag kan inte rapporteras.", field="duration")
    return {
        "user_id": actor.id, "desk_id": data.desk_id, "pilot_period_id": period.id, "activity_id": activity.id,
        "organisation_id": data.organisation_id, "work_date": data.work_date, "iso_year": iso_year,
        "iso_week": iso_week, "start_time": start, "end_time": end, "minutes": minutes,
        "persons_handled": persons, "journeys_avoided": journeys, "km_avoided": km, "note": note,
        "source": clean_text(data.source, "Källa", max_length=60, required=False),
    }


def _audit_data(entry: TimeEntry) -> dict[str, Any]:
    return {
        "work_date": entry.work_date.isoformat(), "week": f"{entry.iso_year}-W{entry.iso_week:02d}",
        "start": entry.start_time.strftime("%H:%M") if entry.start_time else None,
        "end": entry.end_time.strftime("%H:%M") if entry.end_time else None, "minutes": entry.minutes,
        "desk_id": entry.desk_id, "activity_id": entry.activity_id, "organisation_id": entry.organisation_id,
        "persons_handled": entry.persons_handled, "journeys_avoided": entry.journeys_avoided,
        "km_avoided": str(entry.km_avoided), "source": entry.source,
    }


def _record(actor: User, action: str, entry: TimeEntry, extra: dict[str, Any] | None = None) -> None:
    audit.record(db.session, actor, action, "time_entry", entry.id, {**_audit_data(entry), **(extra or {})},
                 organisation_id=entry.desk.organisation_id)


def create_entry(actor: User, data: EntryInput) -> TimeEntry:
    require_role(actor, Role.CARD_ADMIN)
    fields = _checked_fields(actor, data)
    sheet = sheet_for(actor.id, fields["iso_year"], fields["iso_week"], create=True, lock=True)
    require_open(sheet)
    assert sheet is not None
    entry = TimeEntry(timesheet_id=sheet.id, **fields)
    db.session.add(entry)
    sums.recount(sums.key_of(entry))
    _record(actor, "time_entry.create", entry)
    return entry


def get_own_entry(actor: User, entry_id: int, *, lock: bool = False) -> TimeEntry:
    """``lock``: for a change, the row locked and read as it is now (another tab may have just corrected or
    removed it: acting on what was read before would audit stale values and miscount the week's total)."""
    stmt = select(TimeEntry).where(TimeEntry.id == entry_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    entry = db.session.scalar(stmt)
    if entry is None or entry.user_id != actor.id:
        raise NotFound("Tidsposten finns inte.")
    return entry


def update_entry(actor: User, entry_id: int, data: EntryInput) -> TimeEntry:
    require_role(actor, Role.CARD_ADMIN)
    entry = get_own_entry(actor, entry_id, lock=True)
    require_open(sheet_for(actor.id, entry.iso_year, entry.iso_week, create=False, lock=True))
    fields = _checked_fields(actor, data, exclude_id=entry.id)
    fields["source"] = entry.source  # where an entry came from does not change
    sheet = sheet_for(actor.id, fields["iso_year"], fields["iso_week"], create=True, lock=True)
    require_open(sheet)
    assert sheet is not None
    before, old_key = _audit_data(entry), sums.key_of(entry)
    for key, value in fields.items():
        setattr(entry, key, value)
    entry.timesheet_id, entry.updated_at = sheet.id, utcnow()
    db.session.flush()
    db.session.refresh(entry)
    sums.recount(old_key)
    if sums.key_of(entry) != old_key:
        sums.recount(sums.key_of(entry))
    after = _audit_data(entry)
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    _record(actor, "time_entry.update", entry, {"changed": changed})
    return entry


def delete_entry(actor: User, entry_id: int) -> None:
    require_role(actor, Role.CARD_ADMIN)
    entry = get_own_entry(actor, entry_id, lock=True)
    require_open(sheet_for(actor.id, entry.iso_year, entry.iso_week, create=False, lock=True))
    _record(actor, "time_entry.delete", entry)
    key = sums.key_of(entry)
    db.session.delete(entry)
    sums.recount(key)


def entries_of_week(user_id: int, iso_year: int, iso_week: int) -> list[TimeEntry]:
    return list(db.session.scalars(
        select(TimeEntry).where(TimeEntry.user_id == user_id, TimeEntry.iso_year == iso_year,
                                TimeEntry.iso_week == iso_week)
        .order_by(TimeEntry.work_date, TimeEntry.start_time, TimeEntry.id)))


def week_minutes(user_id: int, iso_year: int, iso_week: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(
        TimeEntry.user_id == user_id, TimeEntry.iso_year == iso_year, TimeEntry.iso_week == iso_week)) or 0)


# ---------------------------------------------------------------- the activity list (admins)


def active_activities() -> list[Activity]:
    return list(db.session.scalars(select(Activity).where(Activity.active.is_(True))
                                   .order_by(Activity.sort_order, Activity.name)))


def activity_by_code(code: str) -> Activity | None:
    return db.session.scalar(select(Activity).where(Activity.code == code))


def save_activity(actor: User, activity_id: int | None, *, name: str, active: bool = True,
                  sort_order: int = 0) -> Activity:
    require_role(actor, Role.ADMIN)
    name = clean_text(name, "Namn", max_length=100)
    if activity_id is None:
        code = "custom_" + "".join(c if c.isalnum() else "_" for c in name.lower())[:30]
        activity = Activity(code=code, name=name, active=bool(active), sort_order=sort_order)
        action = "activity.create"
    else:
        found = db.session.get(Activity, activity_id)
        if found is None:
            raise NotFound("Aktiviteten finns inte.")
        activity, action = found, "activity.update"
    with unique_or_conflict(f"Aktiviteten {name} finns redan."):
        db.session.add(activity)
        activity.name, activity.active, activity.sort_order = name, bool(active), sort_order
    audit.record(db.session, actor, action, "activity", activity.id,
                 {"name": name, "active": activity.active, "sort_order": sort_order})
    return activity


def seed_activities() -> None:
    """The issue's list, for databases made by create_all (tests); the migration seeds the same rows."""
    from cardadmin.timelog.models import SEED_ACTIVITIES

    existing = set(db.session.scalars(select(Activity.code)))
    for n, (code, name) in enumerate(SEED_ACTIVITIES):
        if code not in existing:
            db.session.add(Activity(code=code, name=name, active=True, sort_order=n))
    db.session.flush()


def save_distance(
    actor: User, *, desk_id: int, unit_id: int | None, km: str | Decimal, label: str = ""
) -> JourneyDistance:
    require_role(actor, Role.ADMIN)
    if db.session.get(Desk, desk_id) is None:
        raise NotFound("Kortutlämningen finns inte.")
    if unit_id is not None and db.session.get(Unit, unit_id) is None:
        raise InvalidInput("Enheten finns inte.", field="unit_id")
    value = rules.parse_amount(km, "Avstånd (km)", "km", maximum=Decimal("5000"), places=1)
    if value is None:
        raise InvalidInput("Ange avståndet i km.", field="km")
    label = clean_text(label, "Benämning", max_length=100, required=False)
    row = db.session.scalar(select(JourneyDistance).where(
        JourneyDistance.desk_id == desk_id,
        JourneyDistance.unit_id.is_(None) if unit_id is None else JourneyDistance.unit_id == unit_id))
    if row is None:
        row = JourneyDistance(desk_id=desk_id, unit_id=unit_id, km=value, label="")
    with unique_or_conflict("Avståndet finns redan."):
        db.session.add(row)
        row.km, row.label = value, label
    audit.record(db.session, actor, "journey_distance.save", "journey_distance", row.id,
                 {"desk_id": desk_id, "unit_id": unit_id, "km": str(value), "label": row.label})
    return row
