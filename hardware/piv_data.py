"""SP 800-73-4 constants and data-object codecs shared by the PIV session and the simulator.

Section references are to NIST SP 800-73-4 Part 1 (data model) and Part 2 (card commands).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from enum import IntEnum

from cryptography import x509

from hardware import tlv
from hardware.certs import load_certificate
from hardware.errors import MalformedResponse

PIV_AID = bytes.fromhex("A000000308000010000100")  # Part 1 2.2: RID A000000308, PIX 0000100001 00
PIV_PIX = PIV_AID[5:]
NIST_RID = PIV_AID[:5]

TAG_APT = 0x61  # application property template (SELECT response, Part 2 3.1.1)
TAG_OBJ_DATA = 0x53  # GET DATA response wrapper
TAG_OBJ_ID = 0x5C  # GET DATA tag list
TAG_DISCOVERY = 0x7E
TAG_DYN_AUTH = 0x7C  # dynamic authentication template (Part 2 3.2.4)
TAG_AUTH_WITNESS = 0x80
TAG_AUTH_CHALLENGE = 0x81
TAG_AUTH_RESPONSE = 0x82
TAG_AUTH_EXPONENTIATION = 0x85

TAG_CERTIFICATE = 0x70
TAG_CERT_INFO = 0x71
TAG_ERROR_DETECTION = 0xFE
CERT_INFO_GZIP = 0x01  # Part 1 Table 10: CertInfo bit 0 = compressed (gzip)

KEY_REF_PIN = 0x80
KEY_REF_PUK = 0x81
PIN_MAX_LEN = 8


class Slot(IntEnum):
    """Key references (Part 1 Table 4b) with the object that holds each slot's certificate."""

    AUTHENTICATION = 0x9A
    SIGNATURE = 0x9C
    KEY_MANAGEMENT = 0x9D
    CARD_AUTH = 0x9E

    @property
    def object_id(self) -> int:
        return CERT_OBJECTS[self]


CERT_OBJECTS = {
    Slot.AUTHENTICATION: 0x5FC105,
    Slot.SIGNATURE: 0x5FC10A,
    Slot.KEY_MANAGEMENT: 0x5FC10B,
    Slot.CARD_AUTH: 0x5FC101,
}
OBJ_CHUID = 0x5FC102
OBJ_CCC = 0x5FC107
OBJ_PRINTED_INFO = 0x5FC109
OBJ_KEY_HISTORY = 0x5FC10C


class Algorithm(IntEnum):
    """Cryptographic mechanism identifiers (SP 800-78-4 Table 6-2)."""

    RSA_1024 = 0x06
    RSA_2048 = 0x07
    ECC_P256 = 0x11
    ECC_P384 = 0x14


def decode_certificate_object(content: bytes) -> x509.Certificate:
    """Parse the content of a certificate object (70 cert, 71 CertInfo, FE LRC), gunzipping if flagged."""
    fields = tlv.parse_dict(content)
    der = fields.get(TAG_CERTIFICATE)
    if der is None:
        raise MalformedResponse("certificate object without tag 70")
    info = fields.get(TAG_CERT_INFO, b"\x00")
    if info and info[0] & CERT_INFO_GZIP:
        try:
            # A certificate is a few KiB; refuse a "zip bomb" from a hostile card.
            der = zlib.decompressobj(wbits=31).decompress(der, 64 * 1024)
        except (zlib.error, EOFError, OSError) as exc:
            raise MalformedResponse(f"compressed certificate does not decompress ({exc})") from exc
    return load_certificate(der)


def encode_certificate_object(cert_der: bytes, compress: bool = False) -> bytes:
    if compress:
        return tlv.encode_all(
            [(TAG_CERTIFICATE, gzip.compress(cert_der, mtime=0)), (TAG_CERT_INFO, b"\x01"),
             (TAG_ERROR_DETECTION, b"")]
        )
    return tlv.encode_all([(TAG_CERTIFICATE, cert_der), (TAG_CERT_INFO, b"\x00"), (TAG_ERROR_DETECTION, b"")])


# --- FASC-N (TIG SCEPACS): 40 five-bit characters, 4 data bits LSB first + odd parity -----------

_SS, _FS, _ES = 0x0B, 0x0D, 0x0F


def _fascn_char(value: int) -> str:
    bits = [(value >> i) & 1 for i in range(4)]
    parity = 1 - (sum(bits) % 2)
    return "".join(str(b) for b in bits) + str(parity)


def encode_fascn(agency: str, system: str, credential: str, cs: str = "1", ici: str = "1",
                 person: str = "0" * 10, oc: str = "1", oi: str = "0000", poa: str = "1") -> bytes:
    """Encode a FASC-N. Non-federal cards use agency 9999, system 9999, credential 999999."""
    fields = [agency, system, credential, cs, ici]
    for value, size in zip(fields, (4, 4, 6, 1, 1), strict=True):
        if len(value) != size or not value.isdigit():
            raise ValueError("FASC-N field has the wrong size")
    chars = [_SS, *map(int, agency), _FS, *map(int, system), _FS, *map(int, credential), _FS,
             int(cs), _FS, int(ici), _FS, *map(int, person + oc + oi + poa), _ES]
    lrc = 0
    for c in chars:
        lrc ^= c
    bits = "".join(_fascn_char(c) for c in [*chars, lrc])
    return int(bits, 2).to_bytes(25, "big")


def decode_fascn(raw: bytes) -> dict[str, str]:
    """Decode the numeric fields of a FASC-N (raises MalformedResponse on bad parity/shape)."""
    if len(raw) != 25:
        raise MalformedResponse("FASC-N is not 25 bytes")
    bits = bin(int.from_bytes(raw, "big"))[2:].zfill(200)
    chars = []
    for i in range(40):
        group = bits[i * 5 : i * 5 + 5]
        if group.count("1") % 2 != 1:
            raise MalformedResponse("FASC-N parity error")
        chars.append(sum(int(b) << k for k, b in enumerate(group[:4])))
    lrc = 0
    for c in chars[:39]:
        lrc ^= c
    if lrc != chars[39]:
        raise MalformedResponse("FASC-N LRC mismatch")
    digits = "".join(str(c) if c < 10 else "|" for c in chars[1:38])
    parts = digits.split("|")
    if len(parts) != 6 or chars[0] != _SS or chars[38] != _ES:
        raise MalformedResponse("FASC-N separators out of place")
    return {"agency": parts[0], "system": parts[1], "credential": parts[2], "cs": parts[3],
            "ici": parts[4], "person": parts[5][:10], "oc": parts[5][10:11], "oi": parts[5][11:15],
            "poa": parts[5][15:16]}


NON_FEDERAL_FASCN = encode_fascn("9999", "9999", "999999")


@dataclass(frozen=True)
class Chuid:
    """Card Holder Unique Identifier (Part 1 Table 9)."""

    fascn: bytes
    guid: bytes
    expiration: str  # YYYYMMDD
    issuer_signature: bytes = b""

    def encode(self) -> bytes:
        return tlv.encode_all([(0x30, self.fascn), (0x34, self.guid), (0x35, self.expiration.encode()),
                               (0x3E, self.issuer_signature), (TAG_ERROR_DETECTION, b"")])

    @classmethod
    def decode(cls, content: bytes) -> Chuid:
        fields = tlv.parse_dict(content)
        guid = fields.get(0x34)
        if guid is None or len(guid) != 16:
            raise MalformedResponse("CHUID without a 16-byte GUID")
        try:
            expiration = fields.get(0x35, b"").decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedResponse("CHUID expiration date is not text") from exc
        return cls(fields.get(0x30, b""), guid, expiration, fields.get(0x3E, b""))
