"""`cardadmin …` commands. They call the same services as the web and API, and commit once."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from cardadmin.db import db
from cardadmin.errors import CardAdminError, ConfigurationError


def _create_app() -> Any:
    from cardadmin import create_app

    return create_app({"GC_FREEZE": False})  # a command's process is short; `serve` freezes when it starts


F = TypeVar("F", bound=Callable[..., Any])


def translate_errors(command: F) -> F:
    """Domain errors end as a clean Swedish message and exit code 2, never a traceback; the same
    whether the command runs as `cardadmin …` or `flask --app wsgi …`."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CardAdminError as exc:
            with contextlib.suppress(RuntimeError):  # no app context left
                db.session.rollback()
            click.echo(f"Fel: {exc.message}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


class CardAdminGroup(FlaskGroup):
    """The console script: an app that cannot start as configured says why, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            click.echo(f"Konfigurationsfel: {exc}", err=True)
            sys.exit(2)


@click.group("db", help="Databasens schema (Alembic).")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
@translate_errors
def db_upgrade(revision: str) -> None:
    """Uppgradera databasen till REVISION (standard: senaste)."""
    from cardadmin import migrate

    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Databasen är uppgraderad till {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
@translate_errors
def db_downgrade(revision: str) -> None:
    """Nedgradera databasen till REVISION."""
    from cardadmin import migrate

    migrate.downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Databasen är nedgraderad till {revision}.")


@click.group("audit", help="Granskningsloggen.")
def audit_group() -> None:
    pass


@audit_group.command("verify")
@with_appcontext
@translate_errors
def audit_verify() -> None:
    """Kontrollera hashkedjan; avslutar med kod 1 vid första brutna rad."""
    from cardadmin import audit

    result = audit.verify(db.session)
    if result.ok:
        click.echo(f"Granskningsloggen är hel: {result.checked} rader kontrollerade.")
        return
    click.echo(
        f"Granskningsloggen är BRUTEN vid rad seq={result.broken_seq} (id={result.broken_id}): {result.reason}. "
        f"{result.checked} rader före den är hela.",
        err=True,
    )
    sys.exit(1)


@click.command("demo")
@with_appcontext
@translate_errors
def demo_command() -> None:
    """Fyll en tom databas med demodata (vägras i produktion)."""
    from cardadmin import demo

    created = demo.load_demo_data()
    db.session.commit()
    click.echo("Demodata är inlagd." if created else "Databasen har redan data; inget ändrat.")
    click.echo(demo.login_help())


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
@translate_errors
def serve_command(host: str, port: int) -> None:
    """Uppgradera databasen, lägg in demodata om den är tom, och starta appen."""
    from werkzeug.serving import run_simple

    from cardadmin import demo, migrate

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    migrate.upgrade(app.config["DATABASE_URL"])
    if app.config["CARDADMIN_ENV"] != "production" and demo.database_is_empty():
        demo.load_demo_data()
        db.session.commit()
    db.session.close()
    from cardadmin import freeze_startup_objects

    freeze_startup_objects()
    click.echo(f"\ncardadmin kör på http://{host}:{port}/  (avsluta med Ctrl+C)\n")
    if app.config["CARDADMIN_ENV"] != "production":
        click.echo(demo.login_help())
    run_simple(host, port, app, threaded=True, use_reloader=False)


@click.command("create-admin")
@click.argument("username")
@click.option("--full-name", required=True)
@click.password_option("--password", prompt="Lösenord", confirmation_prompt="Upprepa lösenordet")
@with_appcontext
@translate_errors
def create_admin_command(username: str, full_name: str, password: str) -> None:
    """Skapa en administratör (första inloggningen i en ny installation)."""
    from cardadmin.accounts import service
    from cardadmin.roles import Role

    user = service.create_user(None, service.UserInput(username, full_name, roles=[Role.ADMIN]), password)
    db.session.commit()
    click.echo(f"Administratören {user.username} är skapad.")


COMMANDS = [db_group, audit_group, demo_command, serve_command, create_admin_command]


def register_flask_commands(app: Any) -> None:
    from cardadmin.desk.cli import COMMANDS as DESK_COMMANDS
    from cardadmin.evaluation.cli import COMMANDS as EXPORT_COMMANDS
    from cardadmin.hsa.cli import COMMANDS as HSA_COMMANDS
    from cardadmin.orders.cli import COMMANDS as ORDER_COMMANDS
    from cardadmin.outbox.cli import COMMANDS as OUTBOX_COMMANDS
    from cardadmin.timelog.cli import COMMANDS as TIMELOG_COMMANDS

    for command in (COMMANDS + DESK_COMMANDS + ORDER_COMMANDS + OUTBOX_COMMANDS + HSA_COMMANDS + EXPORT_COMMANDS
                    + TIMELOG_COMMANDS):
        app.cli.add_command(command)


main = CardAdminGroup(create_app=_create_app, help="cardadmin: SITHS-kortadministration.", add_version_option=False)
