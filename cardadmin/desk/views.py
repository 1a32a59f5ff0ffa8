"""Card verification on the hand-over page: "Verifiera kort", "Läs från kortläsaren" and the poll for
results the desk agent posts.

The PIN (a decision the issue left to us): when the app runs on the desk PC (CARDADMIN_LOCAL_READER, the
embedded default) the holder types the PIN into a password field on the hand-over page. The form is
accepted only from this computer (the loopback address), so the PIN never crosses a network; the view
hands it to one VERIFY on the card, then drops it. It is not stored, logged, put in the audit or echoed
back into the form (a password field is never re-filled). When the app runs centrally, the form is not
shown: the desk agent asks for the PIN on the desk PC and only its result reaches the server.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from cardadmin.db import db
from cardadmin.desk import verification
from cardadmin.desk.forms import VerifyCardForm
from cardadmin.desk.messages import check_label, outcome_label, stored_error_message
from cardadmin.desk.models import CardVerification
from cardadmin.desk.settings import local_reader_enabled
from cardadmin.errors import CardAdminError, Forbidden
from cardadmin.roles import Role
from cardadmin.security import allow

bp = Blueprint("desk_verify", __name__, url_prefix="/utlamning")
LOOPBACK = {"127.0.0.1", "::1"}


def _json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """These endpoints are fetched by the page's script: errors as JSON with their status, not as a page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except CardAdminError as exc:
            db.session.rollback()
            return jsonify({"error": {"code": exc.code, "message": exc.message}}), exc.status

    return wrapper


# Headers any common proxy adds (RFC 7239's Forwarded, nginx's X-Real-IP, the de facto X-Forwarded-*): the
# embedded reader mode must not sit behind a proxy, and a request carrying one did not start on this computer.
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host")


def _require_this_computer(message: str) -> None:
    """The local reader is this computer's: only a browser on it may use it (a request that came through a
    proxy is not from this computer, whatever its address looks like)."""
    if request.remote_addr not in LOOPBACK or any(request.headers.get(h) for h in PROXY_HEADERS):
        raise Forbidden(message)


def _render_hand_over(order_id: int, status: int) -> Any:
    from cardadmin.orders.desk_views import _my_desk_order
    from cardadmin.orders.forms import HandOverForm

    order = _my_desk_order(order_id)  # the same desk rule as the hand-over page itself
    return render_template("orders/hand_over.html", order=order, form=HandOverForm(formdata=None)), status


@bp.route("/<int:order_id>/verifiera", methods=["POST"])
@allow(Role.CARD_ADMIN)
def verify_card(order_id: int) -> Any:
    form = VerifyCardForm()
    _require_this_computer("PIN-koden får bara skrivas in på kortutlämningens egen dator. Använd skrivbordsagenten.")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return _render_hand_over(order_id, 400)
    pin, form.pin.data = form.pin.data, None
    try:
        row = verification.verify_at_reader(current_user, order_id, pin, current_app.config)
        del pin
        db.session.commit()
    except CardAdminError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _render_hand_over(order_id, exc.status)
    if row.ok:
        flash("Kortet är verifierat: alla kontroller godkändes.", "success")
    else:
        flash("Kortet är INTE verifierat. Se vilka kontroller som underkändes.", "error")
    return redirect(url_for("desk_orders.hand_over", order_id=order_id) + "#verifiering")


@bp.route("/kortlasare/kort")
@allow(Role.CARD_ADMIN)
@_json_errors
def read_card() -> Any:
    """The card number (and HSA-ID) of the card in this computer's reader, for "Läs från kortläsaren"."""
    _require_this_computer("Kortläsaren kan bara läsas från kortutlämningens egen dator.")
    return jsonify(verification.read_card_at_reader(current_user, current_app.config))


@bp.route("/<int:order_id>/verifiering")
@allow(Role.CARD_ADMIN)
@_json_errors
def latest_verification(order_id: int) -> Any:
    """The newest verification of the order, rendered; the page polls this for the desk agent's results."""
    order, _card = verification.verifiable_order(current_user, order_id)
    row = verification.latest(order.id)
    return jsonify({"id": row.id if row else None,
                    "html": render_template("desk/_verification.html", verification=row)})


def _error_text(row: CardVerification) -> str | None:
    return stored_error_message(row.error, row.pin_attempts_left) if row.error else None


@bp.app_context_processor
def _hand_over_helpers() -> dict[str, Any]:
    """What templates/orders/hand_over.html needs, without touching the hand-over view."""
    return {"latest_verification": verification.latest, "verify_card_form": VerifyCardForm,
            "is_verifiable": verification.is_verifiable,
            "local_reader": lambda: local_reader_enabled(current_app.config), "check_label": check_label,
            "outcome_label": outcome_label, "verification_error": _error_text}
