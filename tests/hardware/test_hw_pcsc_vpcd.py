"""The simulator through the real pcscd (vpcd reader): our PC/SC backend, OpenSC and yubico-piv-tool.

These prove the simulator is a card that standard middleware accepts, not just one our code likes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from hardware import pcsc
from hardware.certs import card_number_of, hsa_id_of, signature_is_valid
from hardware.errors import CardRemoved, InvalidPin, NoCard, NoReader
from hardware.profiles import KeyRole, open_application, prove_possession
from hardware.simulator import CardProfile, SimulatedPivCard

pytestmark = pytest.mark.pcsc

READER = os.environ.get("CARDADMIN_VPCD_READER", "Virtual PCD 00 00")  # as in conftest.py
PIN = "123456"
HSA_ID = "TSTNMT2321000156-1019"
PKCS11_MODULE = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    if shutil.which(args[0]) is None:
        pytest.skip(f"{args[0]} is not installed")
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.parametrize("vpcd_card", ["rsa2048", "p256", "p384"], indirect=True)
def test_piv_session_over_pcsc_reads_and_signs(vpcd_card: SimulatedPivCard) -> None:
    with pcsc.connect(READER) as conn:
        assert conn.atr == vpcd_card.atr and conn.exclusive
        app = open_application(conn)
        certs = {c.role: c.certificate for c in app.read_certificates()}
        assert hsa_id_of(certs[KeyRole.AUTHENTICATION]) == HSA_ID
        assert app.read_card_number() == vpcd_card.profile.card_number
        assert prove_possession(app, KeyRole.AUTHENTICATION, pin=PIN).valid
        assert prove_possession(app, KeyRole.SIGNATURE, pin=PIN).valid


def test_wrong_pin_over_pcsc_and_disconnect_resets(vpcd_card: SimulatedPivCard) -> None:
    with pcsc.connect(READER) as conn:
        app = open_application(conn)
        with pytest.raises(InvalidPin) as exc:
            app.verify_pin("000000")
        assert exc.value.attempts_left == 2
        app.verify_pin(PIN)
    assert not vpcd_card.pin_verified  # we disconnect with SCARD_RESET_CARD


def test_card_pulled_mid_session_is_card_removed(vpcd_card: SimulatedPivCard, request: pytest.FixtureRequest) -> None:
    with pcsc.connect(READER) as conn:
        app = open_application(conn)
        request.node.vpcd_bridge.remove()  # closing vpcd's socket is pulling the card
        with pytest.raises(CardRemoved):
            app.read_certificates()
        with pytest.raises(CardRemoved):
            conn.send_and_receive(bytes.fromhex("00CB3FFF055C035FC10200"))


def test_connect_by_part_of_the_reader_name(vpcd_card: SimulatedPivCard) -> None:
    """An exact name connects without listing readers; a part of a name (any case) is looked up."""
    with pcsc.connect(READER.upper()[:11]) as conn:  # "VIRTUAL PCD"
        assert conn.reader == READER
        assert conn.atr == vpcd_card.atr


def test_one_bound_for_a_whole_card_operation(vpcd_card: SimulatedPivCard) -> None:
    """`run(operation)` bounds the operation as a whole: APDUs that are each quick but together take longer
    than the timeout give CardTimeout, and the connection is refused afterwards instead of being reused
    with answers still in flight."""
    from hardware.errors import CardTimeout

    apdu = bytes.fromhex("00CB3FFF055C035FC10200")
    with pcsc.connect(READER, timeout=0.3) as conn:

        def slow_operation() -> None:
            for _ in range(4):
                conn.send_and_receive(apdu)
                time.sleep(0.1)

        started = time.monotonic()
        with pytest.raises(CardTimeout):
            conn.run(slow_operation)
        assert time.monotonic() - started < 0.6
        with pytest.raises(CardTimeout):
            conn.send_and_receive(apdu)


def test_no_card_and_unknown_reader(vpcd_reader: str) -> None:
    with pytest.raises(NoReader):
        pcsc.connect("No Such Reader 42")
    with pytest.raises(NoCard):
        pcsc.connect(vpcd_reader)  # free: the fixture checked it holds no card
    assert not pcsc.wait_for_card(vpcd_reader, 0.2)


def test_card_monitor_reports_insert_and_remove(profiles: dict[str, CardProfile], vpcd_reader: str) -> None:
    from hardware.simulator import VpcdBridge

    inserted, removed = threading.Event(), threading.Event()

    def on_insert(reader: str, atr: bytes) -> None:
        if reader == READER:
            inserted.set()

    def on_remove(reader: str, atr: bytes) -> None:
        if reader == READER:
            removed.set()

    with pcsc.CardMonitorEvents(on_insert, on_remove):
        time.sleep(0.5)  # let pyscard's monitor thread take its first look at the readers
        with VpcdBridge(SimulatedPivCard(profiles["p256"])):
            assert inserted.wait(5), "no insert event"
        assert removed.wait(5), "no remove event"


def test_apdu_round_trip_is_fast(vpcd_card: SimulatedPivCard) -> None:
    """Guards the TCP_NODELAY/QUICKACK fix: without it every APDU costs ~40-48 ms."""
    with pcsc.connect(READER) as conn:
        apdu = bytes.fromhex("00CB3FFF055C035FC10200")
        conn.send_and_receive(apdu)
        n = 50
        start = time.perf_counter()
        for _ in range(n):
            conn.send_and_receive(apdu)
        per_apdu = (time.perf_counter() - start) / n
    assert per_apdu < 0.010, f"{per_apdu * 1000:.1f} ms per APDU"


def test_opensc_lists_and_reads_certificates(vpcd_card: SimulatedPivCard) -> None:
    listed = run("pkcs15-tool", "-r", READER, "--list-certificates")
    assert listed.returncode == 0, listed.stderr
    assert "Certificate for PIV Authentication" in listed.stdout and "ID             : 01" in listed.stdout
    assert "Certificate for Digital Signature" in listed.stdout and "ID             : 02" in listed.stdout
    read = run("pkcs15-tool", "-r", READER, "--read-certificate", "01")
    assert read.returncode == 0, read.stderr
    cert = x509.load_pem_x509_certificate(read.stdout.encode())
    assert hsa_id_of(cert) == HSA_ID and card_number_of(cert) == vpcd_card.profile.card_number


def test_opensc_pkcs11_test_suite_rsa(vpcd_card: SimulatedPivCard) -> None:
    """`pkcs11-tool --test`: digests, RSA signatures/verify (9A, 9C with context login), decryption, RNG."""
    if not Path(PKCS11_MODULE).exists():
        pytest.skip("opensc-pkcs11.so not installed")
    result = run("pkcs11-tool", "--module", PKCS11_MODULE, "--login", "--pin", PIN, "--test", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors" in result.stdout, result.stdout


@pytest.mark.parametrize("vpcd_card", ["p256", "p384"], indirect=True)
def test_opensc_pkcs11_ecdsa_sign(vpcd_card: SimulatedPivCard, tmp_path: Path) -> None:
    """--test signs with RSA only, so ECDSA is checked by a narrower sign + verify in Python."""
    if not Path(PKCS11_MODULE).exists():
        pytest.skip("opensc-pkcs11.so not installed")
    data = tmp_path / "data.bin"
    sig = tmp_path / "sig.bin"
    data.write_bytes(b"challenge from the desk")
    result = run("pkcs11-tool", "--module", PKCS11_MODULE, "--login", "--pin", PIN, "--sign", "--id", "01",
                 "--mechanism", "ECDSA-SHA256", "-i", str(data), "-o", str(sig))
    assert result.returncode == 0, result.stdout + result.stderr
    raw = sig.read_bytes()  # PKCS#11 ECDSA: r || s
    half = len(raw) // 2
    der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    cert = vpcd_card.profile.slots[0x9A].certificate()
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert signature_is_valid(cert, data.read_bytes(), der, hashes.SHA256())


def test_yubico_piv_tool_status_shows_certificates(vpcd_card: SimulatedPivCard) -> None:
    result = run("yubico-piv-tool", "-r", READER, "-a", "status")
    assert result.returncode == 0, result.stderr
    assert "Slot 9a:" in result.stdout and "Slot 9c:" in result.stdout
    assert f"serialNumber={HSA_ID}" in result.stdout
    assert "TEST SITHS e-id Person HSA-id 3 CA v1" in result.stdout
    assert "PIN tries left:\t3" in result.stdout
    verify = run("yubico-piv-tool", "-r", READER, "-a", "verify-pin", "-P", PIN)
    assert verify.returncode == 0, verify.stderr
