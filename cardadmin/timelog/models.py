"""Time entries, the activity list, weekly timesheets, hourly rates and journey distances.

A time entry belongs to its author's timesheet for the ISO week of its date (``iso_year``/``iso_week`` are stored
so that weekly figures group without date arithmetic in SQL). Minutes are whole minutes; money is Decimal.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, User
from cardadmin.db import Base, UTCDateTime, utcnow


class SheetStatus(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    APPROVED = "approved"  # locked

    @property
    def label(self) -> str:
        return SHEET_LABELS[self]


SHEET_LABELS = {SheetStatus.OPEN: "Öppen", SheetStatus.SUBMITTED: "Inskickad", SheetStatus.APPROVED: "Godkänd (låst)"}

# (code, Swedish name) seeded by the migration and by seed_activities(); admins edit names and add more.
SEED_ACTIVITIES = [
    ("identity_handover", "Id-kontroll och utlämning"),
    ("order_handling", "Beställningshantering"),
    ("hsa_entry", "HSA-registrering"),
    ("pin_puk_support", "PIN/PUK och support"),
    ("revocation", "Spärr"),
    ("card_stock", "Kortlager"),
    ("travel", "Resor"),
    ("training", "Utbildning"),
    ("coordination", "Samordning och möten"),
    ("service_desk", "Servicedesk"),
    ("other", "Övrigt"),
]


class Activity(Base):
    __tablename__ = "timelog_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Timesheet(Base):
    """One user's ISO week: open → submitted → approved (locked); reopened only with a reason."""

    __tablename__ = "timesheet"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=SheetStatus.OPEN)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reopen_reason: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    __table_args__ = (
        UniqueConstraint("user_id", "iso_year", "iso_week", name="uq_timesheet_user_week"),
        CheckConstraint("status IN ('open', 'submitted', 'approved')", name="status"),
        CheckConstraint("iso_week BETWEEN 1 AND 53", name="week"),
        Index("ix_timesheet_status", "status", "iso_year", "iso_week"),
    )


class TimeEntry(Base):
    __tablename__ = "time_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    timesheet_id: Mapped[int] = mapped_column(ForeignKey("timesheet.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"))
    pilot_period_id: Mapped[int] = mapped_column(ForeignKey("pilot_period.id"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("timelog_activity.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))  # whose staff the work was for
    work_date: Mapped[date] = mapped_column(Date)
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time | None] = mapped_column(Time)  # local (Europe/Stockholm) wall-clock times
    end_time: Mapped[time | None] = mapped_column(Time)
    minutes: Mapped[int] = mapped_column(Integer)
    persons_handled: Mapped[int] = mapped_column(Integer, default=0)
    journeys_avoided: Mapped[int] = mapped_column(Integer, default=0)
    km_avoided: Mapped[Decimal] = mapped_column(Numeric(9, 1), default=Decimal("0"))
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(60), default="")  # "audit:<seq>" when confirmed from a suggestion
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    timesheet: Mapped[Timesheet] = relationship()
    user: Mapped[User] = relationship()
    desk: Mapped[Desk] = relationship()
    pilot_period: Mapped[PilotPeriod] = relationship()
    activity: Mapped[Activity] = relationship()
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        CheckConstraint("minutes BETWEEN 1 AND 1440", name="minutes"),
        CheckConstraint("persons_handled >= 0 AND journeys_avoided >= 0 AND km_avoided >= 0", name="counts"),
        CheckConstraint("iso_week BETWEEN 1 AND 53", name="week"),
        Index("ix_time_entry_user_date", "user_id", "work_date"),
        Index("ix_time_entry_desk_week", "desk_id", "iso_year", "iso_week"),
    )


class WeekSum(Base):
    """Running weekly totals per timesheet, desk, period and activity, kept by the entry services in the same
    transaction as the entry (cardadmin/timelog/sums.py). The dashboards read these few rows instead of
    summing every entry, so a pilot's dashboard costs the same with a thousand entries or a million."""

    __tablename__ = "time_week_sum"

    id: Mapped[int] = mapped_column(primary_key=True)
    timesheet_id: Mapped[int] = mapped_column(ForeignKey("timesheet.id"))
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"))
    pilot_period_id: Mapped[int] = mapped_column(ForeignKey("pilot_period.id"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("timelog_activity.id"))
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    persons_handled: Mapped[int] = mapped_column(Integer, default=0)
    journeys_avoided: Mapped[int] = mapped_column(Integer, default=0)
    km_avoided: Mapped[Decimal] = mapped_column(Numeric(12, 1), default=Decimal("0"))

    __table_args__ = (
        UniqueConstraint("timesheet_id", "desk_id", "pilot_period_id", "activity_id", name="uq_time_week_sum_key"),
        Index("ix_time_week_sum_desk_week", "desk_id", "iso_year", "iso_week"),
    )


class HourlyRate(Base):
    """What the region pays a municipality per hour of card work, for dates in [valid_from, valid_to]."""

    __tablename__ = "hourly_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    rate: Mapped[Decimal] = mapped_column(Numeric(10, 2))  # SEK per hour
    on_cost_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))  # personalomkostnad

    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        CheckConstraint("valid_from <= valid_to", name="dates"),
        CheckConstraint("rate >= 0 AND on_cost_percent >= 0", name="amounts"),
    )


class JourneyDistance(Base):
    """Round-trip km a card recipient saves by collecting at ``desk`` instead of the regional desk.

    ``unit_id`` None is the desk's default; a unit row overrides it for that unit's staff."""

    __tablename__ = "journey_distance"

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    km: Mapped[Decimal] = mapped_column(Numeric(7, 1))
    label: Mapped[str] = mapped_column(String(100), default="")  # "Lycksele–Umeå"

    desk: Mapped[Desk] = relationship()

    __table_args__ = (
        UniqueConstraint("desk_id", "unit_id", name="uq_journey_distance_pair"),
        CheckConstraint("km >= 0", name="km"),
    )
