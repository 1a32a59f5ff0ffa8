"""Fixtures for the hardware tests: card profiles (made once per session), fresh simulated cards,
and a simulated card inserted into the real pcscd through vpcd (tests marked `pcsc`)."""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Iterator

import pytest

from hardware.simulator import CardProfile, SimulatedPivCard, TestPki, VpcdBridge, make_profile

VPCD_HOST = os.environ.get("CARDADMIN_VPCD_HOST", "127.0.0.1")
VPCD_PORT = int(os.environ.get("CARDADMIN_VPCD_PORT", "35963"))
VPCD_READER = os.environ.get("CARDADMIN_VPCD_READER", "Virtual PCD 00 00")
HSA_ID = "TSTNMT2321000156-1019"
PIN = "123456"
PUK = "12345678"


@pytest.fixture(scope="session")
def pki() -> TestPki:
    return TestPki.create("p256")


@pytest.fixture(scope="session")
def profiles(pki: TestPki) -> dict[str, CardProfile]:
    """One profile per key type, plus a compressed-certificate one; keys are costly, make them once."""
    made = {kt: make_profile(key_type=kt, pki=pki, hsa_id=HSA_ID, pin=PIN, puk=PUK)
            for kt in ("rsa2048", "p256", "p384")}
    made["compressed"] = make_profile(key_type="p256", pki=pki, hsa_id=HSA_ID, compress=True)
    return made


@pytest.fixture(params=["rsa2048", "p256", "p384"])
def key_type(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def card(profiles: dict[str, CardProfile], key_type: str) -> SimulatedPivCard:
    """A freshly powered simulated card of each key type."""
    return SimulatedPivCard(profiles[key_type])


@pytest.fixture
def p256_card(profiles: dict[str, CardProfile]) -> SimulatedPivCard:
    return SimulatedPivCard(profiles["p256"])


def _pcsc_unavailable_reason() -> str | None:
    from hardware import pcsc
    from hardware.errors import HardwareError

    try:
        readers = pcsc.list_readers()
    except HardwareError as exc:
        return f"pcscd is not reachable ({exc})"
    if VPCD_READER not in readers:
        return f"reader {VPCD_READER!r} not present (readers: {readers}); is vsmartcard-vpcd installed?"
    if pcsc.reader_has_card(VPCD_READER):
        return f"reader {VPCD_READER!r} already holds a card (another simulator running?)"
    return None


def _wait_card_state(reader: str, present: bool, timeout: float = 5.0) -> None:
    from hardware import pcsc

    deadline = time.monotonic() + timeout
    while pcsc.reader_has_card(reader) != present:
        if time.monotonic() > deadline:
            raise TimeoutError(f"card {'never appeared in' if present else 'never left'} {reader}")
        time.sleep(0.02)


@pytest.fixture
def vpcd_reader() -> Iterator[str]:
    """The free vpcd reader's name. Skips when pcscd or the reader is absent (or the reader already
    holds a card), unless CARDADMIN_REQUIRE_PCSC=1: then the test fails instead.

    Holds a file lock for the test, so pytest-xdist workers take turns with the one reader."""
    lock_path = os.path.join(tempfile.gettempdir(), f"cardadmin-vpcd-{VPCD_PORT}.lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        reason = _pcsc_unavailable_reason()
        if reason:
            if os.environ.get("CARDADMIN_REQUIRE_PCSC") == "1":
                pytest.fail(f"CARDADMIN_REQUIRE_PCSC=1 but {reason}")
            pytest.skip(reason)
        yield VPCD_READER


@pytest.fixture
def vpcd_card(
    profiles: dict[str, CardProfile], vpcd_reader: str, request: pytest.FixtureRequest
) -> Iterator[SimulatedPivCard]:
    """The RSA simulated card inserted into the vpcd reader (via the bridge); removed at teardown.
    Parametrise indirectly with a key type ("p256", "p384") to get another card."""
    key_type = getattr(request, "param", "rsa2048")
    card = SimulatedPivCard(profiles[key_type])
    bridge = VpcdBridge(card, VPCD_HOST, VPCD_PORT)
    bridge.insert()
    request.node.vpcd_bridge = bridge  # for tests that pull the card themselves
    try:
        _wait_card_state(VPCD_READER, True)
        yield card
    finally:
        bridge.remove()
        _wait_card_state(VPCD_READER, False)
