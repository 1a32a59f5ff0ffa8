"""The card desk (korthandläggare): orders to produce, cards waiting for collection, the hand-over page with
its identity check, the printable receipt and the recipient's acceptance."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from cardadmin.db import db
from cardadmin.orders import queries, service
from cardadmin.orders.forms import HandOverForm, ProduceForm
from cardadmin.orders.models import IdentityCheck, Order
from cardadmin.orders.service import IdentityInput
from cardadmin.orders.states import Status
from cardadmin.roles import Role
from cardadmin.security import allow
from cardadmin.web import attempt, form_status, int_arg

bp = Blueprint("desk_orders", __name__, url_prefix="/utlamning")
PAGE = 50
QUEUES = [
    (Status.APPROVED, "Att tillverka", "efter_godkand"),
    (Status.IN_PRODUCTION, "Under tillverkning", "efter_tillverkning"),
    (Status.AT_DESK, "Finns att hämta", "efter_hamta"),
    # Handed over, the receipt not yet signed: the card is not in use until the acceptance is recorded.
    (Status.HANDED_OVER, "Väntar på kvittens", "efter_kvittens"),
]


def _my_desk_order(order_id: int) -> Order:
    """Scoped read, then the desk rule (the services check it again when acting)."""
    return service.at_my_desk(current_user, queries.get_order(current_user, order_id))


def _queues_page(status: int = 200, produce_form: ProduceForm | None = None, failed: int | None = None) -> Any:
    """The queues; after a refused registration, ``failed`` is the order whose row shows the form again."""
    chosen = int_arg("desk_id")
    queues = []
    for state, title, param in QUEUES:
        rows = queries.desk_queue(current_user, state, desk_id=chosen,
                                  after=queries.parse_cursor(request.args.get(param)), limit=PAGE)
        queues.append({"status": state, "title": title, "param": param, "orders": rows,
                       "next": queries.format_cursor(rows[-1]) if len(rows) == PAGE else None})
    return render_template("orders/desk_queue.html", queues=queues, desk_id=chosen, failed=failed,
                           produce_form=produce_form or ProduceForm()), status


def _row_name(order_id: int) -> str:
    """How a message names the queue row it belongs to: 'Beställning 7 (Anna Berg)'."""
    order = _my_desk_order(order_id)
    return f"Beställning {order.id} ({order.person.full_name})"


@bp.route("/")
@allow(Role.CARD_ADMIN)
def queue() -> Any:
    return _queues_page()


@bp.route("/<int:order_id>/tillverkning", methods=["POST"])
@allow(Role.CARD_ADMIN)
def start_production(order_id: int) -> Any:
    service.mark_in_production(current_user, order_id)  # a refusal is shown by the error handler
    db.session.commit()
    flash(f"Beställning {order_id} är under tillverkning.", "success")
    return redirect(url_for("desk_orders.queue"))


@bp.route("/<int:order_id>/kort", methods=["POST"])
@allow(Role.CARD_ADMIN)
def register_card(order_id: int) -> Any:
    form = ProduceForm()
    about = _row_name(order_id)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(f"{about}: {message}", "error")
        return _queues_page(400, form, order_id)
    order, status = attempt(lambda: service.mark_at_desk(current_user, order_id, form.card_number.data or "",
                                                         expires_on=form.expires_on.data), form=form, about=about)
    if order is None:
        return _queues_page(status, form, order_id)
    flash(f"Kortet är registrerat och finns att hämta för {order.person.full_name}.", "success")
    return redirect(url_for("desk_orders.queue"))


@bp.route("/<int:order_id>/utlamning", methods=["GET", "POST"])
@allow(Role.CARD_ADMIN)
def hand_over(order_id: int) -> Any:
    order = _my_desk_order(order_id)
    service.refuse_own_card(current_user, order, service.OWN_DESK_STEP)  # not even the form for one's own card
    form = HandOverForm()
    status = 200
    if form.validate_on_submit():
        identity = IdentityInput(
            method=form.method.data or "", document_type=form.document_type.data or None,
            document_valid_until=form.document_valid_until.data, document_number=form.document_number.data,
            witness_name=form.witness_name.data, witness_hsa_id=form.witness_hsa_id.data,
        )
        done, status = attempt(lambda: service.hand_over(current_user, order.id, form.card_number.data or "",
                                                         identity), form=form)
        if done is not None:
            flash("Kortet är utlämnat. Skriv ut kvittot och låt mottagaren skriva under.", "success")
            return redirect(url_for("desk_orders.receipt", order_id=order.id))
        db.session.refresh(order)
    return render_template("orders/hand_over.html", order=order, form=form), form_status(
        request.method == "POST", status)


@bp.route("/<int:order_id>/kvitto")
@allow(Role.CARD_ADMIN)
def receipt(order_id: int) -> Any:
    order = _my_desk_order(order_id)
    check = db.session.scalar(select(IdentityCheck).where(IdentityCheck.order_id == order.id))
    if check is None:
        flash("Kortet är inte utlämnat än; gör identitetskontrollen först.", "error")
        return redirect(url_for("desk_orders.hand_over", order_id=order.id))
    return render_template("orders/receipt.html", order=order, check=check, form=ProduceForm())


@bp.route("/<int:order_id>/aktivera", methods=["POST"])
@allow(Role.CARD_ADMIN)
def activate(order_id: int) -> Any:
    order = service.activate(current_user, order_id)  # a refusal is shown by the error handler
    db.session.commit()
    flash("Mottagaren har kvitterat kortet. Kortet är aktivt.", "success")
    assert order.card_id is not None
    return redirect(url_for("cards.detail", card_id=order.card_id))
