"""`cardadmin card verify --order ID`: the same verification service as the hand-over page, from the
desk PC's command line. Needs the app (database, settings); the PIN is asked hidden and goes to the card
only."""

from __future__ import annotations

import click
from flask.cli import ScriptInfo

from cardadmin.cli import translate_errors


@translate_errors
def verify_order(order_id: int, username: str | None, reader: str | None, as_json: bool) -> None:
    from cardadmin.db import db
    from cardadmin.desk import verification
    from cardadmin.desk.cli import ask_pin, report
    from cardadmin.desk.messages import stored_error_message
    from cardadmin.security import find_user
    from hardware import pcsc

    if not username:
        raise click.UsageError("Ange vem som verifierar: --user ANVÄNDARNAMN (eller $CARDADMIN_USER).")
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context():  # a domain error leaves it (the session rolls back) for translate_errors to report
        actor = find_user(username)
        if actor is None or not actor.active:
            raise click.UsageError(f"Ingen aktiv användare {username!r}.")
        order, _card = verification.verifiable_order(actor, order_id)
        verification.trust_config(app.config)  # a setup problem: say so before asking for the PIN
        click.echo(f"Beställning {order.id}: {order.person.full_name} ({order.person.hsa_id}).", err=True)
        pcsc.list_readers()  # pcscd down: fail before asking for the PIN
        pin = ask_pin()
        row = verification.verify_at_reader(actor, order_id, pin, app.config, source="cli", reader=reader)
        del pin
        db.session.commit()
        result = {"ok": row.ok, "verification_id": row.id, "order_id": row.order_id, "reader": row.reader,
                  "checks": row.checks, "certificates": row.certificates, "error": row.error}
        report(result, as_json)
        click.echo(f"Resultatet är sparat (verifiering {row.id}).", err=True)
        if row.error is not None:
            click.echo(f"Fel: {stored_error_message(row.error, row.pin_attempts_left)}", err=True)
            raise click.exceptions.Exit(2)
    if not row.ok:
        raise click.exceptions.Exit(1)


def order_identity(order_id: int) -> tuple[str, str, str, str]:
    """HSA-ID, given name, surname and card number of an order's card, for a simulated card (test data:
    refused in production)."""
    from cardadmin.db import db
    from cardadmin.orders.models import Order

    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    if app.config["CARDADMIN_ENV"] == "production":
        raise click.UsageError("Simulerade kort görs inte i produktion.")
    with app.app_context():
        order = db.session.get(Order, order_id)
        if order is None or order.card is None:
            raise click.UsageError(f"Beställning {order_id} finns inte eller har inget registrerat kort.")
        return order.person.hsa_id, order.person.given_name, order.person.surname, order.card.card_number
