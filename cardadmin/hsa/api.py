"""HSA entries under /api/v1/hsa: list and search persons and units, create, change and remove person entries,
an entry's change log and the billing figures. The same services, scopes and audit rows as the screens."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from cardadmin.api.core import json_body, operation
from cardadmin.api.openapi import object_schema
from cardadmin.errors import InvalidInput
from cardadmin.hsa import changelog, queries, report, service
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.rules import REPORT_READERS, WRITERS
from cardadmin.hsa.service import PersonEntryInput
from cardadmin.orders.api import _arg_int, _date, _done, _int, _str
from cardadmin.people.models import Person

_PERSON_FIELDS = {"hsa_id": "string", "given_name": "string", "surname": "string", "title": "string",
                  "mail": "string", "telephone": "string", "organisation_id": "integer",
                  "unit_ids": "array", "start_date": "string", "end_date": "string", "desk_id": "integer"}
_PERSON_SCHEMA = object_schema("hsa_id", "given_name", "surname") | {
    "properties": {k: ({"type": t, "items": {"type": "integer"}} if t == "array" else {"type": t})
                   for k, t in _PERSON_FIELDS.items()}}


def person_json(p: Person) -> dict[str, Any]:
    return {"id": p.id, "hsa_id": p.hsa_id, "given_name": p.given_name, "surname": p.surname, "title": p.title,
            "mail": p.mail, "telephone": p.telephone, "organisation_id": p.organisation_id,
            "unit_id": p.unit_id, "unit_ids": service.unit_ids_of(p.id),
            "start_date": p.start_date.isoformat() if p.start_date else None,
            "end_date": p.end_date.isoformat() if p.end_date else None,
            "removed_at": p.removed_at.isoformat() if p.removed_at else None}


def _entry_input(body: dict[str, Any]) -> PersonEntryInput:
    unit_ids = body.get("unit_ids", [])
    if not isinstance(unit_ids, list) or len(unit_ids) > 50:
        raise InvalidInput("Fältet unit_ids ska vara en lista med högst 50 enhets-id.", field="unit_ids")
    return PersonEntryInput(
        hsa_id=_str(body, "hsa_id"), given_name=_str(body, "given_name"), surname=_str(body, "surname"),
        title=_str(body, "title"), mail=_str(body, "mail"), telephone=_str(body, "telephone"),
        organisation_id=_int(body, "organisation_id", required=False),
        unit_ids=[_int({"unit_id": u}, "unit_id") or 0 for u in unit_ids],
        start_date=_date(body.get("start_date"), "start_date"), end_date=_date(body.get("end_date"), "end_date"))


def _ctx(body: dict[str, Any] | None = None) -> ChangeContext:
    desk_id = _int(body, "desk_id", required=False) if body else _arg_int("desk_id")
    return ChangeContext(g.api_user, "api", desk_id=desk_id)


def _saved(result: tuple[Person, list[str]], status: int) -> Any:
    person, warnings = result
    return _done({**person_json(person), "warnings": warnings}, status)


@operation("/hsa/persons", summary="Search HSA person entries in the caller's scope (name, HSA-ID, unit)",
           roles=WRITERS, parameters=[{"name": n, "in": "query", "required": False, "schema": {"type": t}}
                                      for n, t in [("q", "string"), ("unit_id", "integer"),
                                                   ("include_removed", "boolean")]])
def hsa_persons_list() -> Any:
    query = queries.EntrySearch(text=request.args.get("q", "")[:100], unit_id=_arg_int("unit_id"),
                                include_removed=request.args.get("include_removed") in ("1", "true"))
    return jsonify({"items": [person_json(p) for p in queries.search_persons(g.api_user, query)]})


@operation("/hsa/persons/<int:person_id>", summary="One HSA person entry", roles=WRITERS)
def hsa_persons_get(person_id: int) -> Any:
    return jsonify(person_json(queries.get_person(g.api_user, person_id)))


@operation("/hsa/persons", method="POST", summary="Create an HSA person entry (warnings: unknown organisation)",
           roles=WRITERS, request_schema=_PERSON_SCHEMA)
def hsa_persons_create() -> Any:
    body = json_body()
    return _saved(service.create_person_entry(_ctx(body), _entry_input(body)), 201)


@operation("/hsa/persons/<int:person_id>", method="PUT", summary="Change an HSA person entry (all fields)",
           roles=WRITERS, request_schema=_PERSON_SCHEMA)
def hsa_persons_update(person_id: int) -> Any:
    body = json_body()
    return _saved(service.update_person_entry(_ctx(body), person_id, _entry_input(body)), 200)


@operation("/hsa/persons/<int:person_id>", method="DELETE",
           summary="Remove an HSA person entry (refused while a card is live); desk_id as a query parameter",
           roles=WRITERS, parameters=[{"name": "desk_id", "in": "query", "required": False,
                                       "schema": {"type": "integer"}}])
def hsa_persons_remove(person_id: int) -> Any:
    return _done(person_json(service.remove_person_entry(_ctx(), person_id)))


@operation("/hsa/persons/<int:person_id>/changes", summary="An HSA person entry's change log", roles=WRITERS)
def hsa_persons_changes(person_id: int) -> Any:
    person = queries.get_person(g.api_user, person_id)
    return jsonify({"items": [
        {"at": c.at.isoformat(), "action": c.action, "attribute": c.attribute, "old": c.old_value,
         "new": c.new_value, "actor": c.actor_name, "desk_id": c.desk_id, "organisation_id": c.organisation_id,
         "billing_month": c.billing_month, "pilot_period_id": c.pilot_period_id, "source": c.source}
        for c in changelog.history("person", person.id)]})


@operation("/hsa/units", summary="Search units in the caller's scope (name or HSA-ID)", roles=WRITERS,
           parameters=[{"name": "q", "in": "query", "required": False, "schema": {"type": "string"}}])
def hsa_units_list() -> Any:
    return jsonify({"items": [
        {"id": u.id, "hsa_id": u.hsa_id, "name": u.name, "organisation_id": u.organisation_id,
         "parent_id": u.parent_id, "town": u.town}
        for u in queries.search_units(g.api_user, request.args.get("q", ""))]})


@operation("/hsa/billing", summary="HSA entries created/changed/removed per organisation, month and pilot period",
           roles=REPORT_READERS, parameters=[{"name": "year", "in": "query", "required": False,
                                              "schema": {"type": "integer"}}])
def hsa_billing() -> Any:
    year = _arg_int("year")
    return jsonify({"items": [
        {"organisation": r.organisation, "org_number": r.org_number, "period": r.period,
         "period_kind": r.period_kind, "created": r.created, "changed": r.changed, "removed": r.removed}
        for r in report.billing_rows(g.api_user, year=year)]})
