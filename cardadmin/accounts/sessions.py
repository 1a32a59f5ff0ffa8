"""Login sessions held on the server.

The signed cookie carries only a random session key; the row it names says whether the session is still
live. Logout, idle expiry and a CSRF failure end that row, so a copy of the cookie taken earlier is refused
afterwards; a password change, deactivation or role change rotates ``User.session_token`` and so ends every
session of the user at once. The idle clock is the row's ``last_seen_at``, not anything in the cookie: a
replayed cookie cannot carry a fresher time than the server recorded.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g, request, session
from sqlalchemy import delete, or_, select, update

from cardadmin.accounts.models import LoginSession, User
from cardadmin.db import db, utcnow

SESSION_KEY = "sid"
# Ended or expired rows are kept this long for support questions ("was I logged out?"), then dropped.
KEEP_ENDED = timedelta(days=7)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(user: User) -> None:
    """A new server-side session for ``user`` in this request's cookie (call right after login_user)."""
    now = utcnow()
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            or_(LoginSession.ended_at < now - KEEP_ENDED, LoginSession.last_seen_at < now - KEEP_ENDED),
        )
    )
    key = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, key_hash=_digest(key), created_at=now, last_seen_at=now))
    session[SESSION_KEY] = key


def end_current(reason: str = "logout") -> None:
    """End the session this request's cookie names (the caller commits)."""
    key = session.get(SESSION_KEY)
    if isinstance(key, str):
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.key_hash == _digest(key), LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason)
        )


def _touch_interval() -> timedelta:
    """How stale ``last_seen_at`` may get before a request writes it: a tenth of the idle timeout, at most a
    minute, so a session ends within 10 % of the timeout and most requests only read."""
    return min(timedelta(minutes=1), current_app.config["IDLE_TIMEOUT"] / 10)


def check_request() -> None:
    """Runs first on every request: decide whether the cookie's session is live (``g.login_session_live``,
    read by the user loader), end it when idle, and move its idle clock. Commits its own small write before
    the request's transaction begins (on SQLite a writer's transaction starts right after this)."""
    g.login_session_live = False
    g.login_session_idle = False
    if request.path.startswith("/api/") or request.endpoint == "static" or "_user_id" not in session:
        return
    key = session.get(SESSION_KEY)
    try:
        _check(key if isinstance(key, str) else None)
    finally:
        db.session.commit()  # ends this read (or write): the request's own transaction begins afresh


def _check(key: str | None) -> None:
    row = db.session.scalar(select(LoginSession).where(LoginSession.key_hash == _digest(key))) if key else None
    if row is None or row.ended_at is not None:
        return
    now = utcnow()
    if now - row.last_seen_at > current_app.config["IDLE_TIMEOUT"]:
        row.ended_at, row.end_reason = now, "idle"
        g.login_session_idle = True
    elif now - row.last_seen_at >= _touch_interval():
        row.last_seen_at = now
        g.login_session_live = True
    else:
        g.login_session_live = True


def is_live() -> bool:
    return bool(g.get("login_session_live"))


def ended_idle() -> bool:
    return bool(g.get("login_session_idle"))
