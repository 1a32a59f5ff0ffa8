"""Time entries and weekly timesheets under /api/v1: the same services, rules and audit rows as the pages."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request
from sqlalchemy import select

from cardadmin.api.core import json_body, operation
from cardadmin.api.openapi import object_schema
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.orders.api import _date, _int, _str
from cardadmin.roles import Role
from cardadmin.timelog import rules, service, sheets
from cardadmin.timelog.models import Activity, TimeEntry, Timesheet

ENTRY_FIELDS = {
    "work_date": {"type": "string", "format": "date"}, "start": {"type": "string", "example": "08:00"},
    "end": {"type": "string", "example": "09:30"}, "minutes": {"type": "integer"},
    "desk_id": {"type": "integer"}, "activity_id": {"type": "integer"}, "organisation_id": {"type": "integer"},
    "persons_handled": {"type": "integer"}, "journeys_avoided": {"type": "integer"},
    "km_avoided": {"type": "string", "description": "decimal; omitted = journeys × configured distance"},
    "unit_id": {"type": "integer"}, "note": {"type": "string"},
}
ENTRY_SCHEMA = {**object_schema("work_date", "desk_id", "activity_id", "organisation_id"),
                "properties": ENTRY_FIELDS}


def _entry_json(e: TimeEntry) -> dict[str, Any]:
    return {"id": e.id, "work_date": e.work_date.isoformat(), "week": f"{e.iso_year}-W{e.iso_week:02d}",
            "start": e.start_time.strftime("%H:%M") if e.start_time else None,
            "end": e.end_time.strftime("%H:%M") if e.end_time else None, "minutes": e.minutes,
            "desk_id": e.desk_id, "pilot_period_id": e.pilot_period_id, "activity_id": e.activity_id,
            "organisation_id": e.organisation_id, "persons_handled": e.persons_handled,
            "journeys_avoided": e.journeys_avoided, "km_avoided": str(e.km_avoided), "note": e.note,
            "timesheet_id": e.timesheet_id, "status": e.timesheet.status}


def _sheet_json(s: Timesheet) -> dict[str, Any]:
    return {"id": s.id, "user_id": s.user_id, "week": f"{s.iso_year}-W{s.iso_week:02d}", "status": s.status,
            "submitted_at": s.submitted_at.isoformat() if s.submitted_at else None,
            "approved_at": s.approved_at.isoformat() if s.approved_at else None,
            "approved_by_id": s.approved_by_id, "reopen_reason": s.reopen_reason}


def _input(body: dict[str, Any]) -> service.EntryInput:
    minutes = _int(body, "minutes", required=False)
    km = body.get("km_avoided")
    if km is not None and (not isinstance(km, str | int | float) or isinstance(km, bool)):
        raise InvalidInput("Fältet km_avoided ska vara ett tal.", field="km_avoided")
    return service.EntryInput(
        work_date=_date(body.get("work_date"), "work_date"), desk_id=_int(body, "desk_id"),
        activity_id=_int(body, "activity_id"), organisation_id=_int(body, "organisation_id"),
        start=_str(body, "start"), end=_str(body, "end"), duration=minutes,
        persons_handled=_int(body, "persons_handled", required=False),
        journeys_avoided=_int(body, "journeys_avoided", required=False),
        km_avoided=None if km is None else str(km), unit_id=_int(body, "unit_id", required=False),
        note=_str(body, "note"))


def _done(payload: dict[str, Any], status: int = 200) -> Any:
    db.session.commit()
    return jsonify(payload), status


@operation("/activities", summary="The activity list of the time log", roles=tuple(Role))
def activities() -> Any:
    rows = db.session.scalars(select(Activity).order_by(Activity.sort_order, Activity.name))
    return jsonify({"items": [{"id": a.id, "code": a.code, "name": a.name, "active": a.active} for a in rows]})


@operation("/time-entries", summary="My time entries of an ISO week (week=2026-W37; default this week)",
           roles=(Role.CARD_ADMIN,), parameters=[{"name": "week", "in": "query", "required": False,
                                                  "schema": {"type": "string"}}])
def entries_list() -> Any:
    year, week = rules.parse_iso_week(request.args.get("week")) or rules.iso_week_of(service.today())
    return jsonify({"week": f"{year}-W{week:02d}",
                    "items": [_entry_json(e) for e in service.entries_of_week(g.api_user.id, year, week)]})


@operation("/time-entries", method="POST", summary="Log time (card administrator)", roles=(Role.CARD_ADMIN,),
           request_schema=ENTRY_SCHEMA)
def entries_create() -> Any:
    return _done(_entry_json(service.create_entry(g.api_user, _input(json_body()))), 201)


@operation("/time-entries/<int:entry_id>", method="PUT", summary="Change one of my entries (open week only)",
           roles=(Role.CARD_ADMIN,), request_schema=ENTRY_SCHEMA)
def entries_update(entry_id: int) -> Any:
    return _done(_entry_json(service.update_entry(g.api_user, entry_id, _input(json_body()))))


@operation("/time-entries/<int:entry_id>", method="DELETE", summary="Delete one of my entries (open week only)",
           roles=(Role.CARD_ADMIN,))
def entries_delete(entry_id: int) -> Any:
    service.delete_entry(g.api_user, entry_id)
    return _done({"deleted": entry_id})


@operation("/timesheets/submit", method="POST", summary="Submit my week for approval (week=2026-W37)",
           roles=(Role.CARD_ADMIN,), request_schema=object_schema("week"))
def sheets_submit() -> Any:
    parsed = rules.parse_iso_week(_str(json_body(), "week"))
    if parsed is None:
        raise InvalidInput("Ange veckan, till exempel 2026-W37.", field="week")
    return _done(_sheet_json(sheets.submit(g.api_user, *parsed)))


@operation("/timesheets/pending", summary="Submitted weeks I may approve", roles=(Role.EVALUATOR, Role.RA_OFFICER))
def sheets_pending() -> Any:
    return jsonify({"items": [_sheet_json(s) for s in sheets.to_approve(g.api_user)]})


@operation("/timesheets/<int:sheet_id>/approve", method="POST", summary="Approve and lock a week (never one's own)",
           roles=(Role.EVALUATOR, Role.RA_OFFICER))
def sheets_approve(sheet_id: int) -> Any:
    return _done(_sheet_json(sheets.approve(g.api_user, sheet_id)))


@operation("/timesheets/<int:sheet_id>/reopen", method="POST", summary="Reopen a week with a reason (audited)",
           roles=(Role.CARD_ADMIN, Role.EVALUATOR, Role.RA_OFFICER), request_schema=object_schema("reason"))
def sheets_reopen(sheet_id: int) -> Any:
    return _done(_sheet_json(sheets.reopen(g.api_user, sheet_id, _str(json_body(), "reason"))))
