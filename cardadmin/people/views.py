"""The person page (details, orders, cards, history; personal identity number always masked) and a form to
register a card recipient who is not yet in the register (linked from the new-order page)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from cardadmin.accounts.models import Organisation, Unit
from cardadmin.audit.service import history
from cardadmin.db import db
from cardadmin.errors import NotFound
from cardadmin.hsa import service as hsa
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.service import PersonEntryInput
from cardadmin.hsa.views import desk_choices
from cardadmin.orders import queries
from cardadmin.orders.forms import PersonForm
from cardadmin.orders.models import Card, Order
from cardadmin.people import service
from cardadmin.people.models import Person
from cardadmin.roles import Role
from cardadmin.security import allow
from cardadmin.web import attempt, form_status

bp = Blueprint("people", __name__, url_prefix="/personer")

EDITORS = (Role.ORDERER, Role.RA_OFFICER, Role.CARD_ADMIN, Role.ADMIN)


@bp.route("/<int:person_id>")
@allow(*EDITORS)
def detail(person_id: int) -> Any:
    person = db.session.scalar(service.visible_persons(current_user).where(Person.id == person_id))
    if person is None:
        raise NotFound("Personen finns inte.")
    orders = list(db.session.scalars(queries.visible_orders(current_user).where(Order.person_id == person.id)
                                     .order_by(Order.created_at.desc(), Order.id.desc())))
    cards = list(db.session.scalars(queries.visible_cards(current_user).where(Card.person_id == person.id)
                                    .order_by(Card.id.desc())))
    return render_template("people/detail.html", person=person, orders=orders, cards=cards,
                           events=history(db.session, "person", person.id))


@bp.route("/ny", methods=["GET", "POST"])
@allow(*EDITORS)
def new() -> Any:
    form = PersonForm()
    if current_user.has_role(Role.ADMIN, Role.CARD_ADMIN):
        orgs = list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
    else:
        orgs = [current_user.organisation] if current_user.organisation else []
    form.organisation_id.choices = [(o.id, o.name) for o in orgs]
    units = list(db.session.scalars(select(Unit).where(Unit.organisation_id.in_([o.id for o in orgs]))
                                    .order_by(Unit.name)))
    form.unit_id.choices = [("", "— ingen —")] + [(u.id, f"{u.name} ({u.hsa_id})") for u in units]
    if current_user.desks:  # the HSA change log bills the desk where the entry was made
        desk_choices(form)
    else:
        del form.desk_id
    if request.method == "GET" and request.args.get("hsa_id"):
        form.hsa_id.data = request.args["hsa_id"][:31]
    to_order = request.args.get("till") == "bestallning"
    status = 200
    if form.validate_on_submit():
        # The person row is the HSA entry: created through the HSA service, so it is in the change log (who,
        # for which organisation, at which desk) that billing and the pilot evaluation count.
        data = PersonEntryInput(
            hsa_id=form.hsa_id.data or "", given_name=form.given_name.data or "", surname=form.surname.data or "",
            organisation_id=form.organisation_id.data or 0, title=form.title.data or "", mail=form.mail.data or "",
            telephone=form.telephone.data or "", unit_ids=[form.unit_id.data] if form.unit_id.data else [],
            personnummer=form.personnummer.data, protected_identity=bool(form.protected_identity.data),
        )
        desk_id = form.desk_id.data if "desk_id" in form else None
        result, status = attempt(lambda: hsa.create_person_entry(ChangeContext(current_user, "web", desk_id=desk_id),
                                                                  data))
        person = result[0] if result is not None else None
        if result is not None:
            for warning in result[1]:
                flash(warning, "warning")
        if person is not None:
            flash(f"{person.full_name} ({person.hsa_id}) är registrerad.", "success")
            if to_order and current_user.has_role(Role.ORDERER):
                return redirect(url_for("orders.new_order", person_id=person.id))
            return redirect(url_for("people.detail", person_id=person.id))
    return render_template("people/new.html", form=form, to_order=to_order), form_status(
        request.method == "POST", status)
