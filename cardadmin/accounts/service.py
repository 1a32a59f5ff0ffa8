"""Rules for accounts and the organisation register. Every change writes its audit row; callers commit."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, text, update

from cardadmin import audit
from cardadmin.accounts.models import (
    ApiToken,
    Desk,
    LoginFailure,
    Organisation,
    PilotPeriod,
    Unit,
    User,
    UserRole,
)
from cardadmin.db import SQLITE_IMMEDIATE, db, utcnow
from cardadmin.errors import Conflict, InvalidInput, NotFound, TooManyAttempts
from cardadmin.identifiers import normalise_org_number
from cardadmin.roles import Role
from cardadmin.security import check_password, hash_password, require_role
from cardadmin.timefmt import weeks_in_year
from cardadmin.validation import clean_text, email_input, hsa_id_input, unique_or_conflict

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "ca_"  # noqa: S105 (a prefix, not a secret)


# ---------------------------------------------------------------- helpers


def get_or_404(model: type, object_id: Any, what: str) -> Any:
    obj = db.session.get(model, object_id) if object_id is not None else None
    if obj is None:
        raise NotFound(f"{what} finns inte.")
    return obj


def _apply(obj: Any, changes: dict[str, Any]) -> dict[str, list[Any]]:
    """Set attributes and return the audit diff {field: [old, new]} of what really changed."""
    diff: dict[str, list[Any]] = {}
    for field, new in changes.items():
        old = getattr(obj, field)
        if old != new:
            setattr(obj, field, new)
            diff[field] = [old, new]
    return diff


# ---------------------------------------------------------------- login and throttling


def _serialize_attempts(username: str, address: str) -> None:
    """Make count, check and record one step: concurrent attempts on the same account or from the same address
    wait for each other until the caller commits (PostgreSQL: transaction advisory locks, always taken in the
    same order; SQLite: the transaction starts as the one writer, as for any unsafe request)."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        for key in (f"login:address:{address}", f"login:user:{username}"):
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    elif not session.in_transaction():
        session.connection(execution_options={SQLITE_IMMEDIATE: True})


def _failures(*conditions: Any) -> int:
    return db.session.scalar(select(func.count()).where(*conditions)) or 0


def authenticate(username: str, password: str, address: str) -> User:
    """Check a login. Failures are recorded (the caller commits even on failure, which also releases the lock
    that serializes attempts). Throttled per source (account and client address together), per client address,
    and by a higher ceiling per account over all sources; each limit expires with LOGIN_THROTTLE_WINDOW. A
    throttled login is refused without looking at the password."""
    username = (username or "").strip().lower()[:64]
    address = (address or "unknown")[:45]
    config = current_app.config
    since = utcnow() - config["LOGIN_THROTTLE_WINDOW"]
    minutes = int(config["LOGIN_THROTTLE_WINDOW"].total_seconds() // 60)
    _serialize_attempts(username, address)
    recent = LoginFailure.at >= since
    of_account, of_address = LoginFailure.username == username, LoginFailure.address == address
    if (
        _failures(of_account, of_address, recent) >= config["LOGIN_MAX_FAILURES_PER_SOURCE"]
        or _failures(of_address, recent) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
        or _failures(of_account, recent) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    ):
        raise TooManyAttempts(f"För många misslyckade inloggningar. Vänta {minutes} minuter och försök igen.")
    user = db.session.scalar(select(User).where(User.username == username))
    if not check_password(user.password_hash if user else None, password or "") or not (user and user.active):
        db.session.add(LoginFailure(username=username, address=address))
        db.session.flush()
        raise InvalidInput("Fel användarnamn eller lösenord.")
    # Only this source's failures: someone else's failed guesses keep counting towards the account's ceiling.
    db.session.execute(delete(LoginFailure).where(of_account, of_address))
    user.last_login_at = utcnow()
    audit.record(
        db.session, user, "user.login", "user", user.id, {"address": address}, organisation_id=user.organisation_id
    )
    return user


def record_logout(user: User) -> None:
    audit.record(db.session, user, "user.logout", "user", user.id, organisation_id=user.organisation_id)


# ---------------------------------------------------------------- users


# The roles whose scope is an organisation: without one, the user could act for nobody (an orderer orders for
# their organisation's staff, an RA officer decides for it, a card administrator's time is reimbursed to it).
NEEDS_ORGANISATION = {
    Role.ORDERER: "En kortbeställare måste knytas till den organisation hen beställer kort för.",
    Role.CARD_ADMIN: "En korthandläggare måste ha en arbetsgivare (organisation).",
    Role.RA_OFFICER: "En RA-ansvarig måste knytas till den organisation hen godkänner beställningar för.",
}


@dataclass
class UserInput:
    username: str
    full_name: str
    email: str = ""
    hsa_id: str | None = None
    organisation_id: int | None = None
    roles: Iterable[Role] = ()
    desk_ids: Iterable[int] = ()
    active: bool = True


def _validate_password(password: str, username: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken.", field="password")
    if len(password) > 256:
        raise InvalidInput("Lösenordet får vara högst 256 tecken.", field="password")
    if password.strip().lower() == username.lower():
        raise InvalidInput("Lösenordet får inte vara samma som användarnamnet.", field="password")


def _user_fields(data: UserInput) -> dict[str, Any]:
    username = clean_text(data.username, "Användarnamn", max_length=64).lower()
    if not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("Användarnamnet får bara innehålla bokstäver, siffror, punkt, bindestreck och understreck.")
    roles = sorted({Role(r) for r in data.roles})
    if not roles:
        raise InvalidInput("Välj minst en roll.")
    desks = [get_or_404(Desk, desk_id, "Kortutlämningen") for desk_id in sorted(set(data.desk_ids))]
    org_id = data.organisation_id
    if org_id is not None:
        get_or_404(Organisation, org_id, "Organisationen")
    if Role.CARD_ADMIN in roles and not desks:
        raise InvalidInput("En korthandläggare måste knytas till minst en kortutlämning.")
    if org_id is None:
        for role in roles:
            if role in NEEDS_ORGANISATION:
                raise InvalidInput(NEEDS_ORGANISATION[role], field="organisation_id")
    return {
        "username": username,
        "full_name": clean_text(data.full_name, "Namn", max_length=200),
        "email": email_input(data.email),
        "hsa_id": hsa_id_input(data.hsa_id, required=False),
        "organisation_id": org_id,
        "active": bool(data.active),
        "roles": roles,
        "desks": desks,
    }


def _set_roles_and_desks(user: User, roles: list[Role], desks: list[Desk]) -> dict[str, list[Any]]:
    diff: dict[str, list[Any]] = {}
    old_roles = sorted(user.roles)
    if old_roles != roles:
        user.role_rows = [UserRole(role=str(r)) for r in roles]
        diff["roles"] = [[str(r) for r in old_roles], [str(r) for r in roles]]
    old_desks = [d.id for d in user.desks]
    if old_desks != [d.id for d in desks]:
        user.desks = desks
        diff["desks"] = [old_desks, [d.id for d in desks]]
    return diff


def create_user(actor: User | None, data: UserInput, password: str) -> User:
    """Admins create users; ``actor=None`` is the system (first admin of an installation, demo data)."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    fields = _user_fields(data)
    _validate_password(password, fields["username"])
    roles, desks = fields.pop("roles"), fields.pop("desks")
    user = User(**fields, password_hash=hash_password(password), session_token=secrets.token_hex(16))
    with unique_or_conflict(f"Användarnamnet {fields['username']} finns redan."):
        db.session.add(user)
        _set_roles_and_desks(user, roles, desks)
    audit.record(
        db.session,
        actor,
        "user.create",
        "user",
        user.id,
        {
            "username": user.username,
            "roles": [str(r) for r in roles],
            "desks": [d.id for d in desks],
            "organisation_id": user.organisation_id,
        },
        organisation_id=user.organisation_id,
    )
    return user


def update_user(actor: User, user: User, data: UserInput) -> User:
    require_role(actor, Role.ADMIN)
    fields = _user_fields(data)
    roles, desks = fields.pop("roles"), fields.pop("desks")
    if user.id == actor.id and (Role.ADMIN not in roles or not fields["active"]):
        raise Conflict("Du kan inte ta bort din egen administratörsroll eller inaktivera dig själv.")
    with unique_or_conflict(f"Användarnamnet {fields['username']} finns redan."):
        diff = _apply(user, fields)
        diff.update(_set_roles_and_desks(user, roles, desks))
        if "active" in diff or "roles" in diff:
            user.session_token = secrets.token_hex(16)  # ends the user's sessions
        if "active" in diff and not user.active:
            _end_tokens(actor, user, "deactivated")
    if diff:
        audit.record(db.session, actor, "user.update", "user", user.id, diff, organisation_id=user.organisation_id)
    return user


def set_password(actor: User, user: User, password: str, *, current_password: str | None = None) -> None:
    """Admins set anyone's password; a user changes their own with the current one."""
    if actor.id != user.id:
        require_role(actor, Role.ADMIN)
    elif not check_password(user.password_hash, current_password or ""):
        raise InvalidInput("Nuvarande lösenord stämmer inte.", field="current_password")
    _validate_password(password, user.username)
    user.password_hash = hash_password(password)
    user.session_token = secrets.token_hex(16)
    _end_tokens(actor, user, "password")
    audit.record(db.session, actor, "user.password_set", "user", user.id, organisation_id=user.organisation_id)


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))


# ---------------------------------------------------------------- organisations, units, desks, pilots


def save_organisation(actor: User, org: Organisation | None, *, name: str, org_number: str, kind: str) -> Organisation:
    require_role(actor, Role.ADMIN)
    try:
        number = normalise_org_number(org_number)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="org_number") from None
    if kind not in ("region", "municipality", "other"):
        raise InvalidInput("Okänd organisationstyp.")
    fields = {"name": clean_text(name, "Namn", max_length=200), "org_number": number, "kind": kind}
    return _save(actor, Organisation, org, fields, "organisation", f"Organisationsnumret {number}")


def save_unit(
    actor: User, unit: Unit | None, *, name: str, hsa_id: str, organisation_id: int, parent_id: int | None, town: str
) -> Unit:
    require_role(actor, Role.ADMIN)
    get_or_404(Organisation, organisation_id, "Organisationen")
    if parent_id is not None:
        parent = get_or_404(Unit, parent_id, "Överordnad enhet")
        if unit is not None and _is_descendant(parent, unit):
            raise InvalidInput("En enhet kan inte ligga under sig själv.")
    fields = {
        "name": clean_text(name, "Namn", max_length=200),
        "hsa_id": hsa_id_input(hsa_id),
        "organisation_id": organisation_id,
        "parent_id": parent_id,
        "town": clean_text(town, "Ort", max_length=100, required=False),
    }
    return _save(actor, Unit, unit, fields, "unit", f"HSA-id {fields['hsa_id']}")


def _is_descendant(candidate: Unit, ancestor: Unit) -> bool:
    node: Unit | None = candidate
    while node is not None:
        if node.id == ancestor.id:
            return True
        node = node.parent
    return False


def save_desk(
    actor: User,
    desk: Desk | None,
    *,
    name: str,
    town: str,
    organisation_id: int,
    is_regional: bool,
    opening_hours: str,
    active: bool = True,
) -> Desk:
    require_role(actor, Role.ADMIN)
    get_or_404(Organisation, organisation_id, "Organisationen")
    fields = {
        "name": clean_text(name, "Namn", max_length=200),
        "town": clean_text(town, "Ort", max_length=100),
        "organisation_id": organisation_id,
        "is_regional": bool(is_regional),
        "opening_hours": clean_text(opening_hours, "Öppettider", max_length=300, required=False),
        "active": bool(active),
    }
    return _save(actor, Desk, desk, fields, "desk", f"Kortutlämningen {fields['name']}")


def save_pilot_period(
    actor: User, period: PilotPeriod | None, *, desk_id: int, name: str, year: int, week_from: int, week_to: int
) -> PilotPeriod:
    require_role(actor, Role.ADMIN)
    get_or_404(Desk, desk_id, "Kortutlämningen")
    if not 2000 <= year <= 2100:
        raise InvalidInput("Året måste vara mellan 2000 och 2100.", field="year")
    weeks = weeks_in_year(year)  # ISO years have 52 or 53 weeks
    for field, week in (("week_from", week_from), ("week_to", week_to)):
        if not 1 <= week <= weeks:
            raise InvalidInput(f"År {year} har {weeks} veckor: veckan ska vara 1–{weeks}.", field=field)
    if week_from > week_to:
        raise InvalidInput("Första veckan kan inte komma efter den sista.", field="week_to")
    fields = {
        "desk_id": desk_id,
        "name": clean_text(name, "Namn", max_length=100),
        "year": year,
        "week_from": week_from,
        "week_to": week_to,
    }
    return _save(actor, PilotPeriod, period, fields, "pilot_period", "En pilotperiod som börjar samma vecka")


def _save(actor: User | None, model: type, obj: Any, fields: dict[str, Any], target: str, unique_what: str) -> Any:
    """Create or update a register row with its audit row: one home for the register's bookkeeping."""
    diff: dict[str, Any] = fields
    with unique_or_conflict(f"{unique_what} finns redan."):
        if obj is None:
            obj = model(**fields)
            db.session.add(obj)
            action = f"{target}.create"
        else:
            diff = _apply(obj, fields)
            action = f"{target}.update"
    if diff:
        org_id = obj.id if isinstance(obj, Organisation) else getattr(obj, "organisation_id", None)
        audit.record(db.session, actor, action, target, obj.id, diff, organisation_id=org_id)
    return obj


def list_all(model: type, *order_by: Any) -> list[Any]:
    return list(db.session.scalars(select(model).order_by(*order_by)))


# ---------------------------------------------------------------- API tokens


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


TOKEN_DAYS = 90  # a token's default life; the user may choose 1-365 days
TOKEN_SCOPES = {"all": "Allt användaren får göra", "desk_agent": "Bara kortläsaragenten (verifiering)"}


def create_api_token(user: User, name: str, *, days: int = TOKEN_DAYS, scope: str = "all") -> tuple[ApiToken, str]:
    """Return the token row and the plaintext, which is shown once and never stored."""
    if not 1 <= days <= 365:
        raise InvalidInput("Giltighetstiden ska vara 1–365 dagar.", field="days")
    if scope not in TOKEN_SCOPES:
        raise InvalidInput("Välj vad nyckeln får användas till.", field="scope")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, name=clean_text(name, "Namn", max_length=100), token_hash=_digest(plaintext),
        prefix=plaintext[:10], expires_at=utcnow() + timedelta(days=days), scope=scope,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        db.session, user, "api_token.create", "user", user.id,
        {"token_id": row.id, "name": row.name, "days": days, "scope": scope},
        organisation_id=user.organisation_id,
    )
    return row, plaintext


def mint_api_token(user: User, name: str, password: str, *, days: int = TOKEN_DAYS,
                   scope: str = "all") -> tuple[ApiToken, str]:
    """A token asked for from a browser session: the password again, so a stolen session cannot mint one."""
    if not check_password(user.password_hash, password or ""):
        raise InvalidInput("Lösenordet stämmer inte.", field="password")
    return create_api_token(user, name, days=days, scope=scope)


def revoke_api_token(actor: User, token_id: int) -> ApiToken:
    row = get_or_404(ApiToken, token_id, "API-nyckeln")
    if row.user_id != actor.id and not actor.has_role(Role.ADMIN):
        raise NotFound("API-nyckeln finns inte.")  # like a missing one: another user's token ids are not told
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            db.session,
            actor,
            "api_token.revoke",
            "user",
            row.user_id,
            {"token_id": row.id},
            organisation_id=row.user.organisation_id,
        )
    return row


def _end_tokens(actor: User, user: User, why: str) -> None:
    """A password change or deactivation ends the user's API tokens too, as it ends their sessions."""
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    for row in rows:
        row.revoked_at = utcnow()
        audit.record(db.session, actor, "api_token.revoke", "user", user.id, {"token_id": row.id, "why": why},
                     organisation_id=user.organisation_id)


def api_token_for(plaintext: str) -> ApiToken | None:
    """The live token with this plaintext (not revoked, not expired, its user active), else None."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 100:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plaintext)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        _touch_token(row.id, now)  # at most one write a minute per token, not one per request
    return row


def _touch_token(token_id: int, now: datetime) -> None:
    """Record a token's use in a short writer transaction of its own, before the request's work begins: a
    read transaction turned writer could fail on SQLite while another request writes (the API's 503s)."""
    from flask import request

    from cardadmin.db import UNSAFE_METHODS

    db.session.commit()
    db.begin_writer()
    db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    db.session.commit()
    if request.method in UNSAFE_METHODS:
        db.begin_writer()  # the request's own transaction writes too


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))
