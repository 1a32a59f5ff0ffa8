"""The weekly timesheet: submit → approve (locked) → reopen with a reason. Every step audited.

Approvers: the project leader (evaluator role) or an RA officer of the author's municipality; never the author.
Status changes are compare-and-set UPDATEs, so two concurrent approvers cannot both succeed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, true, update

from cardadmin import audit
from cardadmin.accounts.models import User
from cardadmin.db import db, utcnow
from cardadmin.errors import Conflict, Forbidden, InvalidInput, NotFound
from cardadmin.roles import Role
from cardadmin.security import Grant, require_role, role_scope
from cardadmin.timelog.models import SheetStatus, Timesheet
from cardadmin.timelog.service import entries_of_week, sheet_for
from cardadmin.validation import free_text


def _approver_grants(actor: Any) -> list[Grant]:
    not_own = Timesheet.user_id != actor.id
    staff = select(User.id).where(User.organisation_id == actor.organisation_id)
    return [(Role.EVALUATOR, not_own),
            (Role.RA_OFFICER, Timesheet.user_id.in_(staff) & not_own if actor.organisation_id else None)]


def approver_scope(actor: Any) -> ColumnElement[bool]:
    """Which timesheets ``actor`` may approve (or reopen): all but their own for the evaluator, their
    municipality's staff's for an RA officer; never their own."""
    return role_scope(actor, _approver_grants, everything=())


def can_approve(actor: Any, sheet: Timesheet) -> bool:
    if sheet.user_id == actor.id:
        return False
    if actor.has_role(Role.EVALUATOR):
        return True
    return (actor.has_role(Role.RA_OFFICER) and actor.organisation_id is not None
            and sheet.user.organisation_id == actor.organisation_id)


def visible_sheets_scope(actor: Any) -> ColumnElement[bool]:
    if actor.has_role(Role.ADMIN, Role.EVALUATOR):
        return true()
    return or_(Timesheet.user_id == actor.id, approver_scope(actor))


def get_sheet(actor: Any, sheet_id: int) -> Timesheet:
    sheet = db.session.scalar(select(Timesheet).where(Timesheet.id == sheet_id, visible_sheets_scope(actor)))
    if sheet is None:
        raise NotFound("Tidrapporten finns inte.")
    return sheet


def _move(sheet: Timesheet, expected: SheetStatus, target: SheetStatus, **values: Any) -> None:
    result = db.session.execute(
        update(Timesheet).where(Timesheet.id == sheet.id, Timesheet.status == str(expected))
        .values(status=str(target), **values).execution_options(synchronize_session=False))
    db.session.refresh(sheet)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Tidrapporten har redan hanterats (status nu: {SheetStatus(sheet.status).label}).")


def _record(actor: User, action: str, sheet: Timesheet, data: dict[str, Any] | None = None) -> None:
    entries = entries_of_week(sheet.user_id, sheet.iso_year, sheet.iso_week)
    base = {"user_id": sheet.user_id, "week": f"{sheet.iso_year}-W{sheet.iso_week:02d}", "status": sheet.status,
            "entries": len(entries), "minutes": sum(e.minutes for e in entries)}
    audit.record(db.session, actor, action, "timesheet", sheet.id, {**base, **(data or {})},
                 organisation_id=sheet.user.organisation_id)


def submit(actor: User, iso_year: int, iso_week: int) -> Timesheet:
    require_role(actor, Role.CARD_ADMIN)
    sheet = sheet_for(actor.id, iso_year, iso_week, create=False, lock=True)
    if sheet is None or not entries_of_week(actor.id, iso_year, iso_week):
        raise InvalidInput(f"Vecka {iso_week:02d} {iso_year} har inga tidsposter att skicka in.")
    if sheet.status != SheetStatus.OPEN:
        raise Conflict(f"Tidrapporten är redan {SheetStatus(sheet.status).label.lower()}.")
    _move(sheet, SheetStatus.OPEN, SheetStatus.SUBMITTED, submitted_at=utcnow())
    _record(actor, "timesheet.submit", sheet)
    return sheet


def approve(actor: User, sheet_id: int) -> Timesheet:
    require_role(actor, Role.EVALUATOR, Role.RA_OFFICER)
    sheet = get_sheet(actor, sheet_id)
    if sheet.user_id == actor.id:
        raise Forbidden("Du kan inte godkänna din egen tidrapport.")
    if not can_approve(actor, sheet):
        raise Forbidden("Bara projektledaren eller kommunens RA-ansvarige kan godkänna tidrapporten.")
    if sheet.status != SheetStatus.SUBMITTED:
        raise Conflict("Bara en inskickad tidrapport kan godkännas.")
    _move(sheet, SheetStatus.SUBMITTED, SheetStatus.APPROVED, approved_at=utcnow(), approved_by_id=actor.id)
    _record(actor, "timesheet.approve", sheet)
    return sheet


def reopen(actor: User, sheet_id: int, reason: str) -> Timesheet:
    """Back to open with a reason: the author may withdraw a submitted week; an approver may return a
    submitted week or reopen an approved (locked) one."""
    sheet = get_sheet(actor, sheet_id)
    reason = free_text(reason, "Motivering", where="motiveringen", max_length=1000)
    if len(reason) < 5:
        raise InvalidInput("Skriv en motivering (minst fem tecken).", field="reason")
    status = SheetStatus(sheet.status)
    if status == SheetStatus.OPEN:
        raise Conflict("Tidrapporten är redan öppen.")
    is_author = sheet.user_id == actor.id
    if status == SheetStatus.APPROVED and not can_approve(actor, sheet):
        raise Forbidden("En godkänd tidrapport kan bara öppnas av projektledaren eller kommunens RA-ansvarige.")
    if status == SheetStatus.SUBMITTED and not (is_author or can_approve(actor, sheet)):
        raise Forbidden("Du kan inte öppna den här tidrapporten.")
    _move(sheet, status, SheetStatus.OPEN, approved_at=None, approved_by_id=None, submitted_at=None,
          reopen_reason=reason)
    _record(actor, "timesheet.reopen", sheet, {"reason": reason, "was": str(status)})
    return sheet


APPROVER_ROLES = (Role.EVALUATOR, Role.RA_OFFICER)


def _waiting(actor: Any) -> Select[tuple[Timesheet]]:
    """The approval queue: submitted weeks that ``actor`` may approve."""
    return select(Timesheet).where(Timesheet.status == SheetStatus.SUBMITTED, approver_scope(actor))


def to_approve(actor: User) -> list[Timesheet]:
    return list(db.session.scalars(_waiting(actor).order_by(Timesheet.iso_year, Timesheet.iso_week, Timesheet.id)))


def count_to_approve(actor: Any) -> int | None:
    """How many weeks wait in ``actor``'s approval queue (the start page's line); None for a non-approver."""
    if not actor.has_role(*APPROVER_ROLES):
        return None
    return db.session.scalar(_waiting(actor).with_only_columns(func.count()).order_by(None)) or 0


def recent_decided(actor: User, limit: int = 50) -> list[Timesheet]:
    return list(db.session.scalars(
        select(Timesheet).where(Timesheet.status == SheetStatus.APPROVED, approver_scope(actor))
        .order_by(Timesheet.approved_at.desc()).limit(limit)))
