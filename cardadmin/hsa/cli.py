"""`cardadmin hsa …`: import, export and LDAP sync of HSA entries. Same services as the web; commit once."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from cardadmin.cli import translate_errors
from cardadmin.db import db
from cardadmin.errors import InvalidInput


@click.group("hsa", help="HSA-poster: import, export och synk mot katalogen.")
def hsa_group() -> None:
    pass


def _system(job: str) -> Any:
    from cardadmin.hsa.rules import SystemActor

    return SystemActor(f"system:hsa-{job}")


def _actor(username: str | None, job: str) -> Any:
    """The user the change log and audit rows name (their roles and scope apply), or the system job."""
    if username is None:
        return _system(job)
    from cardadmin.security import find_user

    user = find_user(username)
    if user is None or not user.active:
        raise InvalidInput(f"Användaren {username} finns inte eller är inaktiverad.")
    return user


@hsa_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(["csv", "ldif"]), help="Standard: av filändelsen.")
@click.option("--encoding", type=click.Choice(["utf-8", "latin-1"]), help="Standard: känns av.")
@click.option("--apply", is_flag=True, help="Läs in (utan flaggan: provkörning som bara visar problemen).")
@click.option("--valid-only", is_flag=True, help="Läs in de giltiga raderna även om andra har fel.")
@click.option("--user", "username", help="Registrera ändringarna på den här användaren (annars: systemet).")
@click.option("--desk", "desk_id", type=click.IntRange(1, 2**31 - 1), help="Kortutlämningens id (ändringsloggen).")
@with_appcontext
@translate_errors
def import_command(file: Path, file_format: str | None, encoding: str | None, apply: bool, valid_only: bool,
                   username: str | None, desk_id: int | None) -> None:
    """Läs in personer och enheter ur en CSV- eller LDIF-fil (strömmas; filens storlek spelar ingen roll)."""
    from cardadmin.hsa import formats, importer
    from cardadmin.hsa.changelog import ChangeContext

    ctx = ChangeContext(_actor(username, "import"), "import", desk_id=desk_id)
    try:
        file_format = file_format or formats.detect_format(file.name)
        with file.open("rb") as handle, click.progressbar(length=file.stat().st_size, label="Läser",
                                                         file=sys.stderr) as bar:
            lines, rows = formats.open_rows(handle, file_format, encoding, on_bytes=bar.update)
            result = importer.run_import(ctx, rows, apply=apply,
                                         valid_only=valid_only,
                                         on_problem=lambda p: click.echo(f"\n  Fel {p}", err=True))
    except formats.FileProblem as exc:
        db.session.rollback()
        raise InvalidInput(str(exc)) from None
    if result.commit:
        db.session.commit()
    click.echo(f"Teckenkodning: {formats.ENCODINGS[lines.encoding]}{' (avkänd)' if lines.detected else ''}.")
    for warning in result.warnings[:20]:
        click.echo(f"Varning {warning}")
    click.echo(result.summary())
    if result.problem_count and not result.commit:
        sys.exit(1)


@hsa_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(["csv", "ldif"]), help="Standard: av filändelsen.")
@with_appcontext
@translate_errors
def export_command(file: Path, file_format: str | None) -> None:
    """Skriv registrets enheter och aktuella personposter till en CSV- eller LDIF-fil (UTF-8)."""
    from cardadmin.hsa import export, formats

    try:
        file_format = file_format or formats.detect_format(file.name)
    except formats.FileProblem as exc:
        raise InvalidInput(str(exc)) from None
    writer = formats.write_csv if file_format == "csv" else formats.write_ldif
    with file.open("w", encoding="utf-8", newline="") as handle:
        for chunk in writer(export.records(_system("export"))):
            handle.write(chunk)
    click.echo(f"Exporterade till {file}.")


@hsa_group.command("sync")
@click.option("--url", required=True, help="ldap://VÄRD:PORT (ldaps:// för TLS).")
@click.option("--base", required=True, help="Bas-DN att läsa under.")
@click.option("--bind-dn", help="Logga in som (utan: anonymt).")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Fil med lösenordet för --bind-dn (första raden).")
@click.option("--apply", is_flag=True, help="Genomför skillnaden (utan flaggan: visa den bara).")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Sekunder att vänta på katalogen.")
@click.option("--page-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@with_appcontext
@translate_errors
def sync_command(url: str, base: str, bind_dn: str | None, password_file: Path | None, apply: bool,
                 timeout: float, page_size: int) -> None:
    """Jämför registret med en LDAP-katalog (som bara läses) och visa eller genomför skillnaden."""
    from cardadmin.hsa import ldapsync
    from cardadmin.hsa.changelog import ChangeContext

    if bind_dn and password_file is None:
        raise InvalidInput("--bind-dn kräver --password-file.")
    password = None
    if password_file:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        if not lines or not lines[0]:
            raise InvalidInput(f"Lösenordsfilen {password_file} är tom.")
        password = lines[0]
    options = ldapsync.DirectoryOptions(url=url, base=base, bind_dn=bind_dn, password=password, timeout=timeout,
                                        page_size=page_size)
    seen = {"n": 0}

    def progress() -> None:
        seen["n"] += 1
        if seen["n"] % 10_000 == 0:
            click.echo(f"  {seen['n']} poster lästa …", err=True)

    result = ldapsync.run_sync(ChangeContext(_system("sync"), "sync"), ldapsync.read_directory(options),
                               apply=apply, on_entry=progress)
    if apply:
        db.session.commit()
    for line in result.lines:
        click.echo(line)
    for problem in result.problems:
        click.echo(f"Fel: {problem}", err=True)
    click.echo(result.summary())


COMMANDS = [hsa_group]
