"""Login throttle under parallel attempts on real PostgreSQL: a burst gets exactly the limit's password checks."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from cardadmin.accounts import service
from cardadmin.accounts.models import LoginFailure
from cardadmin.db import db
from cardadmin.errors import CardAdminError
from tests.conftest import PASSWORD

pytestmark = pytest.mark.postgres


def _burst(app: Any, monkeypatch: Any, passwords: list[str]) -> tuple[list[str], list[str]]:
    """Every attempt at once (a Barrier, no sleeps); returns the passwords evaluated and each attempt's outcome."""
    evaluated: list[str] = []
    guard = threading.Lock()
    real_check = service.check_password

    def counting_check(stored: str | None, password: str) -> bool:
        with guard:
            evaluated.append(password)
        return real_check(stored, password)

    monkeypatch.setattr(service, "check_password", counting_check)
    barrier = threading.Barrier(len(passwords))
    outcomes: list[str] = []

    def attempt(password: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                service.authenticate("card_admin", password, "10.0.0.66")
                outcome = "in"
            except CardAdminError as exc:
                outcome = type(exc).__name__
            db.session.commit()
            with guard:
                outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(p,)) for p in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return evaluated, outcomes


def test_parallel_wrong_passwords_get_exactly_the_limit(app: Any, world: Any, monkeypatch: Any) -> None:
    evaluated, outcomes = _burst(app, monkeypatch, ["wrong-password"] * 12)
    assert len(evaluated) == 5
    assert sorted(outcomes) == ["InvalidInput"] * 5 + ["TooManyAttempts"] * 7


def test_right_password_in_a_burst_after_limit_minus_one_failures(app: Any, world: Any, monkeypatch: Any) -> None:
    with app.app_context():
        for _ in range(4):
            db.session.add(LoginFailure(username="card_admin", address="10.0.0.66"))
        db.session.commit()
    evaluated, outcomes = _burst(app, monkeypatch, ["wrong-password"] * 11 + [PASSWORD])
    if evaluated[0] != PASSWORD:  # the one check left went to a wrong guess: the right password stays out
        assert len(evaluated) == 1 and "in" not in outcomes
        assert outcomes.count("TooManyAttempts") == 11
    else:  # the right password came first: in, and its success starts this source's count afresh
        assert outcomes.count("in") == 1 and len(evaluated) == 6
