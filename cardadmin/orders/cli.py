"""`cardadmin sweep`: the daily sweep of cards waiting at the desk and cards past expiry."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from cardadmin.cli import translate_errors
from cardadmin.db import db, utcnow
from cardadmin.orders import sweep


@click.command("sweep")
@click.option("--dry-run", is_flag=True, help="Visa vad som skulle göras, ändra inget.")
@click.option("--uncollected-days", type=click.IntRange(1, 3650), default=None,
              help="Spärra kort som inte hämtats inom så många dagar (standard: CARDADMIN_UNCOLLECTED_DAYS, 90).")
@with_appcontext
@translate_errors
def sweep_command(dry_run: bool, uncollected_days: int | None) -> None:
    """Påminn om, spärra (ej uthämtade) och löp ut kort. Kör dagligen, t.ex. från cron eller en systemd-timer."""
    days = uncollected_days or current_app.config["UNCOLLECTED_DAYS"]
    reminders = tuple(d for d in current_app.config["REMINDER_DAYS"] if d < days)
    items = sweep.plan(utcnow(), uncollected_days=days, reminder_days=reminders)
    if not dry_run:
        sweep.run(items, uncollected_days=days)
        db.session.commit()
    if not items:
        click.echo("Inget att göra.")
        return
    click.echo(f"{'Åtgärd':24} {'Kortnummer':22} {'Beställning':>11} {'Dagar':>6}  Resultat")
    for item in items:
        outcome = "(torrkörning)" if dry_run else ("klart" if item.error is None else f"FEL: {item.error}")
        click.echo(f"{sweep.ACTION_LABELS[item.action]:24} {item.card_number:22} {item.order_id or '-':>11} "
                   f"{item.days:>6}  {outcome}")
    failed = sum(1 for i in items if i.error)
    verb = "skulle göras" if dry_run else "gjorda"
    click.echo(f"{len(items) - failed} åtgärder {verb}" + (f", {failed} misslyckades." if failed else "."))


COMMANDS = [sweep_command]
