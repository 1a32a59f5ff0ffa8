"""LDAP sync against a real OpenLDAP server (Debian slapd started by the fixture on a free loopback port with a
small HSA test schema), and against servers that are down, slow or answer garbage."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cardadmin.accounts import service as accounts
from cardadmin.accounts.models import Unit
from cardadmin.db import db
from cardadmin.hsa.models import HsaChange
from cardadmin.orders.models import Card
from cardadmin.people.models import Person
from tests.conftest import World
from tests.hsa_ldap.slapd import ROOT_DN, ROOT_PASSWORD, SUFFIX, Slapd, available, base_ldif, person_ldif, unit_ldif
from tests.test_people import user

pytestmark = pytest.mark.skipif(not available(), reason="slapd/ldap-utils not installed (scripts/setup.sh --test)")

ORG = "TSTNMT2321000156"
LASARETT = f"ou=Lycksele lasarett,{SUFFIX}"
AVD = f"ou=Avdelning 1,{LASARETT}"


def directory_ldif() -> str:
    return (base_ldif() + unit_ldif(LASARETT, "Lycksele lasarett", f"{ORG}-LL01")
            + unit_ldif(AVD, "Avdelning 1", f"{ORG}-AVD1")
            + person_ldif(AVD, f"{ORG}-1019", "Åsa", "Öberg", [f"{ORG}-AVD1"], title="Sjuksköterska")
            + person_ldif(LASARETT, f"{ORG}-1020", "Örjan", "Älg", [f"{ORG}-LL01", f"{ORG}-AVD1"])
            + person_ldif(LASARETT, f"{ORG}-1021", "Per", "Pil", [f"{ORG}-LL01"]))


@pytest.fixture
def slapd(tmp_path: Path) -> Iterator[Slapd]:
    server = Slapd(tmp_path / "slapd").start()
    try:
        server.ldapadd(directory_ldif())
        yield server
    finally:
        server.stop()


@pytest.fixture
def w(app: Any, world: World) -> World:
    with app.app_context():
        accounts.save_organisation(user(world, "admin"), None, name="Testorganisation", org_number="232100-0156",
                                   kind="other")
        db.session.commit()
    return world


def sync(app: Any, url: str, *extra: str) -> Any:
    return app.test_cli_runner().invoke(args=["hsa", "sync", "--url", url, "--base", SUFFIX, "--timeout", "2",
                                              *extra])


def test_dry_run_shows_the_difference_and_changes_nothing(app: Any, w: World, slapd: Slapd) -> None:
    result = sync(app, slapd.url, "--page-size", "2")  # paged: three pages of persons
    assert result.exit_code == 0, result.output
    assert f"+ {ORG}-1019 Åsa Öberg" in result.output and f"+ {ORG}-AVD1 Avdelning 1 (enhet)" in result.output
    assert "5 nya, 0 ändrade, 0 borta" in result.output and "--apply" in result.output
    with app.app_context():
        assert db.session.scalar(select(Person.id)) is None and db.session.scalar(select(Unit.id)) is None


def test_apply_then_rerun_is_a_no_op(app: Any, w: World, slapd: Slapd) -> None:
    result = sync(app, slapd.url, "--apply")
    assert result.exit_code == 0 and "Synkad: 5 nya" in result.output, result.output
    with app.app_context():
        orjan = db.session.scalar(select(Person).where(Person.hsa_id == f"{ORG}-1020"))
        assert (orjan.given_name, orjan.surname, orjan.unit.hsa_id) == ("Örjan", "Älg", f"{ORG}-LL01")
        avd = db.session.scalar(select(Unit).where(Unit.hsa_id == f"{ORG}-AVD1"))
        assert avd.parent.hsa_id == f"{ORG}-LL01"  # from the DN tree
        assert {c.source for c in db.session.scalars(select(HsaChange))} == {"sync"}
        assert {c.actor_name for c in db.session.scalars(select(HsaChange))} == {"system:hsa-sync"}
    again = sync(app, slapd.url, "--apply")
    assert "0 nya, 0 ändrade, 0 borta, 5 oförändrade" in again.output, again.output


def test_changes_and_removals_in_the_directory_are_applied_with_change_log(app: Any, w: World, slapd: Slapd) -> None:
    sync(app, slapd.url, "--apply")
    slapd.ldapadd(f"dn: hsaIdentity={ORG}-1019,{AVD}\nchangetype: modify\nreplace: sn\nsn: Åberg\n-\n\n"
                  f"dn: hsaIdentity={ORG}-1021,{LASARETT}\nchangetype: delete\n\n"
                  f"dn: {AVD}\nchangetype: modify\nadd: l\nl: Lycksele\n-\n\n", modify=True)
    preview = sync(app, slapd.url)
    assert f"~ {ORG}-1019 Åsa Åberg: sn: Öberg → Åberg" in preview.output, preview.output
    assert f"~ {ORG}-AVD1 Avdelning 1 (enhet): l: – → Lycksele" in preview.output, preview.output
    assert f"- {ORG}-1021" in preview.output and "0 nya, 2 ändrade, 1 borta" in preview.output
    applied = sync(app, slapd.url, "--apply")
    assert "Synkad: 0 nya, 2 ändrade, 1 borta" in applied.output, applied.output
    with app.app_context():
        changed = db.session.scalars(select(HsaChange).where(HsaChange.action == "changed")).all()
        assert sorted((c.hsa_id, c.attribute, c.old_value, c.new_value) for c in changed) == [
            (f"{ORG}-1019", "sn", "Öberg", "Åberg"), (f"{ORG}-AVD1", "l", None, "Lycksele")]
        per = db.session.scalar(select(Person).where(Person.hsa_id == f"{ORG}-1021"))
        assert per.removed_at is not None


def test_a_gone_person_with_an_active_card_is_kept_and_named(app: Any, w: World, slapd: Slapd) -> None:
    sync(app, slapd.url, "--apply")
    with app.app_context():
        per = db.session.scalar(select(Person).where(Person.hsa_id == f"{ORG}-1021"))
        db.session.add(Card(card_number="9752000000000099", person_id=per.id, organisation_id=per.organisation_id,
                            desk_id=w.desk_id, status="active"))
        db.session.commit()
    slapd.ldapadd(f"dn: hsaIdentity={ORG}-1021,{LASARETT}\nchangetype: delete\n\n", modify=True)
    result = sync(app, slapd.url, "--apply")
    assert f"{ORG}-1021: {ORG}-1021 har ett aktivt" in result.output and "1 poster kunde inte" in result.output
    with app.app_context():
        assert db.session.scalar(select(Person.removed_at).where(Person.hsa_id == f"{ORG}-1021")) is None


def test_bad_entries_in_the_directory_are_named(app: Any, w: World, slapd: Slapd) -> None:
    slapd.ldapadd(person_ldif(LASARETT, "TSTNMT2321000157-9", "Fel", "Kontrollsiffra"))
    result = sync(app, slapd.url, "--apply")
    assert "TSTNMT2321000157-9" in result.output and "kontrollsiffra" in result.output
    assert "Synkad: 5 nya" in result.output


def test_wrong_password_and_missing_base(app: Any, w: World, slapd: Slapd, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("wrong\n")
    result = sync(app, slapd.url, "--bind-dn", ROOT_DN, "--password-file", str(secret))
    assert result.exit_code == 2 and "Inloggningen mot katalogen" in result.output
    secret.write_text(ROOT_PASSWORD + "\n")
    assert sync(app, slapd.url, "--bind-dn", ROOT_DN, "--password-file", str(secret)).exit_code == 0
    result = app.test_cli_runner().invoke(args=["hsa", "sync", "--url", slapd.url, "--base", "dc=nope,dc=test"])
    assert result.exit_code == 2 and "dc=nope,dc=test finns inte" in result.output


def _server(behaviour: str) -> tuple[str, threading.Event]:
    """A TCP server on loopback that accepts and then stays silent or sends garbage."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        conns = []
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conns.append(conn)
            if behaviour == "garbage":
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<html>not ldap</html>" * 4)
                conn.close()
        for conn in conns:
            conn.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"ldap://127.0.0.1:{listener.getsockname()[1]}", stop


@pytest.mark.parametrize(("behaviour", "message"), [
    ("slow", "svarade inte inom 2 s"),
    ("garbage", "svarade med något som inte går att tolka"),
])
def test_slow_and_garbage_servers(app: Any, w: World, behaviour: str, message: str) -> None:
    url, stop = _server(behaviour)
    try:
        result = sync(app, url, "--apply")
    finally:
        stop.set()
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(select(Person.id)) is None


def test_down_server(app: Any, w: World) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    result = sync(app, f"ldap://127.0.0.1:{port}", "--apply")
    assert result.exit_code == 2 and "svarar inte (ingen anslutning)" in result.output, result.output


def test_an_unreadable_entry_removes_nothing_and_a_sub_tree_sync_leaves_the_rest(app: Any, w: World,
                                                                                 slapd: Slapd) -> None:
    assert "Synkad" in sync(app, slapd.url, "--apply").output
    # Per Pil's entry now has two surnames: the sync cannot read it, so it must not look "gone".
    slapd.ldapadd(f"dn: hsaIdentity={ORG}-1021,{LASARETT}\nchangetype: modify\nadd: sn\nsn: Andra\n\n",
                  modify=True)
    result = sync(app, slapd.url, "--apply")
    assert "Inga poster tas bort" in result.output, result.output
    with app.app_context():
        assert db.session.scalar(select(Person.removed_at).where(Person.hsa_id == f"{ORG}-1021")) is None
    # A sync of one department's sub-tree never removes entries that live outside it.
    result = sync(app, slapd.url, "--apply", "--base", AVD)
    with app.app_context():
        removed = db.session.scalars(select(Person.hsa_id).where(Person.removed_at.is_not(None))).all()
        assert removed == [], result.output
