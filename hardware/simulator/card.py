"""A simulated PIV card (SP 800-73-4 Part 2) that is also a CardConnection for in-process tests.

What it does like a real card, because clients depend on it: partial-AID SELECT, 6A82 for unknown
AIDs and missing objects, 61xx + GET RESPONSE past 256 bytes (or Ne), command chaining (CLA 0x10),
a PIN retry counter with 63Cx/6983 that survives reset while the verified state does not,
PIN-always for the signature key (9C), 6982 for key use without PIN, 6D00 for unknown INS.
"""

from __future__ import annotations

import os
import threading

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding

from hardware import tlv
from hardware.apdu import (
    CLA_CHAINING,
    INS_CHANGE_REFERENCE,
    INS_GENERAL_AUTHENTICATE,
    INS_GET_DATA,
    INS_GET_RESPONSE,
    INS_RESET_RETRY,
    INS_SELECT,
    INS_VERIFY,
    SW_AUTH_METHOD_BLOCKED,
    SW_CLA_NOT_SUPPORTED,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_FILE_NOT_FOUND,
    SW_INCORRECT_DATA,
    SW_INCORRECT_P1P2,
    SW_INS_NOT_SUPPORTED,
    SW_OK,
    SW_REFERENCE_NOT_FOUND,
    SW_SECURITY_STATUS_NOT_SATISFIED,
    SW_WRONG_LENGTH,
    ApduFormatError,
    CommandApdu,
    parse_command,
    split_response,
    sw_bytes,
)
from hardware.connection import CardConnection
from hardware.errors import CardRemoved, HardwareError
from hardware.piv_data import (
    CERT_OBJECTS,
    KEY_REF_PIN,
    KEY_REF_PUK,
    NIST_RID,
    OBJ_CHUID,
    OBJ_PRINTED_INFO,
    PIV_AID,
    PIV_PIX,
    TAG_APT,
    TAG_AUTH_CHALLENGE,
    TAG_AUTH_EXPONENTIATION,
    TAG_AUTH_RESPONSE,
    TAG_DISCOVERY,
    TAG_DYN_AUTH,
    TAG_OBJ_DATA,
    TAG_OBJ_ID,
    Algorithm,
    encode_certificate_object,
)
from hardware.simulator.profile import CardProfile, PrivateKey

KEY_REF_CARD_MANAGEMENT = 0x9B


class _Reply(Exception):
    """Internal: abort command processing with a status word."""

    def __init__(self, sw: int) -> None:
        self.sw = sw


def _pad_check(ref: bytes) -> str:
    """Decode 8-byte FF-padded reference data; 6A80 unless it is 1-8 ASCII chars then FFs."""
    if len(ref) != 8:
        raise _Reply(SW_INCORRECT_DATA)
    value = ref.rstrip(b"\xff")
    if not value or b"\xff" in value or not value.isascii():
        raise _Reply(SW_INCORRECT_DATA)
    return value.decode()


def _algorithm_of(key: PrivateKey) -> Algorithm:
    if isinstance(key, rsa.RSAPrivateKey):
        return Algorithm.RSA_2048 if key.key_size == 2048 else Algorithm.RSA_1024
    return Algorithm.ECC_P384 if key.curve.key_size == 384 else Algorithm.ECC_P256


class SimulatedPivCard(CardConnection):
    """The card's state machine. `process(apdu)` returns a full response APDU (data + SW)."""

    def __init__(self, profile: CardProfile) -> None:
        self.profile = profile
        self._lock = threading.RLock()
        self._keys = {ref: slot.private_key() for ref, slot in profile.slots.items()}
        self._objects: dict[int, bytes] = {OBJ_CHUID: profile.chuid.encode()}
        for ref, slot in profile.slots.items():
            if ref in CERT_OBJECTS:
                der = slot.certificate().public_bytes(Encoding.DER)
                self._objects[CERT_OBJECTS[ref]] = encode_certificate_object(der, slot.compress)  # type: ignore[index]
        if profile.card_number:  # Printed Information: tag 05 "Agency Card Serial Number" (PIN-protected)
            self._objects[OBJ_PRINTED_INFO] = tlv.encode_all([(0x05, profile.card_number.encode()[:20]),
                                                              (0xFE, b"")])
        self._pin = profile.pin
        self._puk = profile.puk
        self.pin_tries_left = profile.pin_tries
        self.puk_tries_left = profile.puk_tries
        self.removed = False
        self.apdu_count = 0
        self._power_up()

    # --- power ---------------------------------------------------------------------------------
    def _power_up(self) -> None:
        """Volatile state after power-on or reset: nothing verified, PIV selected (default app)."""
        self.pin_verified = False
        self._pin_always = False  # 9C needs a VERIFY right before each use
        self.selected = True
        self._pending = b""
        self._chain: tuple[int, int, int, bytes] | None = None

    def power_on(self) -> None:
        with self._lock:
            self._power_up()

    reset = power_on

    def power_off(self) -> None:
        with self._lock:
            self._power_up()
            self.selected = False

    def remove(self) -> None:
        """Take the card out: further APDUs raise CardRemoved until `insert()`."""
        with self._lock:
            self.removed = True
            self.power_off()

    def insert(self) -> None:
        with self._lock:
            self.removed = False
            self._power_up()

    @property
    def atr(self) -> bytes:
        return self.profile.atr

    # --- CardConnection ------------------------------------------------------------------------
    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        if self.removed:
            raise CardRemoved()
        return split_response(self.process(apdu))

    def process(self, raw: bytes) -> bytes:
        with self._lock:
            self.apdu_count += 1
            try:
                cmd = parse_command(raw)
            except ApduFormatError:
                return sw_bytes(SW_WRONG_LENGTH)
            try:
                return self._dispatch(cmd)
            except _Reply as reply:
                return sw_bytes(reply.sw)
            except HardwareError:
                raise
            except Exception:  # a simulator bug must look like a card error, not kill the bridge
                return sw_bytes(0x6F00)

    def _dispatch(self, cmd: CommandApdu) -> bytes:
        if cmd.cla & ~(CLA_CHAINING | 0x03) & 0xFF:
            raise _Reply(SW_CLA_NOT_SUPPORTED)
        if cmd.ins == INS_GET_RESPONSE:
            return self._get_response(cmd)
        self._pending = b""
        # Command chaining: collect the data; the last command (no 0x10) runs with all of it.
        if cmd.cla & CLA_CHAINING:
            key = (cmd.ins, cmd.p1, cmd.p2)
            prior = self._chain[3] if self._chain and self._chain[:3] == key else b""
            self._chain = (*key, prior + cmd.data)
            return sw_bytes(SW_OK)
        if self._chain is not None:
            if self._chain[:3] == (cmd.ins, cmd.p1, cmd.p2):
                cmd = cmd.with_data(self._chain[3] + cmd.data, cmd.ne)
            self._chain = None
        if cmd.ins == INS_SELECT:
            return self._respond(self._select(cmd), cmd)
        if not self.selected:
            raise _Reply(SW_INS_NOT_SUPPORTED)
        handlers = {INS_GET_DATA: self._get_data, INS_VERIFY: self._verify,
                    INS_CHANGE_REFERENCE: self._change_reference, INS_RESET_RETRY: self._reset_retry,
                    INS_GENERAL_AUTHENTICATE: self._general_authenticate}
        handler = handlers.get(cmd.ins)
        if handler is None:
            raise _Reply(SW_INS_NOT_SUPPORTED)
        return self._respond(handler(cmd), cmd)

    def _respond(self, data: bytes, cmd: CommandApdu) -> bytes:
        """Send at most Ne bytes (256 for a short APDU); the rest waits for GET RESPONSE."""
        limit = cmd.ne or (65536 if cmd.extended else 256)
        if not cmd.extended:
            limit = min(limit, 256)
        if len(data) <= limit:
            return data + sw_bytes(SW_OK)
        self._pending = data[limit:]
        return data[:limit] + bytes([0x61, len(self._pending) if len(self._pending) < 256 else 0])

    def _get_response(self, cmd: CommandApdu) -> bytes:
        if cmd.p1 or cmd.p2:
            raise _Reply(SW_INCORRECT_P1P2)
        if not self._pending:
            raise _Reply(SW_CONDITIONS_NOT_SATISFIED)
        data, self._pending = self._pending, b""
        return self._respond(data, cmd)

    # --- SELECT ---------------------------------------------------------------------------------
    def _select(self, cmd: CommandApdu) -> bytes:
        if cmd.p1 != 0x04:
            raise _Reply(SW_FILE_NOT_FOUND)  # only selection by DF name (AID) exists on this card
        if len(cmd.data) < len(NIST_RID) or not PIV_AID.startswith(cmd.data):
            raise _Reply(SW_FILE_NOT_FOUND)  # selection stays where it was
        self.selected = True
        # (Re)selection starts a fresh application session, as Java Card PIV applets and YubiKeys
        # do; ykpiv relies on it to read the PIN retry counter.
        self.pin_verified = self._pin_always = False
        if cmd.p2 & 0x0C == 0x0C:  # "no response data requested"
            return b""
        algorithms = b"".join(tlv.encode_tlv(0x80, bytes([a])) for a in Algorithm) + tlv.encode_tlv(0x06, b"\x00")
        return tlv.encode_tlv(TAG_APT, tlv.encode_all([
            (0x4F, PIV_PIX),
            (0x79, tlv.encode_tlv(0x4F, NIST_RID)),
            (0x50, b"cardadmin PIV simulator"),
            (0xAC, algorithms),
        ]))

    # --- GET DATA -------------------------------------------------------------------------------
    def _get_data(self, cmd: CommandApdu) -> bytes:
        if (cmd.p1, cmd.p2) != (0x3F, 0xFF):
            raise _Reply(SW_INCORRECT_P1P2)
        try:
            tag_bytes = tlv.unwrap(cmd.data, TAG_OBJ_ID)
        except HardwareError:
            raise _Reply(SW_INCORRECT_DATA) from None
        object_id = int.from_bytes(tag_bytes, "big")
        if object_id == TAG_DISCOVERY:  # Part 1 3.3.2: PIN usage policy 40 00 = PIV PIN only
            return tlv.encode_tlv(TAG_DISCOVERY, tlv.encode_all([(0x4F, PIV_AID), (0x5F2F, b"\x40\x00")]))
        if object_id not in self._objects:
            raise _Reply(SW_FILE_NOT_FOUND)
        if object_id == OBJ_PRINTED_INFO and not self.pin_verified:
            raise _Reply(SW_SECURITY_STATUS_NOT_SATISFIED)
        return tlv.encode_tlv(TAG_OBJ_DATA, self._objects[object_id])

    # --- PIN commands ------------------------------------------------------------------------------
    def _check_pin(self, candidate: str) -> None:
        if self.pin_tries_left == 0:
            raise _Reply(SW_AUTH_METHOD_BLOCKED)
        if candidate != self._pin:
            self.pin_tries_left -= 1
            self.pin_verified = self._pin_always = False
            raise _Reply(0x63C0 | self.pin_tries_left)
        self.pin_tries_left = self.profile.pin_tries
        self.pin_verified = self._pin_always = True

    def _verify(self, cmd: CommandApdu) -> bytes:
        if cmd.p2 != KEY_REF_PIN:
            raise _Reply(SW_REFERENCE_NOT_FOUND)
        if cmd.p1 == 0xFF and not cmd.data:
            self.pin_verified = self._pin_always = False
            return b""
        if cmd.p1 != 0x00:
            raise _Reply(SW_INCORRECT_P1P2)
        if not cmd.data:  # status query
            if self.pin_tries_left == 0:
                raise _Reply(SW_AUTH_METHOD_BLOCKED)
            if self.pin_verified:
                return b""
            raise _Reply(0x63C0 | self.pin_tries_left)
        self._check_pin(_pad_check(cmd.data))
        return b""

    def _change_reference(self, cmd: CommandApdu) -> bytes:
        if cmd.p1 != 0x00 or cmd.p2 not in (KEY_REF_PIN, KEY_REF_PUK):
            raise _Reply(SW_INCORRECT_P1P2 if cmd.p1 else SW_REFERENCE_NOT_FOUND)
        if len(cmd.data) != 16:
            raise _Reply(SW_INCORRECT_DATA)
        old, new = _pad_check(cmd.data[:8]), _pad_check(cmd.data[8:])
        if cmd.p2 == KEY_REF_PIN:
            self._check_pin(old)
            self._pin = new
        else:
            self._check_puk(old)
            self._puk = new
        return b""

    def _check_puk(self, candidate: str) -> None:
        if self.puk_tries_left == 0:
            raise _Reply(SW_AUTH_METHOD_BLOCKED)
        if candidate != self._puk:
            self.puk_tries_left -= 1
            raise _Reply(0x63C0 | self.puk_tries_left)
        self.puk_tries_left = self.profile.puk_tries

    def _reset_retry(self, cmd: CommandApdu) -> bytes:
        if (cmd.p1, cmd.p2) != (0x00, KEY_REF_PIN):
            raise _Reply(SW_INCORRECT_P1P2)
        if len(cmd.data) != 16:
            raise _Reply(SW_INCORRECT_DATA)
        puk, new = _pad_check(cmd.data[:8]), _pad_check(cmd.data[8:])
        self._check_puk(puk)
        self._pin = new
        self.pin_tries_left = self.profile.pin_tries
        return b""

    # --- GENERAL AUTHENTICATE ----------------------------------------------------------------------
    def _general_authenticate(self, cmd: CommandApdu) -> bytes:
        if cmd.p2 == KEY_REF_CARD_MANAGEMENT:
            return self._management_challenge(cmd)
        key = self._keys.get(cmd.p2)
        if key is None:
            raise _Reply(SW_REFERENCE_NOT_FOUND)
        if cmd.p1 != _algorithm_of(key):
            raise _Reply(SW_INCORRECT_P1P2)
        try:
            fields = tlv.parse_dict(tlv.unwrap(cmd.data, TAG_DYN_AUTH))
        except HardwareError:
            raise _Reply(SW_INCORRECT_DATA) from None
        if fields.get(TAG_AUTH_RESPONSE) != b"":
            raise _Reply(SW_INCORRECT_DATA)
        # Access rules (Part 1 Table 4b): 9E always; 9C PIN-always; 9A/9D PIN once per session.
        if cmd.p2 == 0x9C and not self._pin_always:
            raise _Reply(SW_SECURITY_STATUS_NOT_SATISFIED)
        if cmd.p2 in (0x9A, 0x9D) and not self.pin_verified:
            raise _Reply(SW_SECURITY_STATUS_NOT_SATISFIED)
        if TAG_AUTH_CHALLENGE in fields:
            result = self._private_op(key, fields[TAG_AUTH_CHALLENGE])
        elif TAG_AUTH_EXPONENTIATION in fields and isinstance(key, ec.EllipticCurvePrivateKey):
            try:
                peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, fields[TAG_AUTH_EXPONENTIATION])
            except ValueError:
                raise _Reply(SW_INCORRECT_DATA) from None
            result = key.exchange(ec.ECDH(), peer)
        else:
            raise _Reply(SW_INCORRECT_DATA)
        if cmd.p2 == 0x9C:
            self._pin_always = False
        return tlv.encode_tlv(TAG_DYN_AUTH, tlv.encode_tlv(TAG_AUTH_RESPONSE, result))

    @staticmethod
    def _management_challenge(cmd: CommandApdu) -> bytes:
        """First step of external authentication with the card management key (Part 2 Appendix A):
        7C{81 00} -> 7C{81 random block}. OpenSC uses it as its random source (C_GenerateRandom).
        The card holds no management key, so any further step fails with 6A80."""
        block = {0x00: 8, 0x03: 8, 0x08: 16, 0x0A: 16, 0x0C: 16}.get(cmd.p1)
        if block is None:
            raise _Reply(SW_INCORRECT_P1P2)
        if cmd.data != tlv.encode_tlv(TAG_DYN_AUTH, tlv.encode_tlv(TAG_AUTH_CHALLENGE, b"")):
            raise _Reply(SW_INCORRECT_DATA)
        return tlv.encode_tlv(TAG_DYN_AUTH, tlv.encode_tlv(TAG_AUTH_CHALLENGE, os.urandom(block)))

    @staticmethod
    def _private_op(key: PrivateKey, challenge: bytes) -> bytes:
        if isinstance(key, rsa.RSAPrivateKey):
            size = key.key_size // 8
            n = key.private_numbers()
            m = int.from_bytes(challenge, "big")
            if len(challenge) != size or m >= n.public_numbers.n:
                raise _Reply(SW_INCORRECT_DATA)
            # Raw RSA with CRT (the card does no padding; the host built the block).
            s1, s2 = pow(m, n.dmp1, n.p), pow(m, n.dmq1, n.q)
            s = s2 + n.q * ((n.iqmp * (s1 - s2)) % n.p)
            return s.to_bytes(size, "big")
        field = (key.curve.key_size + 7) // 8
        if len(challenge) > field:
            raise _Reply(SW_INCORRECT_DATA)
        digest = challenge.rjust(field, b"\x00")
        algorithm = hashes.SHA384() if field == 48 else hashes.SHA256()
        return key.sign(digest, ec.ECDSA(Prehashed(algorithm)))

