"""Verification at hand-over through the real reader stack (pcscd + the vpcd reader + the simulated card):
the hand-over page on the desk PC, `card verify --order`, `card watch`, and the desk agent against the
real app on a live server thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select
from werkzeug.serving import make_server

from cardadmin.accounts import service as accounts
from cardadmin.db import db
from cardadmin.desk.agent import ApiClient, DeskAgent
from cardadmin.desk.cli import card_group
from cardadmin.desk.models import CardVerification
from cardadmin.orders.models import Card
from hardware.simulator import CardProfile, SimulatedPivCard, VpcdBridge
from tests.conftest import build_world
from tests.desk_support import PIN, DeskPki, make_desk_pki, order_at_desk, person_hsa_id
from tests.hardware.conftest import VPCD_HOST, VPCD_PORT, _wait_card_state, vpcd_reader  # noqa: F401

pytestmark = pytest.mark.pcsc
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def desk_pki(tmp_path_factory: pytest.TempPathFactory) -> DeskPki:
    return make_desk_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def card_profile(desk_pki: DeskPki) -> CardProfile:
    return desk_pki.card(person_hsa_id(), key_type="p256")


class Slot:
    """The vpcd reader: insert and pull the simulated card."""

    def __init__(self, reader: str, profile: CardProfile) -> None:
        self.reader = reader
        self.profile = profile
        self.bridge: VpcdBridge | None = None

    def insert(self) -> SimulatedPivCard:
        card = SimulatedPivCard(self.profile)
        self.bridge = VpcdBridge(card, VPCD_HOST, VPCD_PORT)
        self.bridge.insert()
        _wait_card_state(self.reader, True)
        return card

    def pull(self) -> None:
        if self.bridge is not None:
            self.bridge.remove()
            self.bridge = None
            _wait_card_state(self.reader, False)


@pytest.fixture
def slot(vpcd_reader: str, card_profile: CardProfile) -> Iterator[Slot]:  # noqa: F811
    s = Slot(vpcd_reader, card_profile)
    yield s
    s.pull()


@pytest.fixture
def desk_app(make_app: Any, desk_pki: DeskPki, vpcd_reader: str, card_profile: CardProfile) -> Any:  # noqa: F811
    app = make_app(**desk_pki.config(CARDADMIN_READER=vpcd_reader))
    with app.app_context():
        world = build_world()
        order_id = order_at_desk(world, card_profile.card_number or "").id
    return app, world, order_id


def _rows(app: Any) -> list[CardVerification]:
    with app.app_context():
        return list(db.session.scalars(select(CardVerification).order_by(CardVerification.id)))


# ---------------------------------------------------------------- the hand-over page on the desk PC


def test_hand_over_page_reads_and_verifies_the_card_in_the_local_reader(desk_app: Any, slot: Slot, new_client: Any,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)  # everything any logger says, the APDU trace logger included
    app, _world, order_id = desk_app
    client = new_client(app)
    client.login("card_admin")
    assert client.get("/utlamning/kortlasare/kort").status_code == 409  # no card yet: a Swedish 409
    card = slot.insert()
    read = client.get("/utlamning/kortlasare/kort")
    assert read.status_code == 200 and read.json["card_number"] == slot.profile.card_number
    assert read.json["hsa_id"] == person_hsa_id() and read.json["reader"] == slot.reader
    response = client.post_form(f"/utlamning/{order_id}/verifiera", {"pin": PIN})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kortet är verifierat." in page and "Underkänd" not in page and PIN not in page
    [row] = _rows(app)
    assert row.ok and row.source == "local_reader" and row.reader == slot.reader
    assert not card.pin_verified  # the connection was closed with a card reset
    wrong = client.post_form(f"/utlamning/{order_id}/verifiera", {"pin": "999999"})
    assert wrong.status_code == 302
    assert "Fel PIN-kod, 2 försök kvar." in client.get(wrong.headers["Location"]).get_data(as_text=True)
    with app.app_context():  # the failed attempt left the card's certificate columns as the passing one set them
        assert db.session.get(Card, row.card_id).auth_cert_fingerprint == row.auth_cert_fingerprint
        from cardadmin.audit.models import AuditEvent

        logged = " ".join(e.data for e in db.session.scalars(select(AuditEvent)))
    assert PIN not in caplog.text and "999999" not in caplog.text
    assert PIN not in logged and "999999" not in logged


# ---------------------------------------------------------------- CLI


def test_card_verify_order_stores_the_result(desk_app: Any, slot: Slot) -> None:
    app, _world, order_id = desk_app
    slot.insert()
    info = ScriptInfo(create_app=lambda: app)
    result = CliRunner().invoke(card_group, ["verify", "--order", str(order_id), "--user", "card_admin"],
                                input=PIN + "\n", obj=info)
    assert result.exit_code == 0, result.output
    assert "OK  Kortet har den privata nyckeln (PIN)" in result.output and PIN not in result.output
    [row] = _rows(app)
    assert row.ok and row.source == "cli"
    denied = CliRunner().invoke(card_group, ["verify", "--order", str(order_id), "--user", "orderer"],
                                input=PIN + "\n", obj=info)
    assert denied.exit_code == 2 and "behörighet" in denied.output and len(_rows(app)) == 1


def test_card_watch_prints_insert_and_remove(slot: Slot) -> None:
    def cycle() -> None:
        time.sleep(0.5)
        slot.insert()
        time.sleep(0.3)
        slot.pull()

    mover = threading.Thread(target=cycle)
    mover.start()
    result = CliRunner().invoke(card_group, ["watch", "--events", "2"])
    mover.join()
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines() if "\t" in line]
    assert [(kind, reader) for _t, kind, reader, _atr in lines] == [("isatt", slot.reader), ("uttaget", slot.reader)]


# ---------------------------------------------------------------- the desk agent against the live app


@pytest.fixture
def live(desk_app: Any, tmp_path: Path) -> Iterator[tuple[Any, str, str, int]]:
    app, world, order_id = desk_app
    with app.app_context():
        _row, token = accounts.create_api_token(world.users["card_admin"], "desk agent")
        db.session.commit()
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}", str(token_file), order_id
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _wait_rows(app: Any, count: int, timeout: float = 15.0) -> list[CardVerification]:
    deadline = time.monotonic() + timeout
    while len(rows := _rows(app)) < count:
        assert time.monotonic() < deadline, f"only {len(rows)} verifications stored"
        time.sleep(0.1)
    return rows


def test_desk_agent_verifies_inserted_cards_and_the_page_sees_it(live: Any, slot: Slot, new_client: Any) -> None:
    app, url, token_file, order_id = live
    said: list[str] = []
    asked: list[int] = []

    def ask_pin() -> str:
        asked.append(1)
        if len(asked) == 3:  # third card: pulled while the holder types the PIN
            slot.pull()
        return [PIN, "999999", PIN][len(asked) - 1]

    agent = DeskAgent(ApiClient(url, Path(token_file).read_text().strip()), ask_pin=ask_pin, say=said.append,
                      reader=slot.reader)
    runner = threading.Thread(target=agent.run)
    runner.start()
    try:
        page = new_client(app)
        page.login("card_admin")
        assert page.get(f"/utlamning/{order_id}/verifiering").json["id"] is None
        slot.insert()
        [first] = _wait_rows(app, 1)
        assert first.ok and first.source == "desk_agent" and first.reader == slot.reader
        polled = page.get(f"/utlamning/{order_id}/verifiering").json
        assert polled["id"] == first.id and "Kortet är verifierat." in polled["html"]
        slot.pull()
        slot.insert()  # the wrong PIN: stored, failed, nothing changed
        second = _wait_rows(app, 2)[1]
        assert second.failed_checks == ["proof_of_possession"] and second.pin_attempts_left == 2
        slot.pull()
        slot.insert()  # pulled mid-way: a named failure, and the agent goes on
        deadline = time.monotonic() + 15
        while not any("Kortet togs ur läsaren" in s for s in said):
            assert time.monotonic() < deadline, said
            time.sleep(0.1)
        third = _wait_rows(app, 3)[2]
        assert third.error == "CardRemoved" and not third.ok
        assert runner.is_alive()
    finally:
        agent.stop.set()
        runner.join(timeout=10)
    assert not runner.is_alive()
    assert not any(PIN in s or "999999" in s for s in said)


def _agent_process(url: str, token_file: str, reader: str) -> subprocess.Popen[str]:
    """`cardadmin desk-agent` as the desk PC runs it, with the PIN typed on its stdin."""
    return subprocess.Popen([str(Path(sys.executable).parent / "cardadmin"), "desk-agent", "--server", url,
                             "--token-file", token_file, "--reader", reader], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))


def test_desk_agent_command_with_pin_on_stdin(live: Any, slot: Slot) -> None:
    app, url, token_file, _order_id = live
    agent = _agent_process(url, token_file, slot.reader)
    try:
        time.sleep(1.0)
        slot.insert()
        assert agent.stdin is not None
        agent.stdin.write(PIN + "\n")
        agent.stdin.flush()
        [row] = _wait_rows(app, 1)
        assert row.ok and row.source == "desk_agent"
    finally:
        agent.terminate()
        output, _ = agent.communicate(timeout=10)
    assert agent.returncode == 0, output
    assert "Kortet är verifierat" in output and PIN not in output and "Traceback" not in output
    assert json.dumps(row.checks).count('"passed": true') == 11


class _AnswerLostOnce(ApiClient):
    """The server stores the first verification, but its answer never reaches the agent (a timeout)."""

    lost = 0

    def post_verification(self, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
        answer = super().post_verification(order_id, body)
        if not self.lost:
            self.lost += 1
            from cardadmin.desk.agent import ServerUnreachable

            raise ServerUnreachable("timed out")
        return answer


def test_desk_agent_whose_answer_was_lost_gets_the_stored_result(live: Any, slot: Slot) -> None:
    """The agent posts again when the answer is lost; the server gives back what it stored the first time
    (not "challenge already used"), and nothing is stored twice."""
    app, url, token_file, _order_id = live
    said: list[str] = []
    agent = DeskAgent(_AnswerLostOnce(url, Path(token_file).read_text().strip()), ask_pin=lambda: PIN,
                      say=said.append, reader=slot.reader)
    runner = threading.Thread(target=agent.run)
    runner.start()
    try:
        slot.insert()
        [row] = _wait_rows(app, 1)
        deadline = time.monotonic() + 15
        while not any("Resultatet är sparat" in s for s in said):
            assert time.monotonic() < deadline, said
            time.sleep(0.1)
    finally:
        agent.stop.set()
        runner.join(timeout=10)
    assert row.ok and len(_rows(app)) == 1
    assert any(f"(verifiering {row.id})" in s and "Kortet är verifierat" in s for s in said), said
    assert not any("redan använd" in s for s in said), said


def test_desk_agent_stops_at_once_at_the_pin_prompt(live: Any, slot: Slot) -> None:
    """Ctrl-C (SIGINT) while the agent waits for the holder's PIN stops it then, not after the next Enter."""
    import signal

    app, url, token_file, _order_id = live
    agent = _agent_process(url, token_file, slot.reader)
    try:
        time.sleep(1.0)
        slot.insert()
        time.sleep(2.0)  # the agent has read the card, found the order and waits for the PIN (stdin stays open)
        agent.send_signal(signal.SIGINT)
        output, _ = agent.communicate(timeout=5)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.communicate()
    assert agent.returncode == 0, output
    assert "PIN-kod" in output and "agenten stoppas" in output and "har stoppats" in output, output
    assert "Traceback" not in output and _rows(app) == []
