"""Desk commands: the simulated card, the reader, card verification and certificate inspection.

`COMMANDS` (the groups `sim`, `card`, `cert` and `desk-agent`) is registered by cardadmin/cli.py. Only
the `--order` forms need the database and an app context (cli_order.py). Hardware errors become a
Swedish message and exit code 2 (never a traceback); `card verify` exits 0 when the card passed, 1 when
a check failed, 2 on a hardware error. The PIN is asked with a hidden prompt, passed to one VERIFY and
never echoed, logged or stored. pyscard is imported only when a command talks to a reader.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from cardadmin.desk.messages import check_label, swedish_message
from hardware.errors import HardwareError

HARDWARE_EXIT = 2
TRUST_ANCHORS_ENV = "CARDADMIN_TRUST_ANCHORS"

F = TypeVar("F", bound=Callable[..., Any])


def _fail_hardware(exc: HardwareError) -> None:
    click.echo(f"Fel: {swedish_message(exc)}", err=True)
    raise click.exceptions.Exit(HARDWARE_EXIT)


def hardware_errors(fn: F) -> F:
    """Turn a HardwareError escaping from the command into a Swedish message and exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HardwareError as exc:
            _fail_hardware(exc)

    return wrapper  # type: ignore[return-value]


@contextmanager
def _open_card(reader: str | None) -> Iterator[tuple[Any, Any]]:
    from hardware import pcsc
    from hardware.profiles import open_application

    conn = pcsc.connect(reader)
    try:
        yield conn, open_application(conn)
    finally:
        conn.close()


# ---------------------------------------------------------------- sim


@click.group("sim", help="Simulerat SITHS-kort (testdata) för utveckling och test.")
def sim_group() -> None:
    pass


@sim_group.command("make-profile")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@click.option("--key-type", type=click.Choice(["rsa2048", "p256", "p384"]), default="p256", show_default=True)
@click.option("--hsa-id", default="TSTNMT2321000156-1019", show_default=True)
@click.option("--given-name", default="Test", show_default=True)
@click.option("--surname", default="Testsson", show_default=True)
@click.option("--card-number", default=None, help="Kortnummer (standard: ett slumpat testnummer).")
@click.option("--pin", default="123456", show_default=True)
@click.option("--puk", default="12345678", show_default=True)
@click.option("--compress", is_flag=True, help="Lagra certifikaten gzip-komprimerade.")
@click.option("--revoked", is_flag=True, help="Spärra certifikaten på profilens CRL.")
@click.option("--days", type=int, default=730, show_default=True, help="Certifikatens giltighetstid i dagar.")
@click.option("--order", "order_id", type=click.IntRange(1, 2**31 - 1), default=None,
              help="Kort för beställningen: HSA-id, namn och kortnummer hämtas från den (ej i produktion).")
def sim_make_profile(out: str, key_type: str, hsa_id: str, given_name: str, surname: str, card_number: str | None,
                     pin: str, puk: str, compress: bool, revoked: bool, days: int, order_id: int | None) -> None:
    """Skapa en kortprofil (test-PKI, nycklar, certifikat, CRL) i filen OUT."""
    from hardware.simulator import make_profile, save_profile

    if order_id is not None:
        from cardadmin.desk.cli_order import order_identity

        hsa_id, given_name, surname, card_number = order_identity(order_id)

    profile = make_profile(hsa_id=hsa_id, given_name=given_name, surname=surname, card_number=card_number,
                           key_type=key_type, pin=pin, puk=puk, compress=compress,  # type: ignore[arg-type]
                           revoke=revoked, days=days)
    save_profile(profile, out)
    click.echo(f"Skrev {out}: HSA-id {profile.hsa_id}, kortnummer {profile.card_number}.")
    # The public half of the test PKI beside the profile, so `card verify` can be pointed at it.
    stem = Path(out).with_suffix("")
    issuing, root = profile.issuer_chain_pem[0], profile.issuer_chain_pem[-1]
    written = {f"{stem}-root.pem": root, f"{stem}-ca.pem": issuing}
    if profile.crl_pem:
        written[f"{stem}-crl.pem"] = profile.crl_pem
    for path, pem in written.items():
        Path(path).write_text(pem)
    click.echo(f"Test-PKI: --trust-anchors {stem}-root.pem --intermediate {stem}-ca.pem"
               + (f" --crl {stem}-crl.pem" if profile.crl_pem else ""))
    if order_id is not None:
        click.echo(f"För appen: CARDADMIN_TRUST_ANCHORS={stem}-root.pem CARDADMIN_INTERMEDIATES={stem}-ca.pem "
                   f"CARDADMIN_CRLS={stem}-crl.pem")


@sim_group.command("run")
@click.option("--profile", "profile_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--vpcd", default="127.0.0.1:35963", show_default=True, help="HOST:PORT för vpcd.")
def sim_run(profile_path: str, vpcd: str) -> None:
    """Sätt in det simulerade kortet i pcscd via vpcd tills Ctrl-C/SIGTERM (då tas kortet ur)."""
    from cardadmin.web import whole_number
    from hardware.simulator import load_profile, run_vpcd_bridge

    host, _, raw_port = vpcd.rpartition(":")
    port = whole_number(raw_port, 65535)
    if port is None:
        raise click.BadParameter("ange HOST:PORT", param_hint="--vpcd")
    try:
        profile = load_profile(profile_path)
    except (ValueError, KeyError) as exc:
        raise click.BadParameter(f"ingen kortprofil ({exc})", param_hint="--profile") from None
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        click.echo(f"Kortet är isatt i vpcd på {host or '127.0.0.1'}:{port}. Ctrl-C tar ur det.")
        run_vpcd_bridge(profile, host or "127.0.0.1", port, stop)
    except OSError as exc:
        click.echo(f"Fel: kan inte ansluta till vpcd på {host or '127.0.0.1'}:{port} ({exc.strerror or exc}).",
                   err=True)
        raise click.exceptions.Exit(HARDWARE_EXIT) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Kortet är uttaget.")


# ---------------------------------------------------------------- card


@click.group("card", help="Kortläsare och kort.")
def card_group() -> None:
    pass


@card_group.command("readers")
@hardware_errors
def card_readers() -> None:
    """Lista kortläsarna och om de har ett kort."""
    from hardware import pcsc

    readers = pcsc.list_readers()
    if not readers:
        click.echo("Ingen kortläsare är ansluten.")
        return
    for name in readers:
        click.echo(f"{name}\t{'kort' if pcsc.reader_has_card(name) else 'tom'}")


def _card_summary(conn: Any, app: Any) -> dict[str, Any]:
    from hardware.verify import CertificateSummary

    certs = app.read_certificates()
    summaries = [CertificateSummary.of(c.role, c.certificate).to_dict() | {"key_ref": c.key_ref} for c in certs]
    hsa_ids = sorted({s["hsa_id"] for s in summaries if s["hsa_id"]})
    return {"reader": getattr(conn, "reader", None), "application": app.name,
            "hsa_id": hsa_ids[0] if len(hsa_ids) == 1 else (hsa_ids or None),
            "card_number": app.read_card_number(), "certificates": summaries}


@card_group.command("read")
@click.option("--reader", default=None, help="Läsarens namn (eller en del av det).")
@click.option("--json", "as_json", is_flag=True, help="Skriv JSON.")
@hardware_errors
def card_read(reader: str | None, as_json: bool) -> None:
    """Läs kortets certifikat, HSA-id och kortnummer (ingen PIN-kod behövs)."""
    with _open_card(reader) as (conn, app):
        info = _card_summary(conn, app)
    if as_json:
        click.echo(json.dumps(info, indent=2, ensure_ascii=False))
        return
    click.echo(f"Läsare:     {info['reader']}")
    click.echo(f"Applikation: {info['application']}")
    click.echo(f"HSA-id:     {info['hsa_id'] or '-'}")
    click.echo(f"Kortnummer: {info['card_number'] or '-'}")
    for c in info["certificates"]:
        click.echo(f"\n[{c['role']}] {c['subject']}")
        click.echo(f"  utfärdare:  {c['issuer']}")
        click.echo(f"  giltigt:    {c['not_before']} – {c['not_after']}")
        click.echo(f"  serienr:    {c['serial']}")
        click.echo(f"  SHA-256:    {c['sha256']}")


@card_group.command("verify")
@click.option("--order", "order_id", type=click.IntRange(1, 2**31 - 1), default=None,
              help="Beställningens id: HSA-id och kortnummer hämtas därifrån och resultatet sparas.")
@click.option("--user", "username", envvar="CARDADMIN_USER", default=None,
              help="Korthandläggaren som verifierar (med --order; standard: $CARDADMIN_USER).")
@click.option("--hsa-id", default=None, help="HSA-id att kontrollera mot (utan --order).")
@click.option("--card-number", default=None, help="Kortnummer att kontrollera mot (utan --order).")
@click.option("--reader", default=None, help="Läsarens namn (eller en del av det).")
@click.option("--trust-anchors", envvar=TRUST_ANCHORS_ENV, default=None,
              help=f"Betrodda rot-CA: PEM-filer eller en mapp (standard: ${TRUST_ANCHORS_ENV}).")
@click.option("--intermediate", "intermediates", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Utfärdande CA-certifikat (PEM/DER), får upprepas.")
@click.option("--crl", "crl_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="CRL-fil (DER eller PEM), får upprepas.")
@click.option("--auth-policy", multiple=True, help="Godkänd policy-OID för legitimeringscertifikatet.")
@click.option("--sign-policy", multiple=True, help="Godkänd policy-OID för underskriftscertifikatet.")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@hardware_errors
def card_verify(order_id: int | None, username: str | None, hsa_id: str | None, card_number: str | None,
                reader: str | None, trust_anchors: str | None, intermediates: tuple[str, ...],
                crl_files: tuple[str, ...], auth_policy: tuple[str, ...], sign_policy: tuple[str, ...],
                as_json: bool) -> None:
    """Verifiera kortet i läsaren; innehavaren anger sin PIN-kod.

    Med --order ID: mot beställningens HSA-id och kortnummer, med appens inställningar (CARDADMIN_TRUST_ANCHORS,
    CARDADMIN_INTERMEDIATES, CARDADMIN_CRLS, policy-OID:er), och resultatet sparas och loggas. Annars mot
    --hsa-id och --card-number, utan att något sparas."""
    if order_id is not None:
        from cardadmin.desk.cli_order import verify_order

        verify_order(order_id, username, reader, as_json)
        return
    if not hsa_id or not card_number:
        raise click.UsageError("Ange --order ID, eller både --hsa-id och --card-number.")
    if not trust_anchors:
        raise click.BadParameter(f"ange --trust-anchors eller ${TRUST_ANCHORS_ENV}", param_hint="--trust-anchors")
    from hardware import pcsc
    from hardware.verify import (
        VerificationPolicy,
        load_certificates,
        load_crls,
        load_trust_anchors,
        verify_connection,
    )

    try:
        anchors = load_trust_anchors(trust_anchors)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--trust-anchors") from None
    try:
        crls = load_crls(crl_files)
        inter = [c for p in intermediates for c in load_certificates(Path(p).read_bytes(), p)]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    policy = VerificationPolicy(frozenset(auth_policy), frozenset(sign_policy))

    pcsc.list_readers()  # pcscd down: fail before asking for the PIN
    pin = ask_pin()
    conn = pcsc.connect(reader)
    try:
        result = verify_connection(conn, hsa_id=hsa_id, card_number=card_number, trust_anchors=anchors,
                                   crls=crls, intermediates=inter, pin=pin, policy=policy, reader=conn.reader)
    finally:
        del pin
        conn.close()
    report(result.to_dict(), as_json)
    if result.error is not None:
        _fail_hardware(result.error)
    if not result.ok:
        raise click.exceptions.Exit(1)


def ask_pin() -> str:
    """The holder's PIN, hidden (read from stdin when it is not a terminal); never echoed or logged."""
    return str(click.prompt("Kortinnehavarens PIN-kod", hide_input=True, err=True))


def report(result: dict[str, Any], as_json: bool) -> None:
    """Print a verification result (``VerificationResult.to_dict()`` or a stored one): JSON or one line a check."""
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    for check in result["checks"]:
        mark = {True: "OK  ", False: "FEL ", None: "--  "}[check["passed"]]
        click.echo(f"{mark}{check_label(check['name'])}: {check['reason']}")
    click.echo("Kortet är verifierat." if result["ok"] else "Kortet är INTE verifierat.")


@card_group.command("watch")
@click.option("--events", type=click.IntRange(1), default=None, help="Sluta efter så många händelser.")
@hardware_errors
def card_watch(events: int | None) -> None:
    """Skriv ut när kort sätts i och tas ur läsarna (Ctrl-C avslutar)."""
    import queue
    import time

    from hardware import pcsc

    seen: queue.Queue[str] = queue.Queue()

    def event(what: str) -> Callable[[str, bytes], None]:
        return lambda reader, atr: seen.put(f"{time.strftime('%H:%M:%S')}\t{what}\t{reader}\t{atr.hex().upper()}")

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    monitor = pcsc.CardMonitorEvents(on_insert=event("isatt"), on_remove=event("uttaget"))
    monitor.start()
    click.echo("Bevakar kortläsarna. Ctrl-C avslutar.", err=True)
    count = 0
    try:
        while not stop.is_set() and (events is None or count < events):
            try:
                click.echo(seen.get(timeout=0.2))
                count += 1
            except queue.Empty:
                continue
    finally:
        monitor.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# ---------------------------------------------------------------- cert


@click.group("cert", help="Certifikat.")
def cert_group() -> None:
    pass


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict) and "error" in value:
        return f"(kan inte läsas: {value['error']})"
    if isinstance(value, list):
        return ", ".join(v["name"] if isinstance(v, dict) and "name" in v else str(v) for v in value) or "-"
    return str(value)


@cert_group.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Skriv JSON.")
def cert_inspect(file: str, as_json: bool) -> None:
    """Visa ett certifikat (PEM eller DER): subjekt, HSA-id, utfärdare, giltighet, policyer, CRL-punkter."""
    from hardware.certinfo import inspect

    try:
        info = inspect(Path(file).read_bytes())
    except ValueError as exc:
        raise click.ClickException(f"{os.path.basename(file)}: {exc}") from None
    if as_json:
        click.echo(json.dumps(info, indent=2, ensure_ascii=False))
        return
    key = info["public_key"] if "type" in info["public_key"] else {"type": "?"}
    rows = [
        ("Subjekt", info["subject"]["rfc4514"] if "rfc4514" in info["subject"] else info["subject"]),
        ("serialNumber", info["serial_number"]),
        ("HSA-id", info["hsa_id"] or ("(serialNumber har inte HSA-id-form)" if info["serial_number"] else None)),
        ("Utfärdare", info["issuer"]["rfc4514"] if "rfc4514" in info["issuer"] else info["issuer"]),
        ("Giltigt från", info["not_before"]),
        ("Giltigt till", info["not_after"]),
        ("Nyckel", f"{key['type']} {key.get('curve', '')} {key.get('size', '')}".replace("  ", " ").strip()),
        ("Signatur", info["signature_algorithm"]),
        ("Nyckelanvändning", info["key_usage"]),
        ("Utökad användning", info["extended_key_usage"]),
        ("Policyer", info["policies"]),
        ("CRL-punkter", info["crl_distribution_points"]),
        ("OCSP", info["ocsp_urls"]),
        ("Kortnummer", info["card_number"]),
        ("Serienummer", info["certificate_serial"]),
        ("SHA-256", info["sha256"]),
    ]
    for label, value in rows:
        click.echo(f"{label + ':':<19}{_fmt(value)}")


def _commands() -> list[click.Command]:
    from cardadmin.desk.agent import desk_agent_command

    return [sim_group, card_group, cert_group, desk_agent_command]


COMMANDS: list[click.Command] = _commands()
