"""The desk commands (`cardadmin sim|card|cert ...`) through click's CliRunner; the reader ones through
real pcscd + vpcd (marked `pcsc`), and `card readers` against a pcscd that is not there."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from cardadmin.desk.cli import COMMANDS, card_group, cert_group, sim_group, swedish_message
from hardware import pcsc
from hardware.errors import (
    CardRemoved,
    HardwareError,
    InvalidPin,
    NoCard,
    NoReader,
    PinBlocked,
    ReaderUnavailable,
)
from hardware.simulator import CardProfile, SimulatedPivCard, VpcdBridge, load_profile, make_profile, save_profile

VPCD_HOST = os.environ.get("CARDADMIN_VPCD_HOST", "127.0.0.1")
VPCD_PORT = int(os.environ.get("CARDADMIN_VPCD_PORT", "35963"))
VPCD_READER = os.environ.get("CARDADMIN_VPCD_READER", "Virtual PCD 00 00")
HSA_ID = "TSTNMT2321000156-1019"
PIN = "246810"
REALWORLD = Path("/work/shared/realworld/siths-ca-v3-function-2010.pem")


def test_commands_are_exposed() -> None:
    assert [c.name for c in COMMANDS] == ["sim", "card", "cert", "desk-agent"]
    assert set(card_group.commands) == {"readers", "read", "verify", "watch"}
    assert set(sim_group.commands) == {"make-profile", "run"}


@pytest.mark.parametrize("error,text", [
    (ReaderUnavailable(), "Kortläsartjänsten (pcscd) körs inte."),
    (NoCard(), "Inget kort i läsaren."),
    (CardRemoved(), "Kortet togs ur läsaren."),
    (InvalidPin(2), "Fel PIN-kod, 2 försök kvar."),
    (PinBlocked(), "PIN-koden är spärrad"),
    (NoReader("Foo"), "Kortläsaren 'Foo' hittades inte."),
    (HardwareError(), "Fel i kortläsaren."),
])
def test_swedish_messages(error: HardwareError, text: str) -> None:
    assert swedish_message(error).startswith(text)


# ---------------------------------------------------------------- sim make-profile, cert inspect


def test_make_profile(tmp_path: Path) -> None:
    out = tmp_path / "card.json"
    result = CliRunner().invoke(sim_group, ["make-profile", str(out), "--key-type", "p384", "--hsa-id", HSA_ID,
                                            "--card-number", "97521234567890123452", "--pin", PIN, "--revoked"])
    assert result.exit_code == 0, result.output
    assert "97521234567890123452" in result.output
    assert out.stat().st_mode & 0o777 == 0o600
    profile = load_profile(out)
    assert profile.pin == PIN and profile.card_number == "97521234567890123452"
    assert profile.crl_pem
    crl = x509.load_pem_x509_crl(profile.crl_pem.encode())
    assert {r.serial_number for r in crl} == {s.certificate().serial_number for s in profile.slots.values()}
    # The public half of the test PKI is written beside it, for `card verify --trust-anchors … --crl …`.
    root = x509.load_pem_x509_certificate((tmp_path / "card-root.pem").read_bytes())
    issuing = x509.load_pem_x509_certificate((tmp_path / "card-ca.pem").read_bytes())
    assert "Root CA v2" in root.subject.rfc4514_string() and issuing.issuer == root.subject
    assert x509.load_pem_x509_crl((tmp_path / "card-crl.pem").read_bytes()).issuer == issuing.subject


def test_cert_inspect_real_world_certificate() -> None:
    if not REALWORLD.exists():
        pytest.skip("real-world SITHS certificate not present")
    result = CliRunner().invoke(cert_group, ["inspect", str(REALWORLD)])
    assert result.exit_code == 0, result.output
    assert "HSASERVICES-100S" in result.output
    assert "har inte HSA-id-form" in result.output
    assert "RSA 1024" in result.output
    as_json = CliRunner().invoke(cert_group, ["inspect", str(REALWORLD), "--json"])
    assert json.loads(as_json.output)["serial_number"] == "HSASERVICES-100S"


def test_cert_inspect_test_certificate_and_garbage(tmp_path: Path) -> None:
    profile = make_profile(hsa_id=HSA_ID)
    pem = tmp_path / "auth.pem"
    pem.write_text(profile.slots[0x9A].certificate_pem)
    result = CliRunner().invoke(cert_group, ["inspect", str(pem)])
    assert result.exit_code == 0 and HSA_ID in result.output and str(profile.card_number) in result.output
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x30\x03\x02\x01")
    bad = CliRunner().invoke(cert_group, ["inspect", str(junk)])
    assert bad.exit_code == 1
    assert "Not a certificate" in bad.output and "Traceback" not in bad.output


# ---------------------------------------------------------------- pcscd not running


def _run_cli(args: list[str], env: dict[str, str], input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    code = ("import sys\nfrom cardadmin.desk.cli import COMMANDS\n"
            "groups = {c.name: c for c in COMMANDS}\n"
            "groups[sys.argv[1]].main(sys.argv[2:], prog_name='cardadmin ' + sys.argv[1])\n")
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          input=input_text, timeout=60, check=False, cwd=Path(__file__).parent.parent)


def test_card_readers_when_pcscd_is_down(tmp_path: Path) -> None:
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(tmp_path / "no-pcscd.comm"))
    result = _run_cli(["card", "readers"], env)
    assert result.returncode == 2, result.stderr
    assert "Kortläsartjänsten (pcscd) körs inte." in result.stderr
    assert "Traceback" not in result.stderr


def test_card_verify_when_pcscd_is_down_asks_no_pin(tmp_path: Path) -> None:
    profile = make_profile(hsa_id=HSA_ID)
    anchors = tmp_path / "root.pem"
    anchors.write_text(profile.issuer_chain_pem[-1])
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(tmp_path / "no-pcscd.comm"))
    result = _run_cli(["card", "verify", "--hsa-id", HSA_ID, "--card-number", "1", "--trust-anchors",
                       str(anchors)], env, input_text="")
    assert result.returncode == 2, result.stderr
    assert "Kortläsartjänsten (pcscd) körs inte." in result.stderr
    assert "PIN" not in result.stderr


# ---------------------------------------------------------------- through real pcscd + vpcd


@pytest.fixture(scope="module")
def card_profile() -> CardProfile:
    return make_profile(key_type="p256", hsa_id=HSA_ID, pin=PIN)


@pytest.fixture
def free_reader() -> Iterator[str]:
    """The vpcd reader, free (same lock as tests/hardware/conftest.py); skip without pcscd/vpcd."""
    lock_path = os.path.join(tempfile.gettempdir(), f"cardadmin-vpcd-{VPCD_PORT}.lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            readers = pcsc.list_readers()
            reason = None if VPCD_READER in readers and not pcsc.reader_has_card(VPCD_READER) else \
                f"reader {VPCD_READER!r} absent or busy ({readers})"
        except HardwareError as exc:
            reason = f"pcscd not reachable ({exc})"
        if reason:
            if os.environ.get("CARDADMIN_REQUIRE_PCSC") == "1":
                pytest.fail(reason)
            pytest.skip(reason)
        yield VPCD_READER


def _wait(reader: str, present: bool) -> None:
    deadline = time.monotonic() + 5
    while pcsc.reader_has_card(reader) != present:
        assert time.monotonic() < deadline, f"card state never became {present}"
        time.sleep(0.02)


@pytest.fixture
def inserted(card_profile: CardProfile, free_reader: str) -> Iterator[SimulatedPivCard]:
    card = SimulatedPivCard(card_profile)
    bridge = VpcdBridge(card, VPCD_HOST, VPCD_PORT)
    bridge.insert()
    try:
        _wait(free_reader, True)
        yield card
    finally:
        bridge.remove()
        _wait(free_reader, False)


@pytest.fixture
def pki_files(card_profile: CardProfile, tmp_path: Path) -> dict[str, str]:
    files = {"root": card_profile.issuer_chain_pem[-1], "ca": card_profile.issuer_chain_pem[0],
             "crl": str(card_profile.crl_pem)}
    out = {}
    for name, text in files.items():
        (tmp_path / f"{name}.pem").write_text(text)
        out[name] = str(tmp_path / f"{name}.pem")
    return out


def _verify_args(profile: CardProfile, files: dict[str, str], reader: str) -> list[str]:
    return ["verify", "--hsa-id", HSA_ID, "--card-number", str(profile.card_number), "--reader", reader,
            "--trust-anchors", files["root"], "--intermediate", files["ca"], "--crl", files["crl"]]


@pytest.mark.pcsc
def test_card_read_json(inserted: SimulatedPivCard, card_profile: CardProfile, free_reader: str) -> None:
    result = CliRunner().invoke(card_group, ["read", "--reader", free_reader, "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["hsa_id"] == HSA_ID and info["card_number"] == card_profile.card_number
    assert info["reader"] == free_reader and info["application"] == "piv"
    assert [c["role"] for c in info["certificates"]] == ["authentication", "signature"]
    text = CliRunner().invoke(card_group, ["read", "--reader", free_reader])
    assert text.exit_code == 0 and f"HSA-id:     {HSA_ID}" in text.output


@pytest.mark.pcsc
def test_card_readers_lists_the_card(inserted: SimulatedPivCard, free_reader: str) -> None:
    result = CliRunner().invoke(card_group, ["readers"])
    assert result.exit_code == 0
    assert f"{free_reader}\tkort" in result.output


@pytest.mark.pcsc
def test_card_read_without_card(free_reader: str) -> None:
    result = CliRunner().invoke(card_group, ["read", "--reader", free_reader])
    assert result.exit_code == 2
    assert "Inget kort i läsaren." in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.pcsc
def test_card_verify_with_pin_on_stdin(inserted: SimulatedPivCard, card_profile: CardProfile,
                                       pki_files: dict[str, str], free_reader: str) -> None:
    result = CliRunner().invoke(card_group, _verify_args(card_profile, pki_files, free_reader), input=PIN + "\n")
    assert result.exit_code == 0, result.output
    assert "Kortet är verifierat." in result.output
    assert "OK  Kortet har den privata nyckeln (PIN)" in result.output
    assert PIN not in result.output


@pytest.mark.pcsc
def test_card_verify_json_and_trust_anchors_from_env(inserted: SimulatedPivCard, card_profile: CardProfile,
                                                      pki_files: dict[str, str], free_reader: str) -> None:
    args = [a for a in _verify_args(card_profile, pki_files, free_reader)]
    i = args.index("--trust-anchors")
    del args[i:i + 2]
    result = CliRunner().invoke(card_group, [*args, "--json"], input=PIN + "\n",
                                env={"CARDADMIN_TRUST_ANCHORS": pki_files["root"]})
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and doc["reader"] == free_reader
    assert PIN not in result.output


@pytest.mark.pcsc
def test_card_verify_wrong_pin(inserted: SimulatedPivCard, card_profile: CardProfile,
                               pki_files: dict[str, str], free_reader: str) -> None:
    result = CliRunner().invoke(card_group, _verify_args(card_profile, pki_files, free_reader), input="999999\n")
    assert result.exit_code == 2
    assert "Fel PIN-kod, 2 försök kvar." in result.output
    assert "999999" not in result.output
    assert inserted.pin_tries_left == 2


@pytest.mark.pcsc
def test_card_verify_wrong_person_exits_1(inserted: SimulatedPivCard, card_profile: CardProfile,
                                          pki_files: dict[str, str], free_reader: str) -> None:
    args = _verify_args(card_profile, pki_files, free_reader)
    args[args.index("--hsa-id") + 1] = "TSTNMT2321000156-0000"
    result = CliRunner().invoke(card_group, args, input=PIN + "\n")
    assert result.exit_code == 1
    assert "FEL HSA-id stämmer" in result.output and "Kortet är INTE verifierat." in result.output


@pytest.mark.pcsc
def test_sim_run_inserts_until_sigterm(card_profile: CardProfile, free_reader: str, tmp_path: Path) -> None:
    profile_file = tmp_path / "card.json"
    save_profile(card_profile, profile_file)
    code = ("import sys\nfrom cardadmin.desk.cli import sim_group\n"
            "sim_group.main(sys.argv[1:], prog_name='cardadmin sim')\n")
    proc = subprocess.Popen([sys.executable, "-c", code, "run", "--profile", str(profile_file), "--vpcd",
                             f"{VPCD_HOST}:{VPCD_PORT}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).parent.parent)
    try:
        _wait(free_reader, True)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Kortet är uttaget." in out
    _wait(free_reader, False)
