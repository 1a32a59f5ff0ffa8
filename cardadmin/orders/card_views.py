"""The card page (details, revocation, full history) and the search with bulk revoke on its result."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from cardadmin.accounts.models import Desk, Organisation
from cardadmin.audit.service import history
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.orders import cards, queries
from cardadmin.orders.display import merged_history
from cardadmin.orders.forms import NO_REASON, BulkRevokeForm, CardRevokeForm
from cardadmin.orders.models import REVOCATION_LABELS, Card, Order, Revocation
from cardadmin.orders.search import OrderSearch, load_result_rows, search_orders
from cardadmin.orders.service import may_take_desk_steps
from cardadmin.orders.states import CARD_LIVE, Status
from cardadmin.roles import Role
from cardadmin.security import allow
from cardadmin.web import attempt, form_status, int_arg, whole_numbers

bp = Blueprint("cards", __name__, url_prefix="/kort")

VIEWERS = (Role.ORDERER, Role.RA_OFFICER, Role.CARD_ADMIN, Role.ADMIN)
REVOKERS = (Role.CARD_ADMIN, Role.RA_OFFICER, Role.ADMIN)
PAGE = 50


def _revoke_form(card: Card) -> CardRevokeForm:
    form = CardRevokeForm()
    form.reason.choices = NO_REASON + [(str(r), REVOCATION_LABELS[r]) for r in cards.manual_reasons(card)]
    return form


def _card_page(card: Card, form: CardRevokeForm, status: int = 200) -> Any:
    order = db.session.scalar(select(Order).where(Order.card_id == card.id))
    events = history(db.session, "card", card.id)
    if order is not None:
        events = merged_history(events, history(db.session, "order", order.id))
    revocations = list(db.session.scalars(select(Revocation).where(Revocation.card_id == card.id)
                                          .order_by(Revocation.id)))
    can_revoke = card.status in CARD_LIVE and current_user.has_role(*REVOKERS)
    at_my_desk = order is not None and may_take_desk_steps(current_user, order)
    return render_template("orders/card.html", card=card, order=order, events=events, revocations=revocations,
                           form=form, can_revoke=can_revoke, at_my_desk=at_my_desk), status


@bp.route("/<int:card_id>")
@allow(*VIEWERS)
def detail(card_id: int) -> Any:
    card = queries.get_card(current_user, card_id)
    return _card_page(card, _revoke_form(card))


@bp.route("/<int:card_id>/sparra", methods=["POST"])
@allow(*REVOKERS)
def revoke(card_id: int) -> Any:
    card = queries.get_card(current_user, card_id)
    form = _revoke_form(card)
    status = 200
    if form.validate_on_submit():
        row, status = attempt(lambda: cards.revoke_card(current_user, card.id, form.reason.data or "",
                                                        form.requested_by.data or "", form.comment.data or ""),
                              form=form)
        if row is not None:
            flash(f"Kort {card.card_number} är spärrat.", "success")
            return redirect(url_for("cards.detail", card_id=card.id))
        db.session.refresh(card)
    return _card_page(card, form, form_status(True, status))


# ---------------------------------------------------------------- search and bulk revoke


def _search_args() -> tuple[OrderSearch, list[str]]:
    errors: list[str] = []

    def number(name: str) -> int | None:
        value = int_arg(name)
        if value is None and request.args.get(name, "").strip():
            errors.append("Ogiltigt val i filtret.")
        return value

    query = OrderSearch(
        text=request.args.get("q", "")[:100], card_number=request.args.get("kortnummer", "")[:40],
        status=request.args.get("status", ""), desk_id=number("desk_id"), organisation_id=number("organisation_id"),
    )
    return query, errors


@bp.route("/sok")
@allow(*REVOKERS)
def search() -> Any:
    query, errors = _search_args()
    searched = any(request.args.get(k) for k in ("q", "kortnummer", "status", "desk_id", "organisation_id"))
    results: list[Any] = []
    next_cursor = None
    by_name = False
    if searched and not errors:
        try:
            found = search_orders(current_user, query, after=request.args.get("efter"), limit=PAGE,
                                  load=load_result_rows)
        except InvalidInput as exc:
            errors.append(exc.message)
        else:
            results, by_name = found.orders, found.by_name
            next_cursor = found.next if len(results) == PAGE else None
    params = {k: v for k, v in request.args.items() if k != "efter"}
    desks = list(db.session.scalars(select(Desk).order_by(Desk.name)))
    orgs = list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
    return render_template("orders/search.html", query=query, results=results, errors=errors, searched=searched,
                           next_cursor=next_cursor, by_name=by_name, params=params, desks=desks, organisations=orgs,
                           statuses=list(Status), live=CARD_LIVE), 400 if errors else 200


@bp.route("/sok/sparra", methods=["POST"])
@allow(*REVOKERS)
def bulk_revoke() -> Any:
    """Step 1 (no confirm): show the chosen cards and ask for one reason. Step 2 (confirm=1): revoke each,
    each in its own savepoint, and show the result per card."""
    form = BulkRevokeForm()
    ids = list(dict.fromkeys(whole_numbers(request.form.getlist("card_ids"))))
    chosen = list(db.session.scalars(queries.visible_cards(current_user).where(Card.id.in_(ids)).order_by(Card.id)))
    if not ids:
        flash("Markera minst ett kort att spärra.", "error")
        return render_template("orders/bulk_revoke.html", form=form, cards=[], ids=[]), 400
    if form.confirm.data != "1":
        form.confirm.data = "1"
        return render_template("orders/bulk_revoke.html", form=form, cards=chosen, ids=ids)
    if not form.validate_on_submit():
        return render_template("orders/bulk_revoke.html", form=form, cards=chosen, ids=ids), 400
    results = cards.revoke_many(current_user, ids, form.reason.data or "", form.requested_by.data or "",
                                form.comment.data or "")
    db.session.commit()
    by_id = {c.id: c for c in chosen}
    rows = [(card_id, by_id.get(card_id), message) for card_id, message in results.items()]
    done = sum(1 for _, _, message in rows if message is None)
    flash(f"{done} av {len(rows)} kort spärrade.", "success" if done == len(rows) else "error")
    return render_template("orders/bulk_result.html", rows=rows), 200 if done else 409
