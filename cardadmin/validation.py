"""Input rules every service shares: trimmed, bounded text (free text without personal identity numbers);
HSA-IDs; unique-constraint races as 409s."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy.exc import IntegrityError

from cardadmin.db import db
from cardadmin.errors import Conflict, InvalidInput
from cardadmin.identifiers import parse_hsa_id, scrub_personnummer

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_text(value: str | None, label: str, *, max_length: int, required: bool = True) -> str:
    """Trimmed text within ``max_length``; control characters (NUL and the like, from a file, a directory or
    a hostile form) are refused here rather than by the database (PostgreSQL refuses NUL with an error)."""
    value = (value or "").strip()
    if _CONTROL.search(value):
        raise InvalidInput(f"{label} innehåller otillåtna tecken.", field=label)
    if required and not value:
        raise InvalidInput(f"{label} måste fyllas i.", field=label)
    if len(value) > max_length:
        raise InvalidInput(f"{label} får vara högst {max_length} tecken.", field=label)
    return value


def free_text(value: str | None, label: str, *, where: str, max_length: int, required: bool = True,
              field: str | None = None) -> str:
    """Text a user types that is stored and later shown or exported (a description, comment, reason, note):
    ``clean_text``, and a personal identity number in it is refused (they are shown masked, never stored in
    free text, logged or exported). ``where`` names the field in the message: 'Skriv inte personnummer i
    beskrivningen.'"""
    text = clean_text(value, label, max_length=max_length, required=required)
    if scrub_personnummer(text) != text:
        raise InvalidInput(f"Skriv inte personnummer i {where}.", field=field or label)
    return text


def email_input(value: str | None, *, field: str = "email") -> str:
    """An optional e-mail address of the shape name@domain.tld ('' when empty)."""
    mail = clean_text(value, "E-post", max_length=254, required=False)
    if mail and not _MAIL.match(mail):
        raise InvalidInput("E-postadressen ser inte ut som en e-postadress.", field=field)
    return mail


def hsa_id_input(value: str | None, label: str = "HSA-id", *, required: bool = True) -> str | None:
    """A typed HSA-ID, validated (test IDs only where the configuration allows them); None if optional and empty."""
    if not (value or "").strip():
        if required:
            raise InvalidInput(f"{label} måste fyllas i.", field="hsa_id")
        return None
    try:
        hsa_id, _org = parse_hsa_id(value or "", allow_test=current_app.config["ALLOW_TEST_IDENTITIES"])
    except ValueError as exc:
        raise InvalidInput(str(exc), field="hsa_id") from None
    return hsa_id


@contextmanager
def unique_or_conflict(message: str) -> Iterator[None]:
    """Make the change in the block in a SAVEPOINT and flush it there: a unique-constraint race becomes a clear
    409 instead of a 500, only that change is undone, and the transaction goes on (the objects read as stored).

    What was pending before the block is flushed first, outside: Session.begin_nested() flushes before it
    emits SAVEPOINT, so a change made before opening the savepoint was never covered by it (the conflict left
    a dead transaction), and an error of an earlier change would have been reported as this conflict."""
    db.session.flush()
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError:
        raise Conflict(message) from None
