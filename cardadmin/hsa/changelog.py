"""The HSA change log: who created, changed or removed which entry, at which desk, for which organisation, in
which billing period (month, and the desk's pilot period when the act falls in one). Separate from the audit log,
which every act also writes; this one is what billing and the pilot evaluation count."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select

from cardadmin.accounts.models import Desk, PilotPeriod
from cardadmin.db import db, utcnow
from cardadmin.errors import Forbidden, InvalidInput, NotFound
from cardadmin.hsa.models import HsaChange
from cardadmin.roles import Role
from cardadmin.timefmt import LOCAL

SOURCES = ("web", "api", "import", "sync", "demo")
_INSERT = insert(HsaChange.__table__)


def billing_month(at: datetime) -> str:
    return at.astimezone(LOCAL).strftime("%Y-%m")


def pilot_period_for(desk_id: int | None, day: date) -> int | None:
    """The desk's pilot period whose ISO weeks contain the day, if any."""
    if desk_id is None:
        return None
    year, week, _ = day.isocalendar()
    return db.session.scalar(select(PilotPeriod.id).where(
        PilotPeriod.desk_id == desk_id, PilotPeriod.year == year,
        PilotPeriod.week_from <= week, PilotPeriod.week_to >= week).limit(1))


def desk_required(actor: Any) -> bool:
    """A card administrator (not an admin) with desks records HSA work at one of them: the change log bills
    the desk. The form offers no 'none' to them; the service refuses one on every path (web, API, import)."""
    return (actor.has_role(Role.CARD_ADMIN) and not actor.has_role(Role.ADMIN)
            and bool(getattr(actor, "desks", [])))


def check_desk(actor: Any, desk_id: int | None) -> int | None:
    """A card administrator acts at one of their own desks; others may name any desk or none."""
    if desk_id is None:
        if desk_required(actor):
            raise InvalidInput("Välj vilken kortutlämning du arbetar vid.", field="desk_id")
        return None
    desk = db.session.get(Desk, desk_id)
    if desk is None:
        raise NotFound("Kortutlämningen finns inte.")
    if actor.has_role(Role.CARD_ADMIN) and not actor.has_role(Role.ADMIN) \
            and desk_id not in {d.id for d in getattr(actor, "desks", [])}:
        raise Forbidden("Du arbetar inte vid den kortutlämningen.")
    return desk_id


@dataclass
class ChangeContext:
    """Who acts, where, through which edge; the billing period is fixed when the context is made, so every row
    of one import or sync run lands in the same period."""

    actor: Any
    source: str
    desk_id: int | None = None
    at: datetime = field(default_factory=utcnow)
    month: str = ""
    pilot_period_id: int | None = None
    # Lookups one run repeats for every row (organisation by number, units by id); also keeps the loaded rows
    # strongly referenced so the session's (weak) identity map does not reload them per row.
    cache: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"unknown change source {self.source!r}")
        self.desk_id = check_desk(self.actor, self.desk_id)
        self.month = billing_month(self.at)
        self.pilot_period_id = pilot_period_for(self.desk_id, self.at.astimezone(LOCAL).date())


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value) or None
    return value.isoformat() if isinstance(value, date) else str(value)


def record(ctx: ChangeContext, action: str, entry_type: str, entry_id: int, hsa_id: str, organisation_id: int,
           changes: list[tuple[str, Any, Any]] | None = None) -> str:
    """Write one act (one row per changed attribute; one row for a creation or removal). Returns the act id."""
    act = uuid.uuid4().hex
    base = {"act": act, "at": ctx.at, "action": action, "entry_type": entry_type, "entry_id": entry_id,
            "hsa_id": hsa_id, "actor_id": getattr(ctx.actor, "id", None),
            "actor_name": getattr(ctx.actor, "username", None) or "system", "desk_id": ctx.desk_id,
            "organisation_id": organisation_id, "billing_month": ctx.month,
            "pilot_period_id": ctx.pilot_period_id, "source": ctx.source}
    rows = [{**base, "attribute": name, "old_value": _text(old), "new_value": _text(new)}
            for name, old, new in (changes or [])] or [{**base, "attribute": None, "old_value": None,
                                                         "new_value": None}]
    db.session.execute(_INSERT, rows)
    return act


def history(entry_type: str, entry_id: int) -> list[HsaChange]:
    """An entry's change log, oldest first."""
    return list(db.session.scalars(select(HsaChange).where(
        HsaChange.entry_type == entry_type, HsaChange.entry_id == entry_id).order_by(HsaChange.id)))
