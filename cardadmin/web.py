"""Small helpers the HTML views share: commit-or-explain for form submissions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash

from cardadmin.db import db
from cardadmin.errors import CardAdminError

T = TypeVar("T")


def attempt(action: Callable[[], T]) -> tuple[T | None, int]:
    """Run a service call and commit; on a domain error roll back, flash the Swedish message and return
    its status so the form is shown again with what the user typed."""
    try:
        result = action()
        db.session.commit()
    except CardAdminError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return None, exc.status
    return result, 200


def form_status(submitted: bool, status: int) -> int:
    """A form that was posted but did not validate answers 400, so clients and tests can tell."""
    return 400 if submitted and status == 200 else status
