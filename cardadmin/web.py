"""Small helpers the edges share: commit-or-explain for form submissions, whole numbers from a request."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any, TypeVar

from flask import flash, request

from cardadmin.db import db
from cardadmin.errors import CardAdminError, InvalidInput

T = TypeVar("T")
MAX_ID = 2**31 - 1  # what an INTEGER column holds on every database we run on


def whole_number(raw: Any, maximum: int = MAX_ID) -> int | None:
    """``raw`` (an id, a count or a page size typed into a URL or a form) as a whole number 0…``maximum``, else
    None. ASCII digits only: str.isdigit() also takes '²', which int() refuses (that was a 500)."""
    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)) or int(text) > maximum:
        return None
    return int(text)


def whole_numbers(values: Iterable[Any]) -> list[int]:
    """The ids among a multi-valued field's values (bulk actions), in order; anything else is left out."""
    return [n for n in map(whole_number, values) if n is not None]


def int_arg(name: str, *, refuse: str | None = None, values: Mapping[str, Any] | None = None) -> int | None:
    """A whole number from the query string (or ``values``, such as request.form): None when absent or when it
    is no number, unless ``refuse`` is given: then that is the message of a 400 (where ignoring the value would
    widen what is shown or exported)."""
    raw = str((request.args if values is None else values).get(name, "") or "").strip()
    number = whole_number(raw)
    if number is None and raw and refuse:
        raise InvalidInput(refuse, field=name)
    return number


def date_arg(name: str, label: str, *, values: Mapping[str, Any] | None = None) -> date | None:
    """A date (ÅÅÅÅ-MM-DD) from the query string (or ``values``): None when absent; InvalidInput (a 400 naming
    ``label``) when it is no date."""
    raw = str((request.args if values is None else values).get(name, "") or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{label} ska vara ett datum ÅÅÅÅ-MM-DD.", field=name) from None


def attempt(action: Callable[[], T], *, form: Any = None, about: str = "") -> tuple[T | None, int]:
    """Run a service call and commit; on a domain error roll back and return its status so the form is shown
    again with what the user typed. The Swedish messages go next to ``form``'s fields they name, the rest are
    flashed; with ``about`` (which names the row on a page of many forms) every message is flashed after it."""
    try:
        result = action()
        db.session.commit()
    except CardAdminError as exc:
        db.session.rollback()
        errors = exc.errors if isinstance(exc, InvalidInput) and exc.errors else {exc.field or "": exc.message}
        for name, message in errors.items():
            field = form[name] if form is not None and name and name in form else None
            if field is not None:
                field.errors = [*field.errors, message]
            if field is None or about:
                flash(f"{about}: {message}" if about else message, "error")
        return None, exc.status
    return result, 200


def form_status(submitted: bool, status: int) -> int:
    """A form that was posted but did not validate answers 400, so clients and tests can tell."""
    return 400 if submitted and status == 200 else status


class IdPath:
    """The path of ``endpoint`` for many ids: one ``url_for``, then joins. A list page links each row to its
    order, person and card, and ``url_for`` was the largest part of what a result row cost to render."""

    _MARK = 987654321

    def __init__(self, endpoint: str, key: str) -> None:
        from flask import url_for

        self.head, _, self.tail = url_for(endpoint, **{key: self._MARK}).partition(str(self._MARK))

    def __call__(self, value: int) -> str:
        return f"{self.head}{int(value)}{self.tail}"
