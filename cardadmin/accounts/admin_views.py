"""Admin pages: users and roles, organisations and units, card desks and pilot periods."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from cardadmin.accounts import service
from cardadmin.accounts.forms import DeskForm, OrganisationForm, PilotPeriodForm, UnitForm, UserForm
from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, Unit, User
from cardadmin.hsa import service as hsa
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.identifiers import format_org_number
from cardadmin.roles import Role
from cardadmin.security import allow
from cardadmin.web import attempt, form_status

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _organisation_choices(blank: str | None = None) -> list[tuple[Any, str]]:
    orgs = service.list_all(Organisation, Organisation.name)
    choices = [(o.id, o.name) for o in orgs]
    return ([("", blank)] + choices) if blank else choices


def _render_form(template: str, form: Any, status: int, **context: Any) -> Any:
    return render_template(template, form=form, **context), form_status(request.method == "POST", status)


@bp.route("/")
@allow(Role.ADMIN)
def index() -> Any:
    from cardadmin.navigation import ADMINISTRATION, ADMINISTRATION_HELP, links_for

    return render_template("admin/index.html", pages=links_for(current_user, ADMINISTRATION),
                           help=ADMINISTRATION_HELP)


# ---------------------------------------------------------------- users


@bp.route("/anvandare")
@allow(Role.ADMIN)
def users() -> Any:
    return render_template("admin/users.html", users=service.list_users())


@bp.route("/anvandare/ny", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/anvandare/<int:user_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def user_form(user_id: int | None) -> Any:
    user = service.get_or_404(User, user_id, "Användaren") if user_id is not None else None
    form = UserForm(obj=user)
    form.organisation_id.choices = _organisation_choices("— ingen —")
    form.desk_ids.choices = [(d.id, d.name) for d in service.list_all(Desk, Desk.name)]
    if user is not None:  # a new user needs one; an existing one keeps theirs
        form.password.label.text = "Nytt lösenord (minst 10 tecken; lämna tomt för att behålla det nuvarande)"
    if request.method == "GET" and user is not None:
        form.roles.data = [str(r) for r in user.roles]
        form.desk_ids.data = [d.id for d in user.desks]
    status = 200
    if form.validate_on_submit():
        data = service.UserInput(
            username=form.username.data, full_name=form.full_name.data, email=form.email.data or "",
            hsa_id=form.hsa_id.data, organisation_id=form.organisation_id.data,
            roles=[Role(r) for r in form.roles.data or []], desk_ids=form.desk_ids.data or [],
            active=form.active.data,
        )

        def save() -> User:
            if user is None:
                return service.create_user(current_user, data, form.password.data or "")
            saved = service.update_user(current_user, user, data)
            if form.password.data:
                service.set_password(current_user, saved, form.password.data)
            return saved

        saved, status = attempt(save)
        if saved is not None:
            flash(f"Användaren {saved.username} är sparad.", "success")
            return redirect(url_for("admin.users"))
    return _render_form("admin/user_form.html", form, status, user=user)


# ---------------------------------------------------------------- organisations and units


@bp.route("/organisationer")
@allow(Role.ADMIN)
def organisations() -> Any:
    orgs = service.list_all(Organisation, Organisation.name)
    return render_template("admin/organisations.html", organisations=orgs, format_org_number=format_org_number)


@bp.route("/organisationer/ny", methods=["GET", "POST"], defaults={"org_id": None})
@bp.route("/organisationer/<int:org_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def organisation_form(org_id: int | None) -> Any:
    org = service.get_or_404(Organisation, org_id, "Organisationen") if org_id is not None else None
    form = OrganisationForm(obj=org)
    if request.method == "GET" and org is not None:
        form.org_number.data = format_org_number(org.org_number)
    status = 200
    if form.validate_on_submit():
        saved, status = attempt(
            lambda: service.save_organisation(
                current_user, org, name=form.name.data, org_number=form.org_number.data, kind=form.kind.data
            )
        )
        if saved is not None:
            flash(f"{saved.name} är sparad.", "success")
            return redirect(url_for("admin.organisation_form", org_id=saved.id))
    return _render_form("admin/organisation_form.html", form, status, org=org)


@bp.route("/organisationer/<int:org_id>/enheter/ny", methods=["GET", "POST"], defaults={"unit_id": None})
@bp.route("/organisationer/<int:org_id>/enheter/<int:unit_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def unit_form(org_id: int, unit_id: int | None) -> Any:
    org = service.get_or_404(Organisation, org_id, "Organisationen")
    unit = service.get_or_404(Unit, unit_id, "Enheten") if unit_id is not None else None
    if unit is not None and unit.organisation_id != org.id:
        unit = service.get_or_404(Unit, None, "Enheten")
    form = UnitForm(obj=unit)
    form.parent_id.choices = [("", "— ingen —")] + [(u.id, u.name) for u in org.units if u is not unit]
    status = 200
    if form.validate_on_submit():
        # Units are HSA entries: saved through the HSA service, so the change log (billing) records them too.
        data = hsa.UnitEntryInput(hsa_id=form.hsa_id.data or "", name=form.name.data or "", organisation_id=org.id,
                                  parent_id=form.parent_id.data, town=form.town.data or "")
        saved, status = attempt(lambda: (
            hsa.update_unit_entry(ChangeContext(current_user, "web"), unit.id, data) if unit is not None
            else hsa.create_unit_entry(ChangeContext(current_user, "web"), data))[0])
        if saved is not None:
            flash(f"Enheten {saved.name} är sparad.", "success")
            return redirect(url_for("admin.organisation_form", org_id=org.id))
    return _render_form("admin/unit_form.html", form, status, org=org, unit=unit)


# ---------------------------------------------------------------- desks and pilot periods


@bp.route("/kortutlamningar")
@allow(Role.ADMIN)
def desks() -> Any:
    return render_template("admin/desks.html", desks=service.list_all(Desk, Desk.name))


@bp.route("/kortutlamningar/ny", methods=["GET", "POST"], defaults={"desk_id": None})
@bp.route("/kortutlamningar/<int:desk_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def desk_form(desk_id: int | None) -> Any:
    desk = service.get_or_404(Desk, desk_id, "Kortutlämningen") if desk_id is not None else None
    form = DeskForm(obj=desk)
    form.organisation_id.choices = _organisation_choices()
    status = 200
    if form.validate_on_submit():
        saved, status = attempt(
            lambda: service.save_desk(
                current_user, desk, name=form.name.data, town=form.town.data,
                organisation_id=form.organisation_id.data, is_regional=form.is_regional.data,
                opening_hours=form.opening_hours.data or "", active=form.active.data,
            )
        )
        if saved is not None:
            flash(f"{saved.name} är sparad.", "success")
            return redirect(url_for("admin.desk_form", desk_id=saved.id))
    return _render_form("admin/desk_form.html", form, status, desk=desk)


@bp.route("/kortutlamningar/<int:desk_id>/pilot/ny", methods=["GET", "POST"], defaults={"period_id": None})
@bp.route("/kortutlamningar/<int:desk_id>/pilot/<int:period_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def pilot_form(desk_id: int, period_id: int | None) -> Any:
    desk = service.get_or_404(Desk, desk_id, "Kortutlämningen")
    period = service.get_or_404(PilotPeriod, period_id, "Pilotperioden") if period_id is not None else None
    if period is not None and period.desk_id != desk.id:
        period = service.get_or_404(PilotPeriod, None, "Pilotperioden")
    form = PilotPeriodForm(obj=period)
    status = 200
    if form.validate_on_submit():
        saved, status = attempt(
            lambda: service.save_pilot_period(
                current_user, period, desk_id=desk.id, name=form.name.data, year=form.year.data,
                week_from=form.week_from.data, week_to=form.week_to.data,
            )
        )
        if saved is not None:
            flash("Pilotperioden är sparad.", "success")
            return redirect(url_for("admin.desk_form", desk_id=desk.id))
    return _render_form("admin/pilot_form.html", form, status, desk=desk, period=period)
