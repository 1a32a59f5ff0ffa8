"""Numbers for people, the Swedish way: a non-breaking space between thousands, a decimal comma, a fixed number
of decimals per quantity, never scientific notation. For pages only: CSV and XLSX exports keep machine-readable
numbers (XLSX cells stay numbers)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

THOUSANDS = "\u00a0"  # no-break space: 12 345 never wraps between its groups
MISSING = "–"


def sv_number(value: Any, decimals: int | None = None) -> str:
    """``value`` with ``decimals`` decimals (rounded half up), or as many as it has (none for whole numbers) when
    ``decimals`` is None. None reads "–"; text (a label, an empty cell) is returned as it is."""
    if value is None:
        return MISSING
    if isinstance(value, bool | str):
        return str(value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))  # str(): a float's shortest form
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    if decimals is None:
        number = number.normalize()
        decimals = max(0, -int(number.as_tuple().exponent))
    number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if number == 0:
        number = abs(number)  # no "-0,00"
    text = f"{number:,.{decimals}f}"
    return text.replace(",", THOUSANDS).replace(".", ",").replace("-", "\u2212")
