"""A card that lies, truncates or vanishes must give a typed HardwareError, never a crash."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from hardware import tlv
from hardware.apdu import split_response
from hardware.connection import CardConnection
from hardware.errors import CardRemoved, HardwareError, MalformedResponse
from hardware.profiles import KeyRole, PossessionProof, open_application, prove_possession
from hardware.simulator import CardProfile, SimulatedPivCard

PIN = "123456"
Mutation = Callable[[bytes], bytes]  # raw response APDU (data + SW) -> what the hostile card sends


def full_read(conn: CardConnection) -> PossessionProof:
    """Everything the desk does with a card: select, certificates, card number, PIN, signature."""
    app = open_application(conn)
    app.read_certificates()
    app.read_card_number()
    return prove_possession(app, KeyRole.AUTHENTICATION, pin=PIN)


class Hostile(CardConnection):
    """Wraps the simulator and corrupts the response to APDU number `at` (or every one if None)."""

    def __init__(self, card: SimulatedPivCard, mutation: Mutation, at: int | None = None) -> None:
        self.card = card
        self.mutation = mutation
        self.at = at
        self.count = 0

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        raw = self.card.process(apdu)
        if self.at is None or self.count == self.at:
            raw = self.mutation(raw)
        self.count += 1
        return split_response(raw)


def _truncate(raw: bytes) -> bytes:
    data = raw[:-2]
    return data[: len(data) // 2] + raw[-2:] if data else raw


def _lie_about_length(raw: bytes) -> bytes:
    data = bytearray(raw[:-2])
    if len(data) >= 2:
        data[1] = 0x84 if data[1] >= 0x80 else min(0x7F, data[1] + 5)  # bigger claim than is present
    return bytes(data) + raw[-2:]


def _garbage(raw: bytes) -> bytes:
    rng = random.Random(len(raw))
    return bytes(rng.randrange(256) for _ in range(max(0, len(raw) - 2))) + raw[-2:]


MUTATIONS: dict[str, Mutation] = {
    "truncated": _truncate,
    "lying_length": _lie_about_length,
    "garbage": _garbage,
    "sw_6f00": lambda raw: b"\x6f\x00",
    "empty": lambda raw: b"",
    "one_byte": lambda raw: b"\x90",
    "data_dropped": lambda raw: raw[-2:],
    "endless_61xx": lambda raw: raw[:-2] + b"\x61\x00",
    "bogus_warning": lambda raw: raw[:-2] + b"\x62\x83",
}


def _apdu_count(profile: CardProfile) -> int:
    card = SimulatedPivCard(profile)
    assert full_read(card).valid
    return card.apdu_count


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_every_response_corrupted_gives_typed_error(profiles: dict[str, CardProfile], name: str) -> None:
    with pytest.raises(HardwareError):
        full_read(Hostile(SimulatedPivCard(profiles["p256"]), MUTATIONS[name]))


@pytest.mark.parametrize("key_type", ["p256", "rsa2048", "compressed"])
@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_one_corrupted_response_at_each_position(profiles: dict[str, CardProfile], key_type: str, name: str) -> None:
    """Corrupt only response k, for every k: the flow either copes or raises a HardwareError."""
    total = _apdu_count(profiles[key_type])
    for k in range(total):
        try:
            proof = full_read(Hostile(SimulatedPivCard(profiles[key_type]), MUTATIONS[name], at=k))
        except HardwareError:
            continue
        # Surviving is fine (e.g. garbage inside a signature), but then the proof must say so.
        if name in ("garbage", "truncated") and proof.signature:
            assert isinstance(proof.valid, bool)


def test_corrupted_certificate_inside_valid_tlv(profiles: dict[str, CardProfile]) -> None:
    card = SimulatedPivCard(profiles["p256"])
    card._objects[0x5FC105] = tlv.encode_all([(0x70, b"\x30\x03\x02\x01\x00"), (0x71, b"\x00")])
    with pytest.raises(MalformedResponse):
        full_read(card)


def test_gzip_flag_on_plain_data(profiles: dict[str, CardProfile]) -> None:
    card = SimulatedPivCard(profiles["p256"])
    card._objects[0x5FC105] = tlv.encode_all([(0x70, b"not gzip at all"), (0x71, b"\x01")])
    with pytest.raises(MalformedResponse):
        full_read(card)


def test_gzip_bomb_is_bounded(profiles: dict[str, CardProfile]) -> None:
    import gzip

    card = SimulatedPivCard(profiles["p256"])
    card._objects[0x5FC105] = tlv.encode_all([(0x70, gzip.compress(b"\x00" * 50_000_000)), (0x71, b"\x01")])
    with pytest.raises(MalformedResponse):
        full_read(card)


class Removing(CardConnection):
    """Pulls the card out just before APDU number `at`."""

    def __init__(self, card: SimulatedPivCard, at: int) -> None:
        self.card = card
        self.at = at
        self.count = 0

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        if self.count == self.at:
            self.card.remove()
        self.count += 1
        return self.card.send_and_receive(apdu)


@pytest.mark.parametrize("key_type", ["p256", "rsa2048"])
def test_card_removed_at_every_apdu(profiles: dict[str, CardProfile], key_type: str) -> None:
    total = _apdu_count(profiles[key_type])
    assert total >= 8
    for k in range(total):
        card = SimulatedPivCard(profiles[key_type])
        with pytest.raises(CardRemoved):
            full_read(Removing(card, k))
    assert full_read(Removing(SimulatedPivCard(profiles[key_type]), total)).valid
