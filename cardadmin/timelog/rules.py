"""Pure input rules of a time entry: times, durations, amounts, ISO weeks. No database here."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from cardadmin.errors import InvalidInput
from cardadmin.timefmt import weeks_in_year

DAY_MINUTES = 24 * 60
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_DURATION = re.compile(r"^(?:(\d{1,2})[:.](\d{2})|(\d{1,4}))$")


def parse_clock(value: str | None, label: str, field: str) -> time | None:
    text = (value or "").strip()
    if not text:
        return None
    match = _CLOCK.match(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidInput(f"{label} ska skrivas som TT:MM, till exempel 08:30.", field=field)
    return time(int(match[1]), int(match[2]))


def parse_duration(value: str | int | None) -> int | None:
    """Minutes from "1:30" (hours:minutes) or "90" (minutes); None when empty."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    negative = text.startswith("-")
    match = _DURATION.match(text.lstrip("-").strip())
    if not match:
        raise InvalidInput("Ange tiden som timmar:minuter (1:30) eller minuter (90).", field="duration")
    minutes = int(match[3]) if match[3] else int(match[1]) * 60 + int(match[2])
    if match[2] and int(match[2]) > 59:
        raise InvalidInput("Minuterna ska vara 0–59.", field="duration")
    return -minutes if negative else minutes


def entry_minutes(start: time | None, end: time | None, duration: int | None) -> int:
    """The entry's length: from start–end when both are given, else the duration. Refuses zero and negatives,
    and a duration that disagrees with start–end (which one did the user mean?)."""
    if (start is None) != (end is None):
        raise InvalidInput("Ange både start- och sluttid, eller bara en tidsåtgång.", field="end")
    if start is not None and end is not None:
        minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        if minutes < 0:
            raise InvalidInput("Sluttiden ligger före starttiden. En post som går över midnatt delas i två.",
                               field="end")
        if duration is not None and duration != minutes:
            raise InvalidInput(f"Tidsåtgången ({duration // 60}:{duration % 60:02d}) stämmer inte med start- och "
                               f"sluttiden ({minutes // 60}:{minutes % 60:02d}). Ändra tiderna eller töm "
                               "tidsåtgången.", field="duration")
    elif duration is None:
        raise InvalidInput("Ange start- och sluttid eller en tidsåtgång.", field="duration")
    else:
        minutes = duration
    if minutes <= 0:
        raise InvalidInput("Tiden måste vara längre än noll minuter.", field="duration")
    if minutes > DAY_MINUTES:
        raise InvalidInput("En post kan inte vara längre än 24 timmar.", field="duration")
    return minutes


def overlaps(a_start: time, a_end: time, b_start: time, b_end: time) -> bool:
    return a_start < b_end and b_start < a_end


def bounded_count(value: int | str | None, label: str, field: str, *, maximum: int = 10_000) -> int:
    text = str(value if value is not None else "").strip()
    if not text:
        return 0
    if not re.fullmatch(r"\d{1,6}", text) or int(text) > maximum:
        raise InvalidInput(f"{label} ska vara ett heltal 0–{maximum}.", field=field)
    return int(text)


def parse_amount(value: str | int | float | Decimal | None, label: str, field: str, *,
                 maximum: Decimal = Decimal("1000000"), places: int = 2) -> Decimal | None:
    """A non-negative decimal typed the Swedish way ("12,5") or the API way (12.5); None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{label} ska vara ett tal.", field=field)
    # Spaces between thousands as people and the pages write them (also no-break and thin no-break ones).
    text = re.sub(r"[ \u00a0\u202f]", "", str(value).strip()).replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{label} ska vara ett tal.", field=field) from None
    if not amount.is_finite() or amount < 0 or amount > maximum:
        raise InvalidInput(f"{label} ska vara ett tal mellan 0 och {maximum}.", field=field)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise InvalidInput(f"{label} får ha högst {places} decimaler.", field=field)
    return amount


def iso_week_of(day: date) -> tuple[int, int]:
    year, week, _ = day.isocalendar()
    return year, week


def week_monday(iso_year: int, iso_week: int) -> date:
    return date.fromisocalendar(iso_year, iso_week, 1)


def week_days(iso_year: int, iso_week: int) -> list[date]:
    monday = week_monday(iso_year, iso_week)
    return [monday + timedelta(days=n) for n in range(7)]


def period_dates(year: int, week_from: int, week_to: int) -> tuple[date, date]:
    """First and last calendar day of an ISO week range."""
    return week_monday(year, week_from), week_monday(year, week_to) + timedelta(days=6)


def parse_iso_week(text: str | None) -> tuple[int, int] | None:
    """ "2026-W37" or "2026-37" → (2026, 37); None when empty."""
    raw = (text or "").strip()
    if not raw:
        return None
    match = re.fullmatch(r"(\d{4})-?W?(\d{1,2})", raw, flags=re.IGNORECASE)
    if not match or not 2000 <= int(match[1]) <= 2100 or not 1 <= int(match[2]) <= weeks_in_year(int(match[1])):
        raise InvalidInput("Veckan ska anges som ÅÅÅÅ-Wvv, till exempel 2026-W37.", field="week")
    return int(match[1]), int(match[2])


def local_now_naive(now: datetime) -> datetime:
    from cardadmin.timefmt import LOCAL

    return now.astimezone(LOCAL).replace(tzinfo=None)
