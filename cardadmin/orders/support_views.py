"""Support cases at the desk: the list (open first), a new case, and resolving an open one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from cardadmin.accounts.models import Desk
from cardadmin.db import db
from cardadmin.errors import NotFound
from cardadmin.orders import support
from cardadmin.orders.card_rules import normalise_card_number
from cardadmin.orders.forms import ResolveSupportForm, SupportForm
from cardadmin.orders.models import Card
from cardadmin.orders.queries import visible_cards
from cardadmin.people.models import Person
from cardadmin.people.service import visible_persons
from cardadmin.roles import Role
from cardadmin.security import allow
from cardadmin.validation import hsa_id_input
from cardadmin.web import attempt, form_status, int_arg

bp = Blueprint("support", __name__, url_prefix="/support")
DESK_STAFF = (Role.CARD_ADMIN, Role.ADMIN)
PAGE = 100


@bp.route("/")
@allow(Role.CARD_ADMIN, Role.RA_OFFICER, Role.ADMIN)
def cases() -> Any:
    return _list_page()


def _list_page(status: int = 200) -> Any:
    show_all = request.args.get("visa") == "alla"
    rows = db.session.scalars(support.visible_cases(current_user, open_only=not show_all).limit(PAGE)).all()
    return render_template("orders/support_list.html", cases=rows, show_all=show_all,
                           resolve_form=ResolveSupportForm(formdata=None),
                           can_act=current_user.has_role(*DESK_STAFF)), status


def _desk_choices() -> list[tuple[Any, str]]:
    desks = (db.session.scalars(select(Desk).where(Desk.active).order_by(Desk.name)).all()
             if current_user.has_role(Role.ADMIN) else current_user.desks)
    return [(d.id, d.name) for d in desks]


def _linked(form: SupportForm) -> tuple[int | None, int | None]:
    """The card and person named in the form, looked up within the user's scope."""
    card_id = person_id = None
    if form.card_number.data:
        number = normalise_card_number(form.card_number.data)
        card_id = db.session.scalar(visible_cards(current_user).where(Card.card_number == number)
                                    .with_only_columns(Card.id))
        if card_id is None:
            raise NotFound(f"Kortet {number} finns inte bland dina kort.")
    if form.person_hsa_id.data:
        hsa_id = hsa_id_input(form.person_hsa_id.data, "Personens HSA-id")
        person_id = db.session.scalar(visible_persons(current_user).where(Person.hsa_id == hsa_id)
                                      .with_only_columns(Person.id))
        if person_id is None:
            raise NotFound(f"Det finns ingen person med HSA-id {hsa_id}.")
    return card_id, person_id


@bp.route("/nytt", methods=["GET", "POST"])
@allow(*DESK_STAFF)
def new_case() -> Any:
    form = SupportForm()
    form.desk_id.choices = _desk_choices()
    if request.method == "GET" and (card_id := int_arg("kort")) is not None:
        card = db.session.scalar(visible_cards(current_user).where(Card.id == card_id))
        if card is not None:
            form.card_number.data = card.card_number
    status = 200
    if form.validate_on_submit():
        def create() -> Any:
            card_id, person_id = _linked(form)
            return support.open_support_case(current_user, support.SupportInput(
                kind=form.kind.data or "", channel=form.channel.data or "", out_of_hours=form.out_of_hours.data,
                description=form.description.data or "", resolution=form.resolution.data or "",
                card_id=card_id, person_id=person_id, desk_id=form.desk_id.data, minutes_spent=form.minutes_spent.data))

        case, status = attempt(create)
        if case is not None:
            flash(f"Supportärende {case.id} är sparat.", "success")
            return redirect(url_for("support.cases"))
    return render_template("orders/support_new.html", form=form), form_status(form.is_submitted(), status)


@bp.route("/<int:case_id>/los", methods=["POST"])
@allow(*DESK_STAFF)
def resolve(case_id: int) -> Any:
    form = ResolveSupportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return _list_page(400)
    case, status = attempt(lambda: support.resolve_support_case(current_user, case_id, form.resolution.data or "",
                                                                form.minutes_spent.data or 0))
    if case is None:
        return _list_page(status)
    flash(f"Supportärende {case.id} är löst.", "success")
    return redirect(url_for("support.cases"))
