"""Foundation resources: who am I, the organisation register, the audit log."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g, jsonify, request

from cardadmin import audit
from cardadmin.accounts.models import Desk, Organisation, Unit, User
from cardadmin.accounts.service import list_all
from cardadmin.api.core import OPERATIONS, api_bp, operation
from cardadmin.api.openapi import build_document, object_schema
from cardadmin.audit.service import AuditQuery, search
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.roles import ALL_ROLES, Role
from cardadmin.timefmt import local_day_end, local_day_start
from cardadmin.web import int_arg, whole_number

EVERY_ROLE = tuple(sorted(ALL_ROLES))


def _user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id, "username": user.username, "full_name": user.full_name, "hsa_id": user.hsa_id,
        "organisation_id": user.organisation_id, "roles": sorted(str(r) for r in user.roles),
        "desk_ids": [d.id for d in user.desks],
    }


@operation("/me", summary="The user the token belongs to", roles=EVERY_ROLE,
           response_schema=object_schema("id", "username", "full_name", "roles", "desk_ids"))
def me() -> Any:
    return jsonify(_user_json(g.api_user))


@operation("/organisations", summary="Organisations with their units", roles=EVERY_ROLE)
def organisations() -> Any:
    orgs = list_all(Organisation, Organisation.name)
    return jsonify({"items": [
        {"id": o.id, "name": o.name, "org_number": o.org_number, "kind": o.kind,
         "units": [{"id": u.id, "name": u.name, "hsa_id": u.hsa_id, "parent_id": u.parent_id} for u in o.units]}
        for o in orgs
    ]})


@operation("/units", summary="Care units with HSA-IDs", roles=EVERY_ROLE)
def units() -> Any:
    return jsonify({"items": [
        {"id": u.id, "name": u.name, "hsa_id": u.hsa_id, "organisation_id": u.organisation_id,
         "parent_id": u.parent_id, "town": u.town}
        for u in list_all(Unit, Unit.name)
    ]})


@operation("/desks", summary="Card desks and their pilot periods", roles=EVERY_ROLE)
def desks() -> Any:
    return jsonify({"items": [
        {"id": d.id, "name": d.name, "town": d.town, "organisation_id": d.organisation_id,
         "is_regional": d.is_regional, "active": d.active,
         "pilot_periods": [{"id": p.id, "name": p.name, "year": p.year, "week_from": p.week_from,
                            "week_to": p.week_to} for p in d.pilot_periods]}
        for d in list_all(Desk, Desk.name)
    ]})


def _date_param(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"Parametern {name} ska vara ett datum ÅÅÅÅ-MM-DD.") from None


_AUDIT_PARAMS = [
    {"name": n, "in": "query", "required": False, "schema": {"type": t}}
    for n, t in [("target_type", "string"), ("target_id", "string"), ("actor", "string"), ("from", "string"),
                 ("to", "string"), ("before", "integer"), ("limit", "integer")]
]


@operation("/audit/events", summary="Search the audit log (RA officers: their organisation only)",
           roles=(Role.RA_OFFICER, Role.ADMIN), parameters=_AUDIT_PARAMS)
def audit_events() -> Any:
    user: User = g.api_user
    since, until = _date_param("from"), _date_param("to")
    limit = whole_number(request.args.get("limit", "100"), 1000)
    before = int_arg("before", refuse="limit ska vara 1–1000 och before ett heltal.")
    if not limit:
        raise InvalidInput("limit ska vara 1–1000 och before ett heltal.")
    scope = None if user.has_role(Role.ADMIN) else (user.organisation_id or -1)
    rows = search(db.session, AuditQuery(
        target_type=request.args.get("target_type"), target_id=request.args.get("target_id"),
        actor=request.args.get("actor"), since=local_day_start(since) if since else None,
        until=local_day_end(until) if until else None, organisation_id=scope,
        before_seq=before,
    ), limit=limit)
    return jsonify({"items": [
        {"seq": r.seq, "at": r.at.isoformat(), "actor": r.actor_name, "action": r.action,
         "target_type": r.target_type, "target_id": r.target_id, "organisation_id": r.organisation_id,
         "data": r.data, "hash": r.hash}
        for r in rows
    ]})


@operation("/audit/verify", summary="Verify the audit hash chain", roles=(Role.ADMIN,),
           response_schema=object_schema("ok", "checked", "broken_seq", "reason"))
def audit_verify() -> Any:
    result = audit.verify(db.session)
    return jsonify({"ok": result.ok, "checked": result.checked, "broken_seq": result.broken_seq,
                    "reason": result.reason})


@operation("/openapi.json", summary="This document", roles=None)
def openapi() -> Any:
    return jsonify(build_document(OPERATIONS, api_bp.url_prefix or ""))
