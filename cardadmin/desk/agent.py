"""The desk agent: `cardadmin desk-agent --server URL --token-file F`, on the desk PC beside the reader,
when the app runs centrally.

It watches the readers. When a card is inserted it reads the card's certificates and number, asks the
server which order at the user's desks waits for that card (getting a fresh challenge with it), asks the
holder's PIN here (hidden), has the card sign the challenge with its authentication key, and posts the
certificates and the signature. The server runs the whole policy again from what is posted and checks
the signature itself (see ``posted``); the hand-over page shows the result without a reload. The PIN never
leaves this computer.

It never stops on its own: pcscd down or restarted, readers unplugged, cards pulled mid-way, the server
unreachable: it says so once, waits with a growing pause (backoff) and tries again.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from cardadmin.desk.messages import check_label, swedish_message
from hardware.errors import HardwareError

POLL_SECONDS = 0.3


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ServerUnreachable(Exception):
    pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a 30x and send the bearer token along to wherever it points (http, another host):
    the agent follows none; a redirect is an answer it reports."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


class ApiClient:
    """The few API calls the agent makes, over urllib (nothing to install on the desk PC)."""

    def __init__(self, server: str, token: str, timeout: float = 15.0) -> None:
        self.base = server.rstrip("/") + "/api/v1"
        self.token = token
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={  # noqa: S310
            "Authorization": f"Bearer {self.token}", "Accept": "application/json",
            **({"Content-Type": "application/json"} if data is not None else {})})
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:  # (checked: http/https)
                return dict(json.load(response))
        except urllib.error.HTTPError as exc:
            try:
                message = json.load(exc)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {exc.code}"
            raise ApiError(exc.code, message) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise ServerUnreachable(str(getattr(exc, "reason", exc))) from None

    def card_order(self, card_number: str, hsa_id: str | None) -> dict[str, Any]:
        query = urllib.parse.urlencode({"card_number": card_number, **({"hsa_id": hsa_id} if hsa_id else {})})
        return self._call("GET", f"/desk/card-orders?{query}")

    def post_verification(self, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/desk/orders/{order_id}/verifications", body)


@dataclass
class Backoff:
    first: float = 0.5
    limit: float = 30.0
    current: float = field(default=0.0, init=False)

    def next(self) -> float:
        self.current = min(self.limit, self.current * 2 if self.current else self.first)
        return self.current

    def reset(self) -> None:
        self.current = 0.0


@dataclass
class DeskAgent:
    api: ApiClient
    ask_pin: Callable[[], str | None]
    say: Callable[[str], None]
    reader: str | None = None  # watch only readers whose name contains this
    stop: threading.Event = field(default_factory=threading.Event)
    backoff: Backoff = field(default_factory=Backoff)
    presence: Callable[[], dict[str, bytes | None]] | None = None  # for tests; default pcsc.card_presence
    _last_problem: str | None = field(default=None, init=False)
    asking_pin: bool = field(default=False, init=False)  # the holder is typing the PIN (see request_stop)

    def request_stop(self) -> None:
        """Stop after the card in hand (SIGINT, SIGTERM). At the PIN prompt nothing else would come: the
        prompt is given up at once (KeyboardInterrupt out of the terminal read) and the card is left."""
        self.stop.set()
        if self.asking_pin:
            raise KeyboardInterrupt

    def _state(self, problem: str | None) -> None:
        """Say what is wrong once when it starts, and once when it is over; not at every retry."""
        if problem != self._last_problem:
            self.say(problem or "Kortläsarna är tillgängliga igen.")
            self._last_problem = problem

    def run(self) -> None:
        from hardware import pcsc

        presence = self.presence or pcsc.card_presence
        handled: dict[str, bytes] = {}
        self.say("Skrivbordsagenten bevakar kortläsarna.")
        while not self.stop.is_set():
            try:
                cards = {r: atr for r, atr in presence().items()
                         if self.reader is None or self.reader.lower() in r.lower()}
            except HardwareError as exc:
                self._state(f"{swedish_message(exc)} Försöker igen.")
                self.stop.wait(self.backoff.next())
                continue
            self.backoff.reset()
            self._state(None if cards else "Ingen kortläsare är ansluten. Väntar på en läsare.")
            for reader, atr in cards.items():
                if atr is None:
                    handled.pop(reader, None)
                elif handled.get(reader) != atr:
                    handled[reader] = atr
                    self._handle_safely(reader)
            for gone in set(handled) - set(cards):  # reader unplugged
                del handled[gone]
            self.stop.wait(POLL_SECONDS)
        self.say("Skrivbordsagenten har stoppats.")

    def _handle_safely(self, reader: str) -> None:
        try:
            self.handle_card(reader)
        except HardwareError as exc:
            self.say(f"{swedish_message(exc)} Ta ur kortet och sätt i det igen.")
        except ServerUnreachable as exc:
            self.say(f"Servern svarar inte ({exc}). Ta ur kortet och sätt i det igen om en stund.")
        except ApiError as exc:
            self.say(f"Servern: {exc.message}")
        except Exception as exc:  # noqa: BLE001 - the agent must keep watching whatever one card did
            self.say(f"Oväntat fel ({type(exc).__name__}). Ta ur kortet och försök igen.")

    def handle_card(self, reader: str) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding

        from cardadmin.desk.posted import b64
        from hardware import pcsc
        from hardware.certs import hsa_id_of
        from hardware.profiles import KeyRole, open_application

        with pcsc.connect(reader) as conn:
            app = open_application(conn)
            certs = app.read_certificates()
            number = app.read_card_number()
            if not number:
                self.say(f"Kortet i {reader} har inget kortnummer i sina certifikat.")
                return
            hsa_ids = {h for c in certs if (h := hsa_id_of(c.certificate))}
            try:
                found = self.api.card_order(number, next(iter(hsa_ids)) if len(hsa_ids) == 1 else None)
            except ApiError as exc:
                if exc.status == 404:
                    self.say(f"Kort …{number[-4:]} i {reader}: {exc.message}")
                    return
                raise
            order = found["order"]
            self.say(f"Kort …{number[-4:]}: beställning {order['id']} för {order['name']} ({order['hsa_id']}).")
            body: dict[str, Any] = {
                "reader": reader, "application": app.name, "challenge_token": found["challenge_token"],
                "certificates": {c.role.value: b64(c.certificate.public_bytes(Encoding.DER)) for c in certs
                                 if c.role in (KeyRole.AUTHENTICATION, KeyRole.SIGNATURE)}}
            self.asking_pin = True
            try:
                pin = None if self.stop.is_set() else self.ask_pin()
            except KeyboardInterrupt:
                pin = None
            finally:
                self.asking_pin = False
            if not pin:
                self.say("Verifieringen avbröts: agenten stoppas." if self.stop.is_set() else
                         "Ingen PIN-kod angavs; verifieringen avbröts. Ta ur kortet och sätt i det igen.")
                return
            try:
                app.verify_pin(pin)
                body["signature"] = b64(app.sign_challenge(KeyRole.AUTHENTICATION,
                                                           base64.b64decode(found["challenge"])))
            except HardwareError as exc:
                self.say(swedish_message(exc))
                body["card_error"] = {"type": type(exc).__name__,
                                      "attempts_left": getattr(exc, "attempts_left", None)}
            finally:
                del pin
        self._report(self._post(order["id"], body))

    def _post(self, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """The challenge is valid for minutes: retry a server that does not answer, a few times."""
        for attempt in range(4):
            try:
                return self.api.post_verification(order_id, body)
            except ServerUnreachable:
                if attempt == 3:
                    raise
                self.stop.wait(1.0 + attempt)
        raise AssertionError("unreachable")

    def _report(self, result: dict[str, Any]) -> None:
        for check in result["checks"]:
            mark = {True: "OK  ", False: "FEL ", None: "--  "}[check["passed"]]
            why = f": {check['reason']}" if check["passed"] is False else ""
            self.say(f"{mark}{check_label(check['name'])}{why}")
        self.say(f"Kortet är {'verifierat' if result['ok'] else 'INTE verifierat'}. Resultatet är sparat "
                 f"(verifiering {result['id']}) och visas på utlämningssidan.")


def _read_token(path: str) -> str:
    file = Path(path)
    try:
        token = file.read_text().strip()
    except OSError as exc:
        raise click.BadParameter(f"kan inte läsa {path} ({exc.strerror})", param_hint="--token-file") from None
    if not token:
        raise click.BadParameter(f"{path} är tom", param_hint="--token-file")
    if file.stat().st_mode & 0o077:
        click.echo(f"Varning: {path} kan läsas av andra än ägaren (chmod 600).", err=True)
    return token


def _check_server(url: str, insecure_http: bool) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter("ange en adress som https://server.example", param_hint="--server")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1") and not insecure_http:
        raise click.BadParameter("API-nyckeln skickas bara över https (eller --insecure-http för test)",
                                 param_hint="--server")
    return url


@click.command("desk-agent")
@click.option("--server", required=True, help="Appens adress, t.ex. https://kort.regionvasterbotten.se")
@click.option("--token-file", required=True, help="Fil med en API-nyckel för en korthandläggare (chmod 600).")
@click.option("--reader", default=None, help="Bevaka bara läsare vars namn innehåller detta.")
@click.option("--insecure-http", is_flag=True, help="Tillåt http till en annan dator (bara för test).")
def desk_agent_command(server: str, token_file: str, reader: str | None, insecure_http: bool) -> None:
    """Bevaka kortläsarna på kortutlämningens dator, verifiera isatta kort och skicka resultatet till appen."""
    import signal

    agent = DeskAgent(ApiClient(_check_server(server, insecure_http), _read_token(token_file)),
                      ask_pin=_prompt_pin, say=lambda text: click.echo(f"{time.strftime('%H:%M:%S')} {text}"),
                      reader=reader)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: agent.request_stop())
    agent.run()


def _prompt_pin() -> str | None:
    try:
        return str(click.prompt("Kortinnehavarens PIN-kod (Enter avbryter)", hide_input=True, default="",
                                show_default=False, err=True))
    except click.Abort:  # no terminal and no more input
        return None
