"""PIV card application per NIST SP 800-73-4 Part 2: one documented method per card command.

`PivSession` speaks only to a `CardConnection`, so it runs unchanged over PC/SC, the in-process
simulator or a test double. PINs are never logged; they only ever exist in the VERIFY data field.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hardware import tlv
from hardware.apdu import (
    INS_CHANGE_REFERENCE,
    INS_GENERAL_AUTHENTICATE,
    INS_GET_DATA,
    INS_RESET_RETRY,
    INS_SELECT,
    INS_VERIFY,
    SW_AUTH_METHOD_BLOCKED,
    SW_FILE_NOT_FOUND,
    SW_OK,
    SW_SECURITY_STATUS_NOT_SATISFIED,
    CommandApdu,
)
from hardware.certs import signature_hash
from hardware.connection import CardConnection, transceive
from hardware.errors import ApduError, CardRejected, InvalidPin, MalformedResponse, PinBlocked
from hardware.piv_data import (
    KEY_REF_PIN,
    OBJ_CHUID,
    PIN_MAX_LEN,
    PIV_AID,
    TAG_APT,
    TAG_AUTH_CHALLENGE,
    TAG_AUTH_EXPONENTIATION,
    TAG_AUTH_RESPONSE,
    TAG_DISCOVERY,
    TAG_DYN_AUTH,
    TAG_OBJ_DATA,
    TAG_OBJ_ID,
    Algorithm,
    Chuid,
    Slot,
    decode_certificate_object,
)

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

# DER DigestInfo prefixes for PKCS#1 v1.5 (RFC 8017 9.2 note 1)
_DIGEST_INFO = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


def algorithm_for(public_key: PublicKey) -> Algorithm:
    if isinstance(public_key, rsa.RSAPublicKey):
        sizes = {1024: Algorithm.RSA_1024, 2048: Algorithm.RSA_2048}
        if public_key.key_size in sizes:
            return sizes[public_key.key_size]
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        curves = {"secp256r1": Algorithm.ECC_P256, "secp384r1": Algorithm.ECC_P384}
        if public_key.curve.name in curves:
            return curves[public_key.curve.name]
    raise CardRejected("the certificate's key type is not supported by PIV")


def pkcs1v15_block(digest: bytes, hash_name: str, key_bytes: int) -> bytes:
    """EMSA-PKCS1-v1_5 encoding: 00 01 FF.. 00 DigestInfo (the card only does the raw RSA step)."""
    info = _DIGEST_INFO[hash_name] + digest
    if key_bytes < len(info) + 11:
        raise ValueError("RSA key too small for this digest")
    return b"\x00\x01" + b"\xff" * (key_bytes - len(info) - 3) + b"\x00" + info


def encode_pin(pin: str) -> bytes:
    """PIV PIN/PUK reference data: ASCII, padded with FF to 8 bytes (Part 2 3.2.1)."""
    raw = pin.encode("ascii", errors="strict") if pin.isascii() else b""
    if not 1 <= len(raw) <= PIN_MAX_LEN:
        raise ValueError("a PIN must be 1 to 8 ASCII characters")
    return raw.ljust(PIN_MAX_LEN, b"\xff")


def _pin_status(sw: int) -> None:
    """Turn a VERIFY-family status word into InvalidPin / PinBlocked (or nothing for 9000)."""
    if sw == SW_OK:
        return
    if sw & 0xFFF0 == 0x63C0:
        if sw & 0x0F == 0:
            raise PinBlocked()
        raise InvalidPin(sw & 0x0F)
    if sw == 0x6300:
        raise InvalidPin(None)
    if sw == SW_AUTH_METHOD_BLOCKED:
        raise PinBlocked()
    raise ApduError(sw, "VERIFY")


class PivSession:
    """A PIV session on one card. SELECTs the PIV application on creation."""

    def __init__(self, connection: CardConnection, *, select: bool = True) -> None:
        self.connection = connection
        self.application_properties = b""
        if select:
            self.select()

    def _send(self, cmd: CommandApdu) -> tuple[bytes, int]:
        return transceive(self.connection, cmd)

    # --- SELECT (Part 2 3.1.1) ---------------------------------------------------------------
    def select(self) -> bytes:
        """Select the PIV application; return its application property template (tag 61 value)."""
        data, sw = self._send(CommandApdu(0x00, INS_SELECT, 0x04, 0x00, PIV_AID, ne=256))
        if sw == SW_FILE_NOT_FOUND:
            raise CardRejected("the card has no PIV application")
        if sw != SW_OK:
            raise ApduError(sw, "SELECT")
        # Some cards answer with the bare template content, most with tag 61 around it.
        self.application_properties = tlv.unwrap(data, TAG_APT) if data[:1] == b"\x61" else data
        tlv.parse_tlv(self.application_properties)  # malformed -> MalformedResponse
        return self.application_properties

    # --- GET DATA (Part 2 3.1.2) -------------------------------------------------------------
    def get_data(self, object_id: int) -> bytes | None:
        """Return a data object's content (inside tag 53), or None if the card does not hold it."""
        cmd = CommandApdu(0x00, INS_GET_DATA, 0x3F, 0xFF, tlv.encode_tlv(TAG_OBJ_ID, tlv.encode_tag(object_id)),
                          ne=256)
        data, sw = self._send(cmd)
        if sw == SW_FILE_NOT_FOUND:
            return None
        if sw == SW_SECURITY_STATUS_NOT_SATISFIED:
            raise CardRejected("reading this object needs the PIN")
        if sw != SW_OK:
            raise ApduError(sw, "GET DATA")
        return tlv.unwrap(data, TAG_DISCOVERY if object_id == TAG_DISCOVERY else TAG_OBJ_DATA)

    def read_chuid(self) -> Chuid | None:
        content = self.get_data(OBJ_CHUID)
        return None if content is None else Chuid.decode(content)

    def read_certificate(self, slot: Slot) -> x509.Certificate | None:
        """The certificate for a key slot (gunzipped if CertInfo says so), or None if absent."""
        content = self.get_data(slot.object_id)
        if content is None:
            return None
        return decode_certificate_object(content)

    def read_certificates(self, slots: tuple[Slot, ...] = tuple(Slot)) -> dict[Slot, x509.Certificate]:
        found: dict[Slot, x509.Certificate] = {}
        for slot in slots:
            cert = self.read_certificate(slot)
            if cert is not None:
                found[slot] = cert
        return found

    # --- VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER (Part 2 3.2.1-3.2.3) -------------
    def pin_attempts_left(self) -> int | None:
        """Attempts left (VERIFY without data), or None when the PIN is already verified."""
        _, sw = self._send(CommandApdu(0x00, INS_VERIFY, 0x00, KEY_REF_PIN))
        if sw == SW_OK:
            return None
        try:
            _pin_status(sw)
        except InvalidPin as exc:
            return exc.attempts_left
        raise ApduError(sw, "VERIFY")

    def verify_pin(self, pin: str) -> None:
        """Verify the PIV Card Application PIN; raise InvalidPin(attempts_left) or PinBlocked."""
        _, sw = self._send(CommandApdu(0x00, INS_VERIFY, 0x00, KEY_REF_PIN, encode_pin(pin)))
        _pin_status(sw)

    def logout(self) -> None:
        """Reset the PIN's security status (VERIFY with P1=FF)."""
        _, sw = self._send(CommandApdu(0x00, INS_VERIFY, 0xFF, KEY_REF_PIN))
        if sw != SW_OK:
            raise ApduError(sw, "VERIFY")

    def change_pin(self, old_pin: str, new_pin: str) -> None:
        data = encode_pin(old_pin) + encode_pin(new_pin)
        _, sw = self._send(CommandApdu(0x00, INS_CHANGE_REFERENCE, 0x00, KEY_REF_PIN, data))
        _pin_status(sw)

    def unblock_pin(self, puk: str, new_pin: str) -> None:
        """RESET RETRY COUNTER with the PUK; InvalidPin/PinBlocked here refer to the PUK."""
        data = encode_pin(puk) + encode_pin(new_pin)
        _, sw = self._send(CommandApdu(0x00, INS_RESET_RETRY, 0x00, KEY_REF_PIN, data))
        _pin_status(sw)

    # --- GENERAL AUTHENTICATE (Part 2 3.2.4) ---------------------------------------------------
    def general_authenticate(self, slot: int, algorithm: Algorithm, payload: bytes, *,
                             exponentiation: bool = False) -> bytes:
        """Run the private-key operation: 7C{82 00, 81 challenge} (or 85 point) -> 7C{82 result}."""
        tag = TAG_AUTH_EXPONENTIATION if exponentiation else TAG_AUTH_CHALLENGE
        template = tlv.encode_tlv(TAG_DYN_AUTH, tlv.encode_tlv(TAG_AUTH_RESPONSE, b"") + tlv.encode_tlv(tag, payload))
        data, sw = self._send(CommandApdu(0x00, INS_GENERAL_AUTHENTICATE, int(algorithm), slot, template, ne=256))
        if sw == SW_SECURITY_STATUS_NOT_SATISFIED:
            raise CardRejected("the key needs the PIN to be verified first")
        if sw == SW_AUTH_METHOD_BLOCKED:
            raise PinBlocked()
        if sw != SW_OK:
            raise ApduError(sw, "GENERAL AUTHENTICATE")
        result = tlv.require(tlv.unwrap(data, TAG_DYN_AUTH), TAG_AUTH_RESPONSE)
        if not result:
            raise MalformedResponse("empty GENERAL AUTHENTICATE response")
        return result

    def sign(self, slot: Slot, public_key: PublicKey, message: bytes,
             hash_algorithm: hashes.HashAlgorithm | None = None) -> bytes:
        """Sign `message` with the slot's key: RSA PKCS#1 v1.5 or ECDSA (DER), over its hash.

        The host hashes (and for RSA pads); the card only does the private-key step. The result
        verifies with `cryptography` using PKCS1v15 or ECDSA with the same hash.
        """
        algorithm = algorithm_for(public_key)
        hash_algorithm = hash_algorithm or signature_hash(public_key)
        digester = hashes.Hash(hash_algorithm)
        digester.update(message)
        digest = digester.finalize()
        if isinstance(public_key, rsa.RSAPublicKey):
            if hash_algorithm.name not in _DIGEST_INFO:
                raise ValueError(f"unsupported hash {hash_algorithm.name}")
            block = pkcs1v15_block(digest, hash_algorithm.name, public_key.key_size // 8)
            signature = self.general_authenticate(slot, algorithm, block)
            if len(signature) != public_key.key_size // 8:
                raise MalformedResponse("RSA signature has the wrong length")
            return signature
        field = (public_key.curve.key_size + 7) // 8
        # SP 800-73-4: the challenge is the hash, truncated or left-padded to the field size.
        payload = digest[:field].rjust(field, b"\x00")
        return self.general_authenticate(slot, algorithm, payload)
