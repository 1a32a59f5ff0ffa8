"""The one state machine of an order and its card: which transitions exist and who may make each.

UI, API, CLI and the sweep all go through ``check``; nothing else decides whether a status may change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cardadmin.errors import Conflict, Forbidden
from cardadmin.roles import Role


class Status(StrEnum):
    ORDERED = "ordered"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    IN_PRODUCTION = "in_production"
    AT_DESK = "at_desk"
    HANDED_OVER = "handed_over"
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.ORDERED: "Beställd",
    Status.APPROVED: "Godkänd",
    Status.REJECTED: "Avslagen",
    Status.CANCELLED: "Makulerad",
    Status.IN_PRODUCTION: "Under tillverkning",
    Status.AT_DESK: "Finns att hämta",
    Status.HANDED_OVER: "Utlämnad",
    Status.ACTIVE: "Aktivt",
    Status.REVOKED: "Spärrat",
    Status.EXPIRED: "Utgånget",
}

SYSTEM = "system"  # the scheduled sweep (actor None)
OPEN = frozenset({Status.ORDERED, Status.APPROVED, Status.IN_PRODUCTION, Status.AT_DESK})
# A card in these states is in the holder's hands or waiting for them: a new order must be a replacement.
CARD_LIVE = frozenset({Status.AT_DESK, Status.HANDED_OVER, Status.ACTIVE})


@dataclass(frozen=True)
class Transition:
    source: Status
    target: Status
    roles: frozenset[str]
    action: str  # the audit action
    timestamp: str  # the Order column stamped when it happens


def _t(source: Status, target: Status, action: str, *roles: str) -> Transition:
    return Transition(source, target, frozenset(roles), action, f"{target}_at")


S, R = Status, Role
TRANSITIONS: dict[tuple[Status, Status], Transition] = {
    (t.source, t.target): t
    for t in (
        _t(S.ORDERED, S.APPROVED, "order.approve", R.RA_OFFICER),
        _t(S.ORDERED, S.REJECTED, "order.reject", R.RA_OFFICER),
        _t(S.ORDERED, S.CANCELLED, "order.cancel", R.ORDERER, R.ADMIN),
        _t(S.APPROVED, S.IN_PRODUCTION, "order.in_production", R.CARD_ADMIN),
        _t(S.IN_PRODUCTION, S.AT_DESK, "order.at_desk", R.CARD_ADMIN),
        _t(S.AT_DESK, S.HANDED_OVER, "order.hand_over", R.CARD_ADMIN),
        _t(S.HANDED_OVER, S.ACTIVE, "order.activate", R.CARD_ADMIN),
        _t(S.AT_DESK, S.REVOKED, "order.revoke", R.CARD_ADMIN, R.ADMIN, SYSTEM),  # not collected
        _t(S.HANDED_OVER, S.REVOKED, "order.revoke", R.CARD_ADMIN, R.RA_OFFICER, R.ADMIN, SYSTEM),
        _t(S.ACTIVE, S.REVOKED, "order.revoke", R.CARD_ADMIN, R.RA_OFFICER, R.ADMIN, SYSTEM),
        _t(S.ACTIVE, S.EXPIRED, "order.expire", R.ADMIN, SYSTEM),
    )
}


def roles_of(actor: Any) -> frozenset[str]:
    return frozenset({SYSTEM}) if actor is None else frozenset(str(r) for r in actor.roles)


def check(source: str, target: str, actor: Any) -> Transition:
    """The transition from ``source`` to ``target`` if it exists and ``actor`` (None = system) may make it.

    A transition that does not exist is a Conflict (409); one the actor's roles may not make is Forbidden."""
    transition = TRANSITIONS.get((Status(source), Status(target)))
    if transition is None:
        raise Conflict(f"En beställning med status ”{Status(source).label}” kan inte bli ”{Status(target).label}”.")
    if not transition.roles & roles_of(actor):
        raise Forbidden(f"Din roll får inte ändra status från ”{Status(source).label}” till "
                        f"”{Status(target).label}”.")
    return transition


def allowed_targets(source: str, actor: Any) -> list[Status]:
    """What the UI offers: the targets this actor may move an order in ``source`` to."""
    mine = roles_of(actor)
    return [t.target for (s, _), t in TRANSITIONS.items() if s == source and t.roles & mine]
