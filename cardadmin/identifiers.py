"""Swedish identifiers: organisation numbers, HSA-IDs and personal identity numbers.

The one home for their validation and masking; services, forms, audit and exports all call these.
"""

from __future__ import annotations

import re
from datetime import date

HSA_ID_MAX_LENGTH = 31
TEST_HSA_PREFIX = "TSTNMT"
# re.ASCII: \d is 0-9 only (by default it also takes other scripts' digits, such as '٢', which int() reads).
_HSA_ID = re.compile(r"^(?P<prefix>SE|TSTNMT)(?P<org>\d{10})-(?P<local>[A-Za-z0-9]+)$", re.ASCII)
_PERSONNUMMER = re.compile(r"^(?P<century>\d{2})?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})[-+]?(?P<tail>\d{4})$",
                           re.ASCII)
# Anything that looks like a personal identity number inside free text (12 or 10 digits, optional separator).
# Separators people type between birth date and number: - + space, en/em dash, non-breaking space.
_PNR_IN_TEXT = re.compile(r"(?<!\d)(\d{2})?(\d{6})[-+\s\u2013\u2014\u00a0]?(\d{4})(?!\d)")


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check over a string of digits, as used by Swedish person and organisation numbers."""
    if not digits.isdecimal():  # isdigit() also takes '²', which int() refuses
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def normalise_org_number(value: str) -> str:
    """'232100-0222' or '2321000222' → '2321000222'. Raises ValueError with a Swedish message."""
    digits = (value or "").strip().replace("-", "")
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        raise ValueError("Organisationsnumret ska ha tio siffror, t.ex. 232100-0222.")
    if not luhn_ok(digits):
        raise ValueError("Organisationsnumrets kontrollsiffra stämmer inte.")
    return digits


def format_org_number(digits: str) -> str:
    return f"{digits[:6]}-{digits[6:]}" if len(digits) == 10 else digits


def organisation_number_of(hsa_id: str) -> str | None:
    """The organisation number inside an HSA-ID ('SE2321000222-4KX7' → '2321000222'), read by the same pattern
    that validates one; None for a value without an HSA-ID's shape (nothing else is checked here)."""
    match = _HSA_ID.match((hsa_id or "").strip())
    return match["org"] if match else None


def parse_hsa_id(value: str, *, allow_test: bool) -> tuple[str, str]:
    """Validate an HSA-ID and return (it, its organisation number). Raises ValueError (Swedish)."""
    value = (value or "").strip()
    if len(value) > HSA_ID_MAX_LENGTH:
        raise ValueError(f"Ett HSA-id får vara högst {HSA_ID_MAX_LENGTH} tecken.")
    match = _HSA_ID.match(value)
    if not match:
        raise ValueError("HSA-id ska ha formen SE + tiosiffrigt organisationsnummer + '-' + tecken A–Z, a–z, 0–9.")
    if match["prefix"] == TEST_HSA_PREFIX and not allow_test:
        raise ValueError("Test-HSA-id (TSTNMT…) är inte tillåtna i produktion.")
    if not luhn_ok(match["org"]):
        raise ValueError("Organisationsnumret i HSA-id:t har fel kontrollsiffra.")
    return value, match["org"]


_HSA_ID_TAIL = re.compile(r"\d{0,9}|\d{10}(-[A-Za-z0-9]*)?", re.ASCII)  # what may follow the prefix, as in _HSA_ID


def could_begin_hsa_id(text: str) -> bool:
    """Whether ``text`` is the beginning of a well-formed HSA-ID ('SE', 'SE2321000222-4K', 'TSTNMT…'): every
    stored one is (``parse_hsa_id`` guards every way in), so a search text that is not needs no HSA-ID lookup."""
    if not 0 < len(text) <= HSA_ID_MAX_LENGTH:
        return False
    return any(prefix.startswith(text) or (text.startswith(prefix)
                                           and _HSA_ID_TAIL.fullmatch(text[len(prefix):]) is not None)
               for prefix in ("SE", TEST_HSA_PREFIX))


def parse_personnummer(value: str, *, today: date | None = None) -> str:
    """Validate a personnummer or samordningsnummer; return it as YYYYMMDDNNNN. Raises ValueError (Swedish)."""
    match = _PERSONNUMMER.match((value or "").strip())
    if not match:
        raise ValueError("Personnumret ska skrivas ÅÅÅÅMMDD-NNNN.")
    today = today or date.today()
    yy, mm, dd, tail = int(match["yy"]), int(match["mm"]), int(match["dd"]), match["tail"]
    if match["century"]:
        year = int(match["century"]) * 100 + yy
    else:  # ten digits: '+' marks a person of 100 years or more
        year = (today.year // 100) * 100 + yy
        if year > today.year:
            year -= 100
        if "+" in value:
            year -= 100
    day = dd - 60 if dd > 60 else dd  # samordningsnummer: day + 60
    try:
        date(year, mm, day)
    except ValueError:
        raise ValueError("Personnumret innehåller inget giltigt datum.") from None
    if not luhn_ok(f"{yy:02d}{mm:02d}{dd:02d}{tail}"):
        raise ValueError("Personnumrets kontrollsiffra stämmer inte.")
    return f"{year:04d}{mm:02d}{dd:02d}{tail}"


def mask_personnummer(value: str) -> str:
    """Show the birth date only: '19800101-****'."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 12:
        return f"{digits[:8]}-****"
    if len(digits) == 10:
        return f"{digits[:6]}-****"
    return "****"


def scrub_personnummer(text: str) -> str:
    """Mask anything in free text that is a valid-looking personal identity number (Luhn checked)."""

    def _mask(match: re.Match[str]) -> str:
        birth, tail = match[2], match[3]
        month, day = int(birth[2:4]), int(birth[4:6])
        # Organisation numbers also pass Luhn, but their "month" is 20 or more.
        plausible = 1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91)
        return f"{match[1] or ''}{birth}-****" if plausible and luhn_ok(birth + tail) else match[0]

    return _PNR_IN_TEXT.sub(_mask, text)
