"""The desk agent without a card: it keeps running through pcscd outages and readers coming and going,
and refuses a bad start (no token, plain http to another computer) with a clear message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardadmin.desk.agent import ApiClient, Backoff, DeskAgent, desk_agent_command
from hardware.errors import ReaderUnavailable

CARDADMIN = str(Path(sys.executable).parent / "cardadmin")


def test_agent_survives_pcscd_outages_and_readers_coming_and_going() -> None:
    said: list[str] = []
    answers: list[object] = [ReaderUnavailable(), ReaderUnavailable(), ReaderUnavailable(), {}, {},
                             {"Reader A": None}, {}, {"Reader A": None}]
    backoffs: list[float] = []

    def presence() -> dict[str, bytes | None]:
        answer = answers.pop(0) if answers else {"Reader A": None}
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    class Recording(Backoff):
        def next(self) -> float:
            backoffs.append(super().next())
            return 0.01

    agent = DeskAgent(ApiClient("http://127.0.0.1:9", "t"), ask_pin=lambda: None, say=said.append,
                      presence=presence, backoff=Recording())
    runner = threading.Thread(target=agent.run)
    runner.start()
    deadline = time.monotonic() + 10
    while answers:
        assert time.monotonic() < deadline and runner.is_alive(), said
        time.sleep(0.02)
    agent.stop.set()
    runner.join(timeout=5)
    assert not runner.is_alive()
    # Each change said once, in order; nothing repeated at every retry or poll.
    assert said == ["Skrivbordsagenten bevakar kortläsarna.",
                    "Kortläsartjänsten (pcscd) körs inte. Försöker igen.",
                    "Ingen kortläsare är ansluten. Väntar på en läsare.",
                    "Kortläsarna är tillgängliga igen.",
                    "Ingen kortläsare är ansluten. Väntar på en läsare.",  # the reader was unplugged
                    "Kortläsarna är tillgängliga igen.",
                    "Skrivbordsagenten har stoppats."], said
    assert backoffs[:3] == [0.5, 1.0, 2.0]  # the pause grows, and starts again after a success
    assert said[-1] == "Skrivbordsagenten har stoppats."


def test_agent_command_keeps_running_without_pcscd_and_stops_on_sigterm(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("ca_test\n")
    token.chmod(0o600)
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(tmp_path / "no-pcscd.comm"), PYTHONUNBUFFERED="1")
    agent = subprocess.Popen([CARDADMIN, "desk-agent", "--server", "http://127.0.0.1:9", "--token-file",
                              str(token)], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    time.sleep(2.5)
    assert agent.poll() is None  # still running
    agent.send_signal(signal.SIGTERM)
    output, _ = agent.communicate(timeout=20)
    assert agent.returncode == 0, output
    assert "Kortläsartjänsten (pcscd) körs inte." in output and "Traceback" not in output
    assert output.count("körs inte") == 1 and "Skrivbordsagenten har stoppats." in output


def test_agent_refuses_a_bad_start(tmp_path: Path) -> None:
    missing = CliRunner().invoke(desk_agent_command, ["--server", "https://kort.example", "--token-file",
                                                      str(tmp_path / "none")])
    assert missing.exit_code == 2 and "kan inte läsa" in missing.output
    token = tmp_path / "token"
    token.write_text("ca_x")
    plain = CliRunner().invoke(desk_agent_command, ["--server", "http://kort.example", "--token-file", str(token)])
    assert plain.exit_code == 2 and "https" in plain.output
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert "tom" in CliRunner().invoke(desk_agent_command, ["--server", "https://k.example", "--token-file",
                                                            str(empty)]).output


def test_the_agent_follows_no_redirect_with_its_token() -> None:
    """A server answering 302 to another address gets no second request (urllib would carry the bearer token
    along); the agent reports the redirect as an API error."""
    import http.server

    from cardadmin.desk.agent import ApiError

    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            seen.append(f"{self.path} {self.headers.get('Authorization')}")
            if self.path.startswith("/api/"):
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/elsewhere")
            else:
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = ApiClient(f"http://127.0.0.1:{server.server_port}", "ca_secret", timeout=5)
        with pytest.raises(ApiError) as info:
            client.card_order("9752000000000001", None)
        assert info.value.status == 302
        assert len(seen) == 1 and seen[0].startswith("/api/v1/desk/card-orders")
    finally:
        server.shutdown()
