"""UTC in the database; Europe/Stockholm and ISO weeks at the edge."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Stockholm")


def local(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


def today() -> date:
    """The Swedish calendar day now (the date a desk's rules mean by 'today')."""
    return datetime.now(UTC).astimezone(LOCAL).date()


def local_day_start(day: date) -> datetime:
    """The UTC instant a Swedish calendar day begins."""
    return datetime.combine(day, time.min, tzinfo=LOCAL).astimezone(UTC)


def local_day_end(day: date) -> datetime:
    return local_day_start(day + timedelta(days=1))


def weeks_in_year(iso_year: int) -> int:
    """52 or 53: the ISO week of 28 December is always the year's last."""
    return date(iso_year, 12, 28).isocalendar().week


def iso_week_label(value: date) -> str:
    year, week, _ = value.isocalendar()
    return f"{year} v.{week:02d}"
