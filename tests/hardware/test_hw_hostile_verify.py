"""Faults and hostile cards against the whole verification policy, in-process and through real pcscd:
whatever the card does (vanishes before any APDU, answers garbage, falls silent), `verify_connection`
returns a result whose failed check names the cause, within a bounded time; it never raises or hangs."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest

from hardware import pcsc
from hardware.apdu import split_response
from hardware.connection import CardConnection
from hardware.errors import CardRemoved, CardTimeout, HardwareError
from hardware.simulator import CardProfile, SimulatedPivCard, TestPki, VpcdBridge
from hardware.verify import CHECK_ORDER, VerificationResult
from tests.hardware.conftest import VPCD_HOST, VPCD_PORT, _wait_card_state
from tests.hardware.test_hw_hostile_card import MUTATIONS
from tests.hardware.test_hw_verify import run

BOUND_SECONDS = 5.0  # what a korthandläggare may wait for a named failure


class _Mutating(CardConnection):
    def __init__(self, card: SimulatedPivCard, mutate: object, at: int | None) -> None:
        self.card, self.mutate, self.at, self.sent = card, mutate, at, 0

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        raw = self.card.process(apdu)
        if self.at is None or self.sent == self.at:
            raw = self.mutate(raw)  # type: ignore[operator]
        self.sent += 1
        return split_response(raw)


def _named_failure_or_ok(result: VerificationResult) -> None:
    assert [c.name for c in result.checks] == list(CHECK_ORDER)
    if not result.ok:
        assert result.failed and all(c.reason for c in result.failed)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_garbage_at_every_position_gives_a_result_naming_the_failure(pki: TestPki, profiles: dict[str, CardProfile],
                                                                     name: str) -> None:
    profile = profiles["p256"]
    total = SimulatedPivCard(profile)
    assert run(total, pki, profile).ok
    for k in range(total.apdu_count):
        started = time.monotonic()
        result = run(_Mutating(SimulatedPivCard(profile), MUTATIONS[name], k), pki, profile)
        assert time.monotonic() - started < BOUND_SECONDS
        _named_failure_or_ok(result)
        if result.error is not None:
            assert not result.ok and isinstance(result.error, HardwareError)


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")  # negative serials
def test_fuzzed_answers_never_crash_the_policy(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    """Random byte flips, truncations and extensions of random answers, seeded so a failure replays."""
    rng = random.Random(5)
    profile = profiles["p256"]

    def fuzz(raw: bytes) -> bytes:
        data = bytearray(raw)
        action = rng.randrange(3)
        if action == 0 and data:
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif action == 1:
            del data[rng.randrange(len(data) + 1):]
        else:
            data[rng.randrange(len(data) + 1):0] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        return bytes(data)

    outcomes = set()
    for _ in range(400):
        result = run(_Mutating(SimulatedPivCard(profile), fuzz, rng.randrange(12)), pki, profile)
        _named_failure_or_ok(result)
        outcomes.add(result.ok)
    assert outcomes == {True, False}  # the fuzzing both broke cards and left some intact


# ---------------------------------------------------------------- through real pcscd + vpcd


class _Silent(SimulatedPivCard):
    """A card that stops answering at APDU `at` until released."""

    def __init__(self, profile: CardProfile, at: int) -> None:
        super().__init__(profile)
        self.at = at
        self.release = threading.Event()

    def process(self, raw: bytes) -> bytes:
        if self.apdu_count == self.at:
            self.release.wait(30)
        return super().process(raw)


@pytest.fixture
def reader(vpcd_reader: str) -> Iterator[str]:
    yield vpcd_reader


def _insert(card: SimulatedPivCard, reader: str) -> VpcdBridge:
    bridge = VpcdBridge(card, VPCD_HOST, VPCD_PORT)
    bridge.insert()
    _wait_card_state(reader, True)
    return bridge


@pytest.mark.pcsc
def test_card_pulled_at_every_apdu_through_pcscd(pki: TestPki, profiles: dict[str, CardProfile], reader: str) -> None:
    profile = profiles["p256"]

    class PullAt(CardConnection):
        def __init__(self, inner: pcsc.PcscConnection, bridge: VpcdBridge, k: int) -> None:
            self.inner, self.bridge, self.k, self.sent = inner, bridge, k, 0

        def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
            if self.sent == self.k:
                self.bridge.remove()
            self.sent += 1
            return self.inner.send_and_receive(apdu)

    bridge = _insert(SimulatedPivCard(profile), reader)
    with pcsc.connect(reader) as conn:
        counting = PullAt(conn, bridge, -1)
        assert run(counting, pki, profile, reader=reader).ok
    bridge.remove()
    _wait_card_state(reader, False)
    for k in range(counting.sent):
        bridge = _insert(SimulatedPivCard(profile), reader)
        try:
            with pcsc.connect(reader) as conn:
                started = time.monotonic()
                result = run(PullAt(conn, bridge, k), pki, profile, reader=reader)
                assert time.monotonic() - started < BOUND_SECONDS, k
        finally:
            bridge.remove()
            _wait_card_state(reader, False)
        assert not result.ok and isinstance(result.error, CardRemoved), (k, result.error)
        assert any("CardRemoved" in c.reason for c in result.checks if c.passed is False), k


@pytest.mark.pcsc
def test_silent_card_is_a_timeout_within_the_bound(pki: TestPki, profiles: dict[str, CardProfile],
                                                   reader: str) -> None:
    profile = profiles["p256"]
    card = _Silent(profile, at=4)
    bridge = _insert(card, reader)
    try:
        conn = pcsc.connect(reader, timeout=1.0)
        started = time.monotonic()
        result = run(conn, pki, profile, reader=reader)
        elapsed = time.monotonic() - started
        assert elapsed < BOUND_SECONDS
        assert not result.ok and isinstance(result.error, CardTimeout)
        assert any("CardTimeout" in c.reason for c in result.checks if c.passed is False)
        started = time.monotonic()
        conn.close()  # the card is still silent: closing must not wait for it
        assert time.monotonic() - started < 1.0
    finally:
        card.release.set()
        conn.close()
        bridge.remove()
        _wait_card_state(reader, False)
    # The reader is usable again afterwards.
    bridge = _insert(SimulatedPivCard(profile), reader)
    try:
        with pcsc.connect(reader) as again:
            assert run(again, pki, profile, reader=reader).ok
    finally:
        bridge.remove()
        _wait_card_state(reader, False)
