"""The base of every form: WTForms' own messages in Swedish.

Flask-WTF translates WTForms' messages only through Flask-Babel, which the app does not use, so its forms said
"This field is required." and "Number must be between 1 and 53.". Every form derives from ``Form``, whose Meta
loads WTForms' Swedish catalogue (shipped with WTForms) and puts right the few entries it leaves half-translated.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask_wtf import FlaskForm
from wtforms.i18n import get_translations

LOCALES = ("sv",)

# WTForms' Swedish catalogue keeps some English-Swedish ("kunde inte ceorce:a") or leaves off the full stop.
_BETTER = {
    "Invalid Choice: could not coerce.": "Ogiltigt val.",
    "Invalid choice(s): one or more data inputs could not be coerced.": "Ogiltigt val.",
    "Choices cannot be None.": "Det finns inget att välja.",
    "Not a valid choice.": "Inte ett giltigt val.",
    "Not a valid datetime value.": "Inte ett giltigt datum och klockslag.",
    "Not a valid date value.": "Inte ett giltigt datum.",
    "Not a valid integer value.": "Inte ett giltigt heltal.",
    "Not a valid decimal value.": "Inte ett giltigt decimaltal.",
    "Not a valid float value.": "Inte ett giltigt tal.",
    "Number must be between %(min)s and %(max)s.": "Talet måste vara mellan %(min)s och %(max)s.",
    "Number must be at least %(min)s.": "Talet får inte vara mindre än %(min)s.",
    "Number must be at most %(max)s.": "Talet får inte vara större än %(max)s.",
}


class _Swedish:
    def __init__(self) -> None:
        self._catalogue = get_translations(list(LOCALES))

    def gettext(self, string: str) -> str:
        return _BETTER.get(string) or self._catalogue.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue.ngettext(singular, plural, n)


@cache
def swedish() -> _Swedish:
    return _Swedish()


class Form(FlaskForm):
    class Meta:
        locales = LOCALES

        def get_translations(self, form: Any) -> _Swedish:
            return swedish()
