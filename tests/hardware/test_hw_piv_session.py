"""Every PivSession / PivApplication operation against the in-process simulated card."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from hardware.apdu import CommandApdu
from hardware.certs import card_number_of, hsa_id_of, signature_is_valid
from hardware.connection import TracingConnection, transceive
from hardware.errors import ApduError, CardRejected, InvalidPin, PinBlocked
from hardware.piv import PivSession
from hardware.piv_data import Slot
from hardware.profiles import KeyRole, PivApplication, open_application, prove_possession
from hardware.simulator import CardProfile, SimulatedPivCard

HSA_ID = "TSTNMT2321000156-1019"  # as in conftest.py
PIN = "123456"
PUK = "12345678"


def test_select_returns_application_properties(card: SimulatedPivCard) -> None:
    session = PivSession(card)
    assert session.application_properties.startswith(bytes.fromhex("4F06000010000100"))


def test_partial_aid_select_and_unknown_aid(p256_card: SimulatedPivCard) -> None:
    data, sw = transceive(p256_card, CommandApdu(0, 0xA4, 0x04, 0, bytes.fromhex("A000000308"), ne=256))
    assert sw == 0x9000 and data[0] == 0x61
    _, sw = transceive(p256_card, CommandApdu(0, 0xA4, 0x04, 0, bytes.fromhex("A000000527200101"), ne=256))
    assert sw == 0x6A82


def test_unknown_instruction_and_class(p256_card: SimulatedPivCard) -> None:
    assert p256_card.send_and_receive(bytes.fromhex("00FD000000"))[1] == 0x6D00
    assert p256_card.send_and_receive(bytes.fromhex("80CB3FFF00"))[1] == 0x6E00


def test_read_chuid(card: SimulatedPivCard) -> None:
    chuid = PivSession(card).read_chuid()
    assert chuid is not None and chuid.guid == card.profile.chuid.guid and len(chuid.fascn) == 25


def test_read_certificates(card: SimulatedPivCard) -> None:
    certs = PivSession(card).read_certificates()
    assert set(certs) == {Slot.AUTHENTICATION, Slot.SIGNATURE}
    auth, sign = certs[Slot.AUTHENTICATION], certs[Slot.SIGNATURE]
    assert hsa_id_of(auth) == hsa_id_of(sign) == HSA_ID
    assert card_number_of(auth) == card_number_of(sign) == card.profile.card_number
    assert auth.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert sign.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment


def test_certificate_longer_than_256_bytes_uses_get_response(p256_card: SimulatedPivCard) -> None:
    sent: list[bytes] = []
    original = p256_card.send_and_receive

    def spy(apdu: bytes) -> tuple[bytes, int]:
        sent.append(apdu)
        return original(apdu)

    p256_card.send_and_receive = spy  # type: ignore[method-assign]
    assert PivSession(p256_card).read_certificate(Slot.AUTHENTICATION) is not None
    assert any(apdu[1] == 0xC0 for apdu in sent), "expected GET RESPONSE for a >256-byte object"


def test_compressed_certificate(profiles: dict[str, CardProfile]) -> None:
    card = SimulatedPivCard(profiles["compressed"])
    cert = PivSession(card).read_certificate(Slot.AUTHENTICATION)
    assert cert is not None and hsa_id_of(cert) == HSA_ID


def test_missing_slot_is_none(card: SimulatedPivCard) -> None:
    session = PivSession(card)
    assert session.read_certificate(Slot.KEY_MANAGEMENT) is None
    assert session.read_certificate(Slot.CARD_AUTH) is None
    assert session.get_data(0x5FC10C) is None


def test_printed_information_needs_pin(p256_card: SimulatedPivCard) -> None:
    session = PivSession(p256_card)
    with pytest.raises(CardRejected):
        session.get_data(0x5FC109)
    session.verify_pin(PIN)
    assert p256_card.profile.card_number.encode() in (session.get_data(0x5FC109) or b"")  # type: ignore[union-attr]


def test_verify_pin_counts_down_then_blocks(p256_card: SimulatedPivCard) -> None:
    session = PivSession(p256_card)
    assert session.pin_attempts_left() == 3
    for left in (2, 1):
        with pytest.raises(InvalidPin) as exc:
            session.verify_pin("000000")
        assert exc.value.attempts_left == left
    session.verify_pin(PIN)  # a right PIN restores the counter
    assert session.pin_attempts_left() is None  # verified
    for left in (2, 1, 0):
        with pytest.raises(InvalidPin if left else PinBlocked):
            session.verify_pin("000000")
    with pytest.raises(PinBlocked):
        session.verify_pin(PIN)
    with pytest.raises(PinBlocked):
        session.pin_attempts_left()


def test_unblock_and_change_pin(p256_card: SimulatedPivCard) -> None:
    session = PivSession(p256_card)
    for _ in range(3):
        with pytest.raises((InvalidPin, PinBlocked)):
            session.verify_pin("999999")
    with pytest.raises(InvalidPin) as exc:
        session.unblock_pin("00000000", "654321")
    assert exc.value.attempts_left == 2
    session.unblock_pin(PUK, "654321")
    session.verify_pin("654321")
    session.change_pin("654321", PIN)
    session.verify_pin(PIN)


def test_reset_clears_pin_state_but_not_counter(p256_card: SimulatedPivCard) -> None:
    session = PivSession(p256_card)
    with pytest.raises(InvalidPin):
        session.verify_pin("000000")
    session.verify_pin(PIN)
    with pytest.raises(InvalidPin):
        session.verify_pin("000000")  # counter now 2 after the reset-by-success
    session.verify_pin(PIN)
    p256_card.reset()
    # PIV is the default application, so no SELECT is needed (SELECT would clear the state itself).
    assert PivSession(p256_card, select=False).pin_attempts_left() == 3
    with pytest.raises(InvalidPin):
        session.verify_pin("000000")
    p256_card.power_off()
    p256_card.power_on()
    assert PivSession(p256_card, select=False).pin_attempts_left() == 2


def test_logout(p256_card: SimulatedPivCard) -> None:
    session = PivSession(p256_card)
    session.verify_pin(PIN)
    session.logout()
    assert session.pin_attempts_left() == 3


def test_sign_without_pin_is_refused(card: SimulatedPivCard) -> None:
    session = PivSession(card)
    cert = session.read_certificate(Slot.AUTHENTICATION)
    assert cert is not None
    with pytest.raises(CardRejected):
        session.sign(Slot.AUTHENTICATION, cert.public_key(), b"challenge")  # type: ignore[arg-type]


def test_sign_with_both_keys(card: SimulatedPivCard) -> None:
    session = PivSession(card)
    certs = session.read_certificates()
    session.verify_pin(PIN)
    for slot in (Slot.AUTHENTICATION, Slot.SIGNATURE):
        if slot == Slot.SIGNATURE:
            session.verify_pin(PIN)  # 9C is PIN-always
        sig = session.sign(slot, certs[slot].public_key(), b"hello card")  # type: ignore[arg-type]
        assert signature_is_valid(certs[slot], b"hello card", sig)
        assert not signature_is_valid(certs[slot], b"other text", sig)


def test_signature_key_is_pin_always(p256_card: SimulatedPivCard) -> None:
    session = PivSession(p256_card)
    key = session.read_certificate(Slot.SIGNATURE).public_key()  # type: ignore[union-attr]
    session.verify_pin(PIN)
    session.sign(Slot.SIGNATURE, key, b"one")  # type: ignore[arg-type]
    with pytest.raises(CardRejected):
        session.sign(Slot.SIGNATURE, key, b"two")  # type: ignore[arg-type]


def test_sign_with_sha512_on_rsa(profiles: dict[str, CardProfile]) -> None:
    card = SimulatedPivCard(profiles["rsa2048"])
    session = PivSession(card)
    cert = session.read_certificate(Slot.AUTHENTICATION)
    session.verify_pin(PIN)
    sig = session.sign(Slot.AUTHENTICATION, cert.public_key(), b"m", hashes.SHA512())  # type: ignore[arg-type, union-attr]
    assert signature_is_valid(cert, b"m", sig, hashes.SHA512())  # type: ignore[arg-type]


def test_general_authenticate_missing_key_and_wrong_algorithm(p256_card: SimulatedPivCard) -> None:
    session = PivSession(p256_card)
    session.verify_pin(PIN)
    with pytest.raises(ApduError) as exc:
        session.general_authenticate(0x9D, 0x11, b"\x00" * 32)  # type: ignore[arg-type]
    assert exc.value.sw == 0x6A88
    with pytest.raises(ApduError) as exc:
        session.general_authenticate(0x9A, 0x07, b"\x00" * 256)  # type: ignore[arg-type]
    assert exc.value.sw == 0x6A86


def test_piv_application_interface(card: SimulatedPivCard) -> None:
    app = open_application(card)
    assert isinstance(app, PivApplication)
    roles = {c.role: c.key_ref for c in app.read_certificates()}
    assert roles == {KeyRole.AUTHENTICATION: "9A", KeyRole.SIGNATURE: "9C"}
    assert app.read_card_number() == card.profile.card_number
    assert app.pin_attempts_left() == 3
    for role in (KeyRole.AUTHENTICATION, KeyRole.SIGNATURE):
        proof = prove_possession(app, role, pin=PIN)
        assert proof.valid and len(proof.challenge) == 32
    with pytest.raises(CardRejected):
        prove_possession(app, KeyRole.KEY_MANAGEMENT, pin=PIN)


def test_possession_fails_for_a_foreign_certificate(profiles: dict[str, CardProfile]) -> None:
    """A card whose key does not match its certificate (a cloned certificate) is caught."""
    import dataclasses

    good, other = profiles["p256"], profiles["compressed"]
    wrong_key = dataclasses.replace(good.slots[0x9A], key_pem=other.slots[0x9A].key_pem)
    forged = dataclasses.replace(good, slots={0x9A: wrong_key})
    app = open_application(SimulatedPivCard(forged))
    assert prove_possession(app, KeyRole.AUTHENTICATION, pin=PIN).valid is False


def test_wrong_pin_through_application(p256_card: SimulatedPivCard) -> None:
    app = open_application(p256_card)
    with pytest.raises(InvalidPin) as exc:
        prove_possession(app, KeyRole.AUTHENTICATION, pin="111111")
    assert exc.value.attempts_left == 2


def test_pin_format_is_checked_before_sending(p256_card: SimulatedPivCard) -> None:
    session = PivSession(p256_card)
    for bad in ("", "123456789", "åäö123"):
        with pytest.raises(ValueError):
            session.verify_pin(bad)
    assert session.pin_attempts_left() == 3


def test_trace_is_opt_in_and_redacts_pin(p256_card: SimulatedPivCard, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="hardware.apdu")
    session = PivSession(TracingConnection(p256_card))
    session.verify_pin(PIN)
    text = caplog.text
    assert "00 A4 04 00" in text and "redacted" in text
    assert PIN.encode().hex(" ").upper() not in text and PIN not in text


def test_command_chaining_accepted(profiles: dict[str, CardProfile]) -> None:
    """A 256-byte RSA block goes as two chained short APDUs (CLA 10 then 00)."""
    card = SimulatedPivCard(profiles["rsa2048"])
    sent: list[bytes] = []
    original = card.send_and_receive

    def spy(apdu: bytes) -> tuple[bytes, int]:
        sent.append(apdu)
        return original(apdu)

    card.send_and_receive = spy  # type: ignore[method-assign]
    app = open_application(card)
    assert prove_possession(app, KeyRole.AUTHENTICATION, pin=PIN).valid
    assert any(a[0] == 0x10 and a[1] == 0x87 for a in sent)


def test_extended_apdu_accepted(profiles: dict[str, CardProfile]) -> None:
    card = SimulatedPivCard(profiles["p256"])
    data, sw = transceive(card, CommandApdu(0, 0xCB, 0x3F, 0xFF, bytes.fromhex("5C035FC105"), ne=65536, extended=True))
    assert sw == 0x9000 and len(data) > 256
