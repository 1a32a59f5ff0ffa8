"""`cardadmin outbox …`: deliver and list queued notifications."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from cardadmin.cli import translate_errors
from cardadmin.db import db
from cardadmin.outbox.delivery import deliver_pending, transport_from_config
from cardadmin.outbox.models import MessageStatus, OutboxMessage


@click.group("outbox", help="Utgående meddelanden (e-post till beställare och kortmottagare).")
def outbox_group() -> None:
    pass


@outbox_group.command("send")
@click.option("--limit", type=click.IntRange(1, 100_000), default=500, show_default=True)
@with_appcontext
@translate_errors
def outbox_send(limit: int) -> None:
    """Skicka köade meddelanden: via SMTP om CARDADMIN_SMTP_HOST är satt, annars skrivs de ut här."""
    transport = transport_from_config(current_app.config, click.echo)
    try:
        report = deliver_pending(transport, limit=limit)
    finally:
        transport.close()
    for line in report.errors:
        click.echo(line, err=True)
    click.echo(f"Skickade: {report.sent}. Försöks igen senare: {report.retrying}. Gav upp: {report.failed}.")
    if report.failed or report.retrying:
        sys.exit(1)


@outbox_group.command("list")
@click.option("--status", type=click.Choice([str(s) for s in MessageStatus]), default=None)
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@with_appcontext
@translate_errors
def outbox_list(status: str | None, limit: int) -> None:
    """Lista meddelanden, nyaste först."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    rows = db.session.scalars(query).all()
    if not rows:
        click.echo("Inga meddelanden.")
    for m in rows:
        click.echo(f"{m.id:>6} {m.status:10} {m.created_at:%Y-%m-%d %H:%M} {m.to_address or '(ingen adress)':30} "
                   f"{m.subject}" + (f"  [{m.last_error}]" if m.last_error else ""))


COMMANDS = [outbox_group]
