"""`cardadmin timelog recount`: the weekly totals recomputed from the time entries.

The services keep the totals right as entries change. A database that ran code from before the totals were
recounted (two tabs on one entry could make a week negative), or was loaded in bulk outside the services,
is put right with this once. Entries are not touched, so nothing is audited; the command says how many
totals were wrong.
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from cardadmin.cli import translate_errors
from cardadmin.db import db
from cardadmin.timelog import sums
from cardadmin.timelog.models import WeekSum

_FIGURES = ("iso_year", "iso_week", "entries", "minutes", "persons_handled", "journeys_avoided", "km_avoided")


def _snapshot() -> dict[tuple[Any, ...], tuple[Any, ...]]:
    rows = db.session.scalars(select(WeekSum))
    return {tuple(getattr(r, k) for k in sums.KEY): tuple(getattr(r, f) for f in _FIGURES) for r in rows}


@click.group("timelog", help="Tidsloggen.")
def timelog_group() -> None:
    pass


@timelog_group.command("recount")
@click.option("--dry-run", is_flag=True, help="Visa bara hur många veckosummor som är fel.")
@with_appcontext
@translate_errors
def recount_command(dry_run: bool) -> None:
    """Räkna om veckosummorna (uppföljningens siffror) från tidsposterna."""
    before = _snapshot()
    total = sums.rebuild()
    after = _snapshot()
    wrong = sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    if dry_run:
        db.session.rollback()
        click.echo(f"{wrong} av {total} veckosummor stämmer inte med tidsposterna (inget ändrat, --dry-run).")
        return
    db.session.commit()
    click.echo(f"Veckosummorna är omräknade: {total} summor, {wrong} var fel och är rättade.")


COMMANDS = [timelog_group]
