"""Admin screens of the time log: the activity list, hourly rates per municipality, journey distances."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from cardadmin.accounts.models import Desk, Organisation, Unit
from cardadmin.db import db
from cardadmin.roles import Role
from cardadmin.security import allow
from cardadmin.timelog import money, service
from cardadmin.timelog.models import Activity, JourneyDistance
from cardadmin.web import attempt, date_arg, int_arg

bp = Blueprint("timelog_admin", __name__, url_prefix="/admin/tid")


def _int(name: str) -> int | None:
    return int_arg(name, values=request.form)


@bp.route("/")
@allow(Role.ADMIN)
def settings() -> Any:
    return render_template(
        "timelog/admin.html",
        activities=list(db.session.scalars(select(Activity).order_by(Activity.sort_order, Activity.name))),
        rates=money.rates(), distances=list(db.session.scalars(select(JourneyDistance).order_by(JourneyDistance.id))),
        organisations=list(db.session.scalars(select(Organisation).order_by(Organisation.name))),
        desks=list(db.session.scalars(select(Desk).order_by(Desk.name))),
        units=list(db.session.scalars(select(Unit).order_by(Unit.name))))


@bp.route("/aktiviteter", methods=["POST"])
@allow(Role.ADMIN)
def save_activity() -> Any:
    row, _status = attempt(lambda: service.save_activity(
        current_user, _int("activity_id"), name=request.form.get("name", ""),
        active=bool(request.form.get("active")), sort_order=_int("sort_order") or 0))
    if row is not None:
        flash(f"Aktiviteten {row.name} är sparad.", "success")
    return redirect(url_for("timelog_admin.settings"))


@bp.route("/timpriser", methods=["POST"])
@allow(Role.ADMIN)
def save_rate() -> Any:
    form = request.form
    row, _status = attempt(lambda: money.save_rate(
        current_user, None, organisation_id=_int("organisation_id") or 0,
        valid_from=date_arg("valid_from", "Från", values=form), valid_to=date_arg("valid_to", "Till", values=form),
        rate=form.get("rate", ""), on_cost_percent=form.get("on_cost_percent", "")))
    if row is not None:
        flash("Timpriset är sparat.", "success")
    return redirect(url_for("timelog_admin.settings"))


@bp.route("/avstand", methods=["POST"])
@allow(Role.ADMIN)
def save_distance() -> Any:
    row, _status = attempt(lambda: service.save_distance(
        current_user, desk_id=_int("desk_id") or 0, unit_id=_int("unit_id"), km=request.form.get("km", ""),
        label=request.form.get("label", "")))
    if row is not None:
        flash("Avståndet är sparat.", "success")
    return redirect(url_for("timelog_admin.settings"))
