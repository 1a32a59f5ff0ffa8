"""Time log screens: my week (entries, suggestions, submit), edit an entry, the approval queue, a timesheet."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from cardadmin.accounts.models import Organisation
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.roles import Role
from cardadmin.security import allow
from cardadmin.timelog import rules, service, sheets
from cardadmin.timelog.forms import EntryForm
from cardadmin.timelog.models import SHEET_LABELS, SheetStatus
from cardadmin.timelog.suggestions import suggest
from cardadmin.web import attempt, form_status, int_arg

bp = Blueprint("timelog", __name__, url_prefix="/tid")
APPROVERS = sheets.APPROVER_ROLES


@bp.app_template_filter("sheet_status")
def _sheet_status(value: str) -> str:
    return SHEET_LABELS.get(SheetStatus(value), value) if value in set(SheetStatus) else value


@bp.app_template_filter("hm")
def _hours_minutes(minutes: int | None) -> str:
    minutes = int(minutes or 0)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _week_arg() -> tuple[int, int]:
    try:
        week = rules.parse_iso_week(request.args.get("vecka"))
    except InvalidInput as exc:
        flash(exc.message, "error")
        week = None
    return week or service.default_week(current_user)


def _day_arg(default: date, days: list[date]) -> date:
    """The day picked in the week shown (?dag=); anything else (no date, a day of another week) is ``default``."""
    try:
        day = date.fromisoformat(request.args.get("dag", ""))
    except ValueError:
        return default
    return day if day in days else default


def _choices(form: EntryForm) -> None:
    form.desk_id.choices = [(d.id, d.name) for d in current_user.desks]
    form.activity_id.choices = [("", "— välj aktivitet —")] + [(a.id, a.name) for a in service.active_activities()]
    orgs = db.session.scalars(select(Organisation).order_by(Organisation.name))
    form.organisation_id.choices = [("", "— välj organisation —")] + [(o.id, o.name) for o in orgs]


def entry_input(form: EntryForm) -> service.EntryInput:
    return service.EntryInput(
        work_date=form.work_date.data, desk_id=form.desk_id.data, activity_id=form.activity_id.data,
        organisation_id=form.organisation_id.data, start=form.start.data, end=form.end.data,
        duration=form.duration.data, persons_handled=form.persons_handled.data,
        journeys_avoided=form.journeys_avoided.data, km_avoided=form.km_avoided.data,
        note=form.note.data or "", source=form.source.data or "")


def _week_url(day: date, **extra: Any) -> str:
    year, week = rules.iso_week_of(day)
    return url_for("timelog.week", vecka=f"{year}-W{week:02d}", **extra)


@bp.route("/", methods=["GET", "POST"])
@allow(Role.CARD_ADMIN)
def week() -> Any:
    """The week page; POST adds an entry (from the form or a confirmed suggestion)."""
    form = EntryForm()
    _choices(form)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            created, status = attempt(lambda: service.create_entry(current_user, entry_input(form)))
            if created is not None:
                flash(f"Tidsposten är sparad ({created.minutes} min, {created.activity.name}).", "success")
                return redirect(_week_url(created.work_date, dag=created.work_date.isoformat()))
        year, iso_week = rules.iso_week_of(form.work_date.data or service.today())
    else:
        year, iso_week = _week_arg()
        today, monday = service.today(), rules.week_monday(year, iso_week)
        default = today if rules.iso_week_of(today) == (year, iso_week) else monday
        form.work_date.data = min(_day_arg(default, rules.week_days(year, iso_week)), today)
        for name in ("start", "end", "duration", "persons_handled", "journeys_avoided", "km_avoided", "source"):
            if request.args.get(name):
                getattr(form, name).data = request.args[name][:60]
        for name in ("activity_id", "organisation_id", "desk_id"):
            if (value := int_arg(name)) is not None:
                getattr(form, name).data = value
    day = form.work_date.data or service.today()
    sheet = service.sheet_for(current_user.id, year, iso_week, create=False)
    entries = service.entries_of_week(current_user.id, year, iso_week)
    monday = rules.week_monday(year, iso_week)
    return render_template(
        "timelog/week.html", form=form, year=year, week=iso_week, sheet=sheet, entries=entries,
        days=rules.week_days(year, iso_week), day=day, suggestions=suggest(current_user, day),
        total=sum(e.minutes for e in entries), today=service.today(),
        org_names={value: label for value, label in form.organisation_id.choices if value},  # type: ignore[union-attr]
        prev_url=_week_url(monday - timedelta(days=7)), next_url=_week_url(monday + timedelta(days=7)),
        periods=service.pilot_periods_of(current_user),
    ), form_status(request.method == "POST", status)


@bp.route("/poster/<int:entry_id>", methods=["GET", "POST"])
@allow(Role.CARD_ADMIN)
def edit(entry_id: int) -> Any:
    entry = service.get_own_entry(current_user, entry_id)
    form = EntryForm(obj=entry)
    _choices(form)
    status = 200
    if request.method == "GET":
        form.start.data = entry.start_time.strftime("%H:%M") if entry.start_time else ""
        form.end.data = entry.end_time.strftime("%H:%M") if entry.end_time else ""
        form.duration.data = "" if entry.start_time else str(entry.minutes)
        form.km_avoided.data = str(entry.km_avoided)
    elif form.validate_on_submit():
        updated, status = attempt(lambda: service.update_entry(current_user, entry_id, entry_input(form)))
        if updated is not None:
            flash("Tidsposten är ändrad.", "success")
            return redirect(_week_url(updated.work_date))
    return render_template("timelog/edit.html", form=form, entry=entry), form_status(request.method == "POST", status)


@bp.route("/poster/<int:entry_id>/ta-bort", methods=["POST"])
@allow(Role.CARD_ADMIN)
def delete(entry_id: int) -> Any:
    entry = service.get_own_entry(current_user, entry_id)
    day = entry.work_date
    _done, _status = attempt(lambda: service.delete_entry(current_user, entry_id))
    if _done is None and _status == 200:
        flash("Tidsposten är borttagen.", "success")
    return redirect(_week_url(day))


@bp.route("/skicka-in", methods=["POST"])
@allow(Role.CARD_ADMIN)
def submit() -> Any:
    try:
        year, iso_week = rules.parse_iso_week(request.form.get("vecka")) or (0, 0)
    except InvalidInput as exc:
        flash(exc.message, "error")
        return redirect(url_for("timelog.week"))
    if not year:
        abort(400)
    sheet, _status = attempt(lambda: sheets.submit(current_user, year, iso_week))
    if sheet is not None:
        flash(f"Tidrapporten för v.{iso_week:02d} är inskickad för godkännande.", "success")
    return redirect(url_for("timelog.week", vecka=f"{year}-W{iso_week:02d}"))


@bp.route("/attest")
@allow(*APPROVERS)
def queue() -> Any:
    pending = sheets.to_approve(current_user)
    details = {s.id: service.entries_of_week(s.user_id, s.iso_year, s.iso_week) for s in pending}
    return render_template("timelog/queue.html", pending=pending, details=details,
                           decided=sheets.recent_decided(current_user))


@bp.route("/tidrapporter/<int:sheet_id>")
@allow(Role.CARD_ADMIN, *APPROVERS, Role.ADMIN)
def sheet(sheet_id: int) -> Any:
    found = sheets.get_sheet(current_user, sheet_id)
    entries = service.entries_of_week(found.user_id, found.iso_year, found.iso_week)
    return render_template("timelog/sheet.html", sheet=found, entries=entries,
                           can_approve=sheets.can_approve(current_user, found))


@bp.route("/tidrapporter/<int:sheet_id>/godkann", methods=["POST"])
@allow(*APPROVERS)
def approve(sheet_id: int) -> Any:
    done, _status = attempt(lambda: sheets.approve(current_user, sheet_id))
    if done is not None:
        flash(f"Tidrapporten för {done.user.full_name}, v.{done.iso_week:02d}, är godkänd och låst.", "success")
    return redirect(url_for("timelog.queue"))


@bp.route("/tidrapporter/<int:sheet_id>/oppna", methods=["POST"])
@allow(Role.CARD_ADMIN, *APPROVERS)
def reopen(sheet_id: int) -> Any:
    done, _status = attempt(lambda: sheets.reopen(current_user, sheet_id, request.form.get("reason", "")))
    if done is not None:
        flash("Tidrapporten är öppnad igen.", "success")
    return redirect(url_for("timelog.sheet", sheet_id=sheet_id))
