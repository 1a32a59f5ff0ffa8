"""What a card's own data must look like: its number and its expiry date.

The one home for both rules; registration, hand-over, expiry, the sweep, the API and the search all use them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, and_

from cardadmin.errors import InvalidInput
from cardadmin.orders.models import Card

CARD_NUMBER_MIN, CARD_NUMBER_MAX = 6, 32
# SITHS card numbers are ISO/IEC 7812 numbers ('9752' + digits + a Luhn digit; see docs/hardware-notes.md):
# digits only. People type them in groups, so spaces and hyphens are dropped.
_SEPARATORS = re.compile(r"[\s-]")
_DIGITS = re.compile(r"[0-9]*", re.ASCII)
CARD_NUMBER_MESSAGE = f"Kortnumret ska bestå av {CARD_NUMBER_MIN}–{CARD_NUMBER_MAX} siffror (mellanslag går bra)."
MAX_VALIDITY_YEARS = 10
When = TypeVar("When", date, datetime)


def normalise_card_number(value: str | None) -> str:
    """A card number as typed ('9752 0000 0000 07') → as stored ('97520000000007'); else a Swedish 400."""
    number = _SEPARATORS.sub("", value or "")
    if not number:
        raise InvalidInput("Fyll i kortnumret.", field="card_number")
    if not (_DIGITS.fullmatch(number) and CARD_NUMBER_MIN <= len(number) <= CARD_NUMBER_MAX):
        raise InvalidInput(CARD_NUMBER_MESSAGE, field="card_number")
    return number


def card_number_prefix(value: str | None) -> str:
    """The beginning of a card number for a search ('' when none was typed); letters are refused, as no card
    number holds one."""
    number = _SEPARATORS.sub("", value or "")[:CARD_NUMBER_MAX]
    if not _DIGITS.fullmatch(number):
        raise InvalidInput("Kortnumret består bara av siffror.", field="card_number")
    return number


def check_expiry_for_registration(expires_on: date | None, today: date) -> None:
    """A card registered at the desk must still be valid, and not valid beyond any real card's lifetime."""
    if expires_on is None:
        return
    if expires_on < today:
        raise InvalidInput(f"Kortet gick ut {expires_on.isoformat()} – ett utgånget kort kan inte registreras. "
                           "Kontrollera datumet på kortet.", field="expires_on")
    if expires_on > add_years(today, MAX_VALIDITY_YEARS):
        raise InvalidInput(f"”Giltigt till” ligger mer än {MAX_VALIDITY_YEARS} år fram i tiden. "
                           "Kontrollera datumet på kortet.", field="expires_on")


def has_expired(card: Card, today: date) -> bool:
    """The card's last valid day ('Giltigt till') is before ``today``."""
    return card.expires_on is not None and card.expires_on < today


def expired_on(today: date) -> ColumnElement[bool]:
    """``has_expired`` as a query condition (the sweep)."""
    return and_(Card.expires_on.is_not(None), Card.expires_on < today)


def add_years(moment: When, years: int) -> When:
    """The same day ``years`` later (a date or a datetime)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February → 1 March: never shorter than the full period
        return moment.replace(year=moment.year + years, month=3, day=1)
