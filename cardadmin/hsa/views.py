"""HSA screens: search persons and units, create/edit/remove a person entry, unit tree, a person's change
history, the billing report (screen, CSV, XLSX). Thin: parse → service → commit once → redirect/render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from cardadmin.accounts.models import Desk, Organisation, Unit
from cardadmin.db import db
from cardadmin.hsa import changelog, queries, report, service
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.forms import ConfirmForm, PersonEntryForm
from cardadmin.hsa.models import ACTION_LABELS
from cardadmin.hsa.rules import REPORT_READERS, WRITERS, organisation_scope
from cardadmin.hsa.service import PersonEntryInput
from cardadmin.security import allow
from cardadmin.web import attempt, form_status, int_arg

bp = Blueprint("hsa", __name__, url_prefix="/hsa")


def desk_choices(form: Any) -> None:
    form.desk_id.choices = ([] if changelog.desk_required(current_user) else [("", "— ingen —")]) + [
        (d.id, d.name) for d in current_user.desks]


def _entry_choices(form: PersonEntryForm) -> None:
    scope = organisation_scope(current_user)
    orgs = select(Organisation).order_by(Organisation.name)
    units = select(Unit).order_by(Unit.name)
    if scope is not None:
        orgs, units = orgs.where(Organisation.id.in_(scope)), units.where(Unit.organisation_id.in_(scope))
    form.organisation_id.choices = [("", "— enligt HSA-id:t —")] + [
        (o.id, o.name) for o in db.session.scalars(orgs)]
    form.unit_ids.choices = [(u.id, f"{u.name} ({u.hsa_id})") for u in db.session.scalars(units)]
    desk_choices(form)


def _entry_input(form: PersonEntryForm) -> PersonEntryInput:
    return PersonEntryInput(
        hsa_id=form.hsa_id.data or "", given_name=form.given_name.data or "", surname=form.surname.data or "",
        title=form.title.data or "", mail=form.mail.data or "", telephone=form.telephone.data or "",
        organisation_id=form.organisation_id.data, unit_ids=list(form.unit_ids.data or []),
        start_date=form.start_date.data, end_date=form.end_date.data)


def _saved(result: Any, verb: str) -> Any:
    person, warnings = result
    for warning in warnings:
        flash(warning, "warning")
    flash(f"HSA-posten för {person.full_name} ({person.hsa_id}) är {verb}.", "success")
    return redirect(url_for("hsa.person", person_id=person.id))


@bp.route("/")
@allow(*WRITERS)
def search() -> Any:
    query = queries.EntrySearch(text=request.args.get("q", ""), unit_id=int_arg("enhet"),
                                include_removed=request.args.get("borttagna") == "1")
    searched = bool(query.text.strip() or query.unit_id)
    persons = queries.search_persons(current_user, query) if searched else []
    units = queries.search_units(current_user, query.text) if query.text.strip() else []
    return render_template("hsa/search.html", query=query, persons=persons, units=units, searched=searched,
                           all_units=queries.search_units(current_user, ""))


@bp.route("/personer/ny", methods=["GET", "POST"])
@allow(*WRITERS)
def new_person() -> Any:
    form = PersonEntryForm()
    _entry_choices(form)
    status = 200
    if form.validate_on_submit():
        result, status = attempt(lambda: service.create_person_entry(
            ChangeContext(current_user, "web", desk_id=form.desk_id.data), _entry_input(form)))
        if result is not None:
            return _saved(result, "skapad")
    return render_template("hsa/person_form.html", form=form, person=None), form_status(
        request.method == "POST", status)


@bp.route("/personer/<int:person_id>")
@allow(*WRITERS)
def person(person_id: int) -> Any:
    entry = queries.get_person(current_user, person_id)
    units = db.session.scalars(select(Unit).where(Unit.id.in_(service.unit_ids_of(entry.id)))).all()
    form = ConfirmForm()
    desk_choices(form)
    desks = {d.id: d.name for d in db.session.scalars(select(Desk))}
    return render_template("hsa/person.html", person=entry, units=units, form=form, desks=desks,
                           changes=changelog.history("person", entry.id), action_labels=ACTION_LABELS)


@bp.route("/personer/<int:person_id>/andra", methods=["GET", "POST"])
@allow(*WRITERS)
def edit_person(person_id: int) -> Any:
    entry = queries.get_person(current_user, person_id)
    form = PersonEntryForm(obj=entry)
    _entry_choices(form)
    if request.method == "GET":
        form.unit_ids.data = service.unit_ids_of(entry.id)
    status = 200
    if form.validate_on_submit():
        result, status = attempt(lambda: service.update_person_entry(
            ChangeContext(current_user, "web", desk_id=form.desk_id.data), entry.id, _entry_input(form)))
        if result is not None:
            return _saved(result, "ändrad")
    return render_template("hsa/person_form.html", form=form, person=entry), form_status(
        request.method == "POST", status)


@bp.route("/personer/<int:person_id>/ta-bort", methods=["POST"])
@allow(*WRITERS)
def remove_person(person_id: int) -> Any:
    form = ConfirmForm()
    desk_choices(form)
    if not form.validate_on_submit():
        flash("Formuläret kunde inte tolkas. Försök igen.", "error")
        return redirect(url_for("hsa.person", person_id=person_id)), 400
    if form.confirm.data != "1":  # step 1: say what removal means and ask again; nothing is changed
        entry = queries.get_person(current_user, person_id)
        form.confirm.data = "1"
        return render_template("hsa/remove_confirm.html", person=entry, form=form)
    removed, status = attempt(lambda: service.remove_person_entry(
        ChangeContext(current_user, "web", desk_id=form.desk_id.data), person_id))
    if removed is None:
        return person(person_id), status  # the page again, with the reason flashed
    flash(f"HSA-posten {removed.hsa_id} är borttagen.", "success")
    return redirect(url_for("hsa.person", person_id=person_id))


@bp.route("/enheter")
@allow(*WRITERS)
def units() -> Any:
    return render_template("hsa/units.html", tree=queries.unit_tree(current_user))


def _year() -> int | None:
    year = int_arg("ar")
    return year if year is not None and 1000 <= year <= 9999 else None


@bp.route("/rapport")
@allow(*REPORT_READERS)
def billing() -> Any:
    year = _year()
    return render_template("hsa/billing.html", rows=report.billing_rows(current_user, year=year), year=year)


@bp.route("/rapport.csv")
@allow(*REPORT_READERS)
def billing_csv() -> Any:
    rows = report.billing_rows(current_user, year=_year())
    return Response(report.csv_lines(rows), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=hsa-fakturering.csv"})


@bp.route("/rapport.xlsx")
@allow(*REPORT_READERS)
def billing_xlsx() -> Any:
    handle = report.xlsx_file(report.billing_rows(current_user, year=_year()))
    return send_file(handle, as_attachment=True, download_name="hsa-fakturering.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
