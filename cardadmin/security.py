"""Login, roles and the deny-by-default gate.

Every view declares who may use it with ``@allow(...)`` (roles), ``@allow_authenticated`` or ``@public``;
a view that declares nothing is refused to everyone. The gate runs before every request, so a refused
role never reaches the view, and the role × route matrix test reads the same declarations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import AnonymousUserMixin, LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import ColumnElement, false, or_, select, true

from cardadmin.accounts.models import User
from cardadmin.db import db
from cardadmin.errors import Forbidden, Unauthorized
from cardadmin.roles import ALL_ROLES, Role

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
csrf = CSRFProtect()
password_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

PUBLIC = "public"
AUTHENTICATED = "authenticated"
ACCESS_ATTR = "_cardadmin_access"


def public(view: F) -> F:
    setattr(view, ACCESS_ATTR, PUBLIC)
    return view


def allow_authenticated(view: F) -> F:
    setattr(view, ACCESS_ATTR, AUTHENTICATED)
    return view


def allow(*roles: Role) -> Callable[[F], F]:
    if not roles:
        raise ValueError("allow() needs at least one role")

    def decorate(view: F) -> F:
        setattr(view, ACCESS_ATTR, frozenset(roles))
        return view

    return decorate


def access_of(view: Callable[..., Any] | None) -> str | frozenset[Role] | None:
    return getattr(view, ACCESS_ATTR, None) if view is not None else None


def roles_allowed(view: Callable[..., Any] | None) -> frozenset[Role]:
    """The roles that may use a view: every role for public/authenticated views, none if undeclared."""
    access = access_of(view)
    if access in (PUBLIC, AUTHENTICATED):
        return ALL_ROLES
    return access if isinstance(access, frozenset) else frozenset()


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    try:
        # With no stored hash (unknown user) verify against a throwaway so timing does not tell.
        return password_hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(password_hasher.hash("not-a-password"))
    return _DUMMY[0]


class Anonymous(AnonymousUserMixin):
    roles: frozenset[Role] = frozenset()

    def has_role(self, *roles: Role) -> bool:
        return False


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    from cardadmin.accounts import sessions

    if not sessions.is_live():
        return None  # logged out, idle too long, or a cookie from before the server-side session
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def _is_api_request() -> bool:
    return request.path.startswith("/api/")


def _gate() -> Any:
    """Deny by default: the view must say who may use it."""
    if request.endpoint is None or request.endpoint == "static":
        return None  # 404s and static files
    if _is_api_request():
        return None  # the API blueprint authenticates by token and checks roles itself
    view = current_app.view_functions.get(request.endpoint)
    access = access_of(view)
    if access == PUBLIC:
        return None
    if not current_user.is_authenticated:
        from cardadmin.accounts import sessions

        if sessions.ended_idle():
            session.clear()
            flash("Du har loggats ut efter en stunds inaktivitet. Logga in igen.", "info")
            if request.method not in ("GET", "HEAD"):
                raise Unauthorized("Sessionen har gått ut. Logga in igen.")
            return redirect(url_for("auth.login"))
        if request.method in ("GET", "HEAD"):
            flash("Logga in för att fortsätta.", "info")
            return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
        raise Unauthorized("Du är inte inloggad, eller så har sessionen gått ut. Logga in igen.")
    if access == AUTHENTICATED:
        return None
    if isinstance(access, frozenset) and current_user.has_role(*access):
        return None
    raise Forbidden("Du saknar behörighet för den här sidan.")


def require_role(user: Any, *roles: Role) -> None:
    """Services call this too: the rule holds whatever edge the call comes from."""
    if user is None or not user.has_role(*roles):
        raise Forbidden("Du saknar behörighet för den här åtgärden.")


Grant = tuple[Role, ColumnElement[bool] | None]  # a role and what it lets its holder read (None: nothing)


def role_scope(actor: Any, grants: Callable[[Any], Iterable[Grant]], *,
               everything: tuple[Role, ...] = (Role.ADMIN,)) -> ColumnElement[bool]:
    """The one rule for what a user may read, as a condition for a WHERE clause: everything for the roles in
    ``everything`` (and for the system, ``actor`` None); otherwise the union of what each of the user's roles
    grants (a user with two roles sees what either allows), and nothing without a role that grants anything.
    ``grants(actor)`` gives (role, condition) pairs; a condition of None: that role grants this user nothing
    (an RA officer without an organisation, a card administrator without a desk)."""
    if actor is None or (everything and actor.has_role(*everything)):
        return true()
    terms = [term for role, term in grants(actor) if term is not None and actor.has_role(role)]
    return or_(*terms) if terms else false()


def _security_headers(response: Any) -> Any:
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if "attachment" in headers.get("Content-Disposition", "") or g.get("api_user") is not None:
        headers["Cache-Control"] = "no-store"  # personal data: a download (send_file says no-cache), API JSON
    elif current_user and current_user.is_authenticated:
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    from cardadmin.accounts import sessions

    # First of all before-request functions: its own commit must come before a request's transaction begins.
    app.before_request_funcs.setdefault(None, []).insert(0, sessions.check_request)
    app.before_request(_gate)
    app.after_request(_security_headers)


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username.strip().lower()))
