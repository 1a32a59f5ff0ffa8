"""Numbers on the pages: Swedish separators, fixed decimals, no scientific notation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cardadmin.numfmt import sv_number

NB = "\u00a0"


@pytest.mark.parametrize(("value", "decimals", "shown"), [
    (Decimal("4.5E+2"), None, "450"),             # an assumption read back normalised: was "4.5E+2"
    (Decimal("7E+1"), None, "70"),
    (Decimal("0.1200"), None, "0,12"),
    (Decimal("26585.00"), 2, f"26{NB}585,00"),    # kronor: always öre
    (Decimal("1234567.005"), 2, f"1{NB}234{NB}567,01"),  # half up, as money.to_ore
    (720.0, 0, "720"),
    (16.0, 1, "16,0"),
    (16.73, 1, "16,7"),
    (15.62, 1, "15,6"),
    (0.1 + 0.2, None, "0,30000000000000004"),  # a float's own digits when none are asked for
    (3, None, "3"),
    (12345, None, f"12{NB}345"),
    (Decimal("-0.001"), 2, "0,00"),
    (Decimal("-1500"), 0, f"\u22121{NB}500"),
    (None, 1, "–"),
    ("", 2, ""),
    ("Lycksele", None, "Lycksele"),
])
def test_sv_number(value, decimals, shown):
    assert sv_number(value, decimals) == shown


def test_the_filter_is_there_for_templates(app):
    with app.app_context():
        assert app.jinja_env.from_string("{{ x|sv_number(2) }}").render(x=Decimal("1234.5")) == f"1{NB}234,50"


def test_a_shown_number_is_read_back_by_the_forms():
    from cardadmin.timelog.rules import parse_amount

    assert parse_amount(sv_number(Decimal("12345.5"), 2), "Pris", "price") == Decimal("12345.50")
    assert parse_amount("12\u202f345,5", "Pris", "price") == Decimal("12345.5")
