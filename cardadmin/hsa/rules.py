"""HSA rules that need the database: whose entries an actor may work on, whether an HSA-ID is free, and the
warning for an HSA-ID whose organisation part is not a known organisation. (The HSA-ID's shape, Luhn check and
test prefix are checked by ``cardadmin.identifiers.parse_hsa_id`` via ``cardadmin.validation.hsa_id_input``.)

Scope decision: a card administrator works for the organisations their desks serve. The register has no
"organisations served" per desk, so it is the desks' own organisations plus the region (every desk in the pilot
produces cards for the region's staff). An RA officer works on their own organisation's entries, and an orderer
creates entries (never changes or removes them) for their own organisation; admins and the system (import, sync)
on all. Evaluators read the billing report for every organisation and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from cardadmin.accounts.models import Organisation
from cardadmin.db import db
from cardadmin.errors import Conflict, Forbidden
from cardadmin.hsa.models import HsaIdentity
from cardadmin.identifiers import format_org_number, organisation_number_of
from cardadmin.roles import Role

WRITERS = (Role.CARD_ADMIN, Role.RA_OFFICER, Role.ADMIN)
# An orderer registers a card recipient who is not yet in the register ("Ny kortmottagare"): that creates the
# person's HSA entry, logged and billed like any other, for the orderer's own organisation. Changing and
# removing entries stays with WRITERS.
CREATORS = (*WRITERS, Role.ORDERER)
REPORT_READERS = (Role.EVALUATOR, Role.RA_OFFICER, Role.ADMIN)
KIND_LABELS = {"person": "en person", "unit": "en enhet"}


@dataclass
class SystemActor:
    """Import and sync from the command line act as the system: audit and change-log rows name the job."""

    username: str = "system"
    id: None = None
    organisation_id: None = None
    desks: list[Any] = field(default_factory=list)
    roles: frozenset[Role] = frozenset({Role.ADMIN})

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


def organisation_scope(actor: Any) -> set[int] | None:
    """Organisations whose entries the actor may create, change and remove; None means every one."""
    if actor.has_role(Role.ADMIN):
        return None
    scope: set[int] = set()
    if actor.has_role(Role.CARD_ADMIN):
        scope |= {d.organisation_id for d in actor.desks}
        scope |= set(db.session.scalars(select(Organisation.id).where(Organisation.kind == "region")))
    if actor.has_role(Role.RA_OFFICER, Role.ORDERER) and actor.organisation_id is not None:
        scope.add(actor.organisation_id)
    return scope


def report_scope(actor: Any) -> set[int] | None:
    """Whose billing figures the actor may read: evaluators and admins all, RA officers their own."""
    if actor.has_role(Role.ADMIN, Role.EVALUATOR):
        return None
    return {actor.organisation_id} if actor.has_role(Role.RA_OFFICER) and actor.organisation_id else set()


def require_in_scope(actor: Any, organisation_id: int) -> None:
    scope = organisation_scope(actor)
    if scope is not None and organisation_id not in scope:
        raise Forbidden("Du kan inte arbeta med HSA-poster för den organisationen.")


def holder_of(hsa_id: str) -> str | None:
    """'person', 'unit' or None: who holds the HSA-ID now."""
    return db.session.scalar(select(HsaIdentity.kind).where(HsaIdentity.hsa_id == hsa_id))


def ensure_free(hsa_id: str, *, holder: tuple[str, int] | None = None, holder_hsa_id: str | None = None) -> None:
    """Refuse an HSA-ID that a person or unit already holds (other than the entry being changed). The registry's
    primary key closes the race between this check and the commit."""
    if holder_hsa_id is not None and hsa_id == holder_hsa_id:
        return
    kind = holder_of(hsa_id)
    if kind is not None:
        raise Conflict(f"HSA-id {hsa_id} används redan av {KIND_LABELS.get(kind, kind)}.", field="hsa_id")


def organisation_for_hsa_id(hsa_id: str, cache: dict[Any, Any] | None = None) -> Organisation | None:
    number = organisation_number_of(hsa_id)
    if number is None:
        return None
    if cache is not None and ("org", number) in cache:
        return cache[("org", number)]
    found = db.session.scalar(select(Organisation).where(Organisation.org_number == number))
    if cache is not None:
        cache[("org", number)] = found
    return found


def hsa_id_warnings(hsa_id: str, cache: dict[Any, Any] | None = None) -> list[str]:
    """Shown, not refused: the organisation part is not an organisation in the register."""
    if organisation_for_hsa_id(hsa_id, cache) is None:
        number = format_org_number(organisation_number_of(hsa_id) or "")
        return [f"Organisationsnumret {number} i HSA-id:t {hsa_id} hör inte till någon känd organisation."]
    return []
