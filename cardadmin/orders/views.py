"""Orderer and RA screens: new order, my orders, the order page, the one approval queue.

Double submission of a new order: the form carries a one-time nonce kept in the session. A nonce that has
already produced an order sends the user to that order with a notice instead of creating a second one; and
whatever the form, the service refuses a second open order for the same person (409, friendly message).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from cardadmin.accounts.models import Desk
from cardadmin.audit.service import history
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.orders import queries, service
from cardadmin.orders.display import register_filters
from cardadmin.orders.forms import DecisionForm, OrderForm
from cardadmin.orders.models import Order
from cardadmin.orders.states import allowed_targets
from cardadmin.people.models import Person
from cardadmin.people.service import search_persons, visible_persons
from cardadmin.roles import Role
from cardadmin.security import allow
from cardadmin.web import attempt, form_status, int_arg, whole_number, whole_numbers

bp = Blueprint("orders", __name__, url_prefix="/bestallningar")
register_filters(bp)
# Templates ask the service's four-eyes predicates instead of restating the rule.
bp.add_app_template_global(service.may_decide, "may_decide")
bp.add_app_template_global(service.may_take_desk_steps, "may_take_desk_steps")

VIEWERS = (Role.ORDERER, Role.RA_OFFICER, Role.CARD_ADMIN, Role.ADMIN)
PAGE = 50
_NONCES = "order_nonces"  # session: {nonce: order id, or 0 while unused}
_MAX_NONCES = 20


def open_desks() -> list[Desk]:
    return list(db.session.scalars(select(Desk).where(Desk.active.is_(True)).order_by(Desk.name)))


def _new_nonce() -> str:
    nonces: dict[str, int] = dict(session.get(_NONCES, {}))
    while len(nonces) >= _MAX_NONCES:
        nonces.pop(next(iter(nonces)))
    nonce = secrets.token_urlsafe(16)
    nonces[nonce] = 0
    session[_NONCES] = nonces
    return nonce


def _used_nonce(nonce: str) -> int:
    return int(dict(session.get(_NONCES, {})).get(nonce, 0))


def _spend_nonce(nonce: str, order_id: int) -> None:
    nonces = dict(session.get(_NONCES, {}))
    if nonce in nonces:
        nonces[nonce] = order_id
        session[_NONCES] = nonces


# ---------------------------------------------------------------- orderer


@bp.route("/ny", methods=["GET", "POST"])
@allow(Role.ORDERER)
def new_order() -> Any:
    form = OrderForm()
    form.desk_id.choices = [("", "— välj kortutlämning —")] + [(d.id, f"{d.name} ({d.town})") for d in open_desks()]
    person_id = int_arg("person_id") if request.method == "GET" else whole_number(form.person_id.data)
    person = None
    if person_id is not None:
        person = db.session.scalar(visible_persons(current_user).where(Person.id == person_id))
        if person is None:
            abort(404)
    query = request.args.get("q", "").strip()[:100]
    matches: list[Person] = []
    search_error = ""
    if person is None and query:
        try:
            matches = search_persons(current_user, query)
        except InvalidInput as exc:
            search_error = exc.message
    status = 200
    if request.method == "GET":
        form.person_id.data = str(person.id) if person else ""
        form.nonce.data = _new_nonce()
        if request.args.get("order_type") in dict(form.order_type.choices):
            form.order_type.data = request.args["order_type"]
    elif person is None:
        flash("Välj kortmottagaren i sökresultatet först.", "error")
        status = 400
    elif form.validate_on_submit():
        done = _used_nonce(form.nonce.data or "")
        if done:
            flash(f"Beställningen är redan skickad (nr {done}); den skickades inte en gång till.", "info")
            return redirect(url_for("orders.detail", order_id=done))
        order, status = attempt(lambda: service.create_order(
            current_user, person_id=person.id, order_type=form.order_type.data,
            desk_id=form.desk_id.data or 0, comment=form.comment.data or ""))
        if order is not None:
            _spend_nonce(form.nonce.data or "", order.id)
            flash(f"Beställningen för {person.full_name} är skickad till RA för godkännande.", "success")
            return redirect(url_for("orders.detail", order_id=order.id))
    return render_template("orders/new.html", form=form, person=person, query=query, matches=matches,
                           search_error=search_error), form_status(request.method == "POST", status)


@bp.route("/mina")
@allow(Role.ORDERER)
def mine() -> Any:
    orders = queries.my_orders(current_user, after=queries.parse_cursor(request.args.get("efter")), limit=PAGE)
    next_cursor = queries.format_cursor(orders[-1]) if len(orders) == PAGE else None
    return render_template("orders/mine.html", orders=orders, next_cursor=next_cursor)


@bp.route("/<int:order_id>")
@allow(*VIEWERS)
def detail(order_id: int) -> Any:
    order = queries.get_order(current_user, order_id)
    return render_template("orders/detail.html", order=order, targets=allowed_targets(order.status, current_user),
                           events=history(db.session, "order", order.id), form=DecisionForm(),
                           at_my_desk=service.may_take_desk_steps(current_user, order))


@bp.route("/<int:order_id>/makulera", methods=["POST"])
@allow(Role.ORDERER, Role.ADMIN)
def cancel(order_id: int) -> Any:
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    service.cancel(current_user, order_id, form.reason.data or "")  # a refusal is shown by the error handler
    db.session.commit()
    flash("Beställningen är makulerad.", "success")
    return redirect(url_for("orders.detail", order_id=order_id))


# ---------------------------------------------------------------- RA


def _queue_page(status: int = 200, form: DecisionForm | None = None, checked: frozenset[int] = frozenset()) -> Any:
    """The RA queue; after a refused decision the orders the officer had ticked stay ticked."""
    orders = queries.ra_queue(current_user, after=queries.parse_cursor(request.args.get("efter")), limit=PAGE)
    next_cursor = queries.format_cursor(orders[-1]) if len(orders) == PAGE else None
    return render_template("orders/ra_queue.html", orders=orders, next_cursor=next_cursor,
                           form=form or DecisionForm(), checked=checked), status


@bp.route("/att-godkanna")
@allow(Role.RA_OFFICER)
def ra_queue() -> Any:
    return _queue_page()


@bp.route("/beslut", methods=["POST"])
@allow(Role.RA_OFFICER)
def decide() -> Any:
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("Formuläret kunde inte läsas. Försök igen.", "error")
        return _queue_page(400, form)
    ids = whole_numbers(request.form.getlist("order_ids"))
    action = request.form.get("action", "")
    if not ids:
        flash("Markera minst en beställning.", "error")
        return _queue_page(400, form)
    if action not in ("approve", "reject"):
        flash("Välj Godkänn eller Avslå.", "error")
        return _queue_page(400, form, frozenset(ids))
    reason = (form.reason.data or "").strip()
    if action == "reject" and not reason:
        flash("Ange ett skäl för avslaget. Inget har ändrats.", "error")
        return _queue_page(400, form, frozenset(ids))
    results = service.decide_many(current_user, ids, approve_them=action == "approve", reason=reason)
    db.session.commit()
    found = {o.id: o for o in db.session.scalars(queries.visible_orders(current_user).where(Order.id.in_(ids)))}
    rows = [(order_id, found.get(order_id), message) for order_id, message in results.items()]
    done = sum(1 for _, _, message in rows if message is None)
    verb = "godkända" if action == "approve" else "avslagna"
    flash(f"{done} av {len(rows)} beställningar {verb}.", "success" if done == len(rows) else "error")
    return render_template("orders/decisions.html", rows=rows, action=action), 200 if done else 409

