"""`cardadmin export time`: the time entries as CSV or XLSX, streamed to a file with a progress bar.

Run by the operator of the installation (who has the database anyway), so every entry is in scope; the
filters narrow it. Names are looked up; an unknown name is a clean message and exit code 2.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import or_, select

from cardadmin import spreadsheet
from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, User
from cardadmin.cli import translate_errors
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.evaluation import exports
from cardadmin.timelog.models import Activity
from cardadmin.web import whole_number


def _lookup(model: Any, value: str | None, *columns: Any, what: str) -> int | None:
    if not value:
        return None
    terms = [c == value for c in columns]
    if (number := whole_number(value)) is not None:  # not str.isdigit(): '²' passes it and fails int()
        terms.append(model.id == number)
    found = db.session.scalars(select(model.id).where(or_(*terms))).all()
    if len(found) != 1:
        raise InvalidInput(f"{what} '{value}' finns inte (eller är inte entydig).")
    return found[0]


def _day(value: str | None, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{what} ska vara ett datum ÅÅÅÅ-MM-DD.") from None


@click.group("export", help="Exportera data.")
def export_group() -> None:
    pass


@export_group.command("time")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True)
@click.option("--site", help="Kortutlämning (id eller namn).")
@click.option("--period", help="Pilotperiod (id eller namn).")
@click.option("--person", help="Användarnamn.")
@click.option("--organisation", help="Betjänad organisation (id eller namn).")
@click.option("--activity", help="Aktivitet (id, kod eller namn).")
@click.option("--status", type=click.Choice(["open", "submitted", "approved"]))
@click.option("--from", "date_from", help="Från och med datum (ÅÅÅÅ-MM-DD).")
@click.option("--to", "date_to", help="Till och med datum.")
@click.option("--bom", is_flag=True, help="CSV: inled med BOM (Excel).")
@click.option("--semicolon", is_flag=True, help="CSV: semikolon och decimalkomma (svenska Excel).")
@with_appcontext
@translate_errors
def export_time(fmt: str, out: Path, site: str | None, period: str | None, person: str | None,
                organisation: str | None, activity: str | None, status: str | None, date_from: str | None,
                date_to: str | None, bom: bool, semicolon: bool) -> None:
    """Exportera tidsposter till CSV eller XLSX (personnummer ingår aldrig)."""
    f = exports.ExportFilter(
        desk_id=_lookup(Desk, site, Desk.name, what="Kortutlämningen"),
        pilot_period_id=_lookup(PilotPeriod, period, PilotPeriod.name, what="Pilotperioden"),
        user_id=_lookup(User, person, User.username, what="Användaren"),
        organisation_id=_lookup(Organisation, organisation, Organisation.name, what="Organisationen"),
        activity_id=_lookup(Activity, activity, Activity.code, Activity.name, what="Aktiviteten"),
        status=status, date_from=_day(date_from, "--from"), date_to=_day(date_to, "--to"))
    total = exports.record_export(None, f, fmt)
    db.session.commit()
    stderr = sys.stderr  # the bar on stderr, so stdout stays the summary line
    with click.progressbar(length=total, label=f"Exporterar {total} tidsposter", file=stderr) as bar:
        if fmt == "csv":
            with out.open("wb") as handle:
                exports.write_csv(handle, None, f, bom=bom, semicolon=semicolon, progress=bar.update)
        else:
            spreadsheet.write_xlsx(str(out), [("Tidsposter", exports.HEADER, exports.rows(None, f))], bar.update)
    click.echo(f"{total} tidsposter exporterade till {out}.")


COMMANDS = [export_group]
