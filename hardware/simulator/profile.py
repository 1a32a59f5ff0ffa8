"""A simulated card's contents as a JSON file: PIN, PUK, ATR, CHUID and per-slot key + certificate.

Test data only: the file holds private keys in the clear and is written with mode 0600.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hardware.piv_data import NON_FEDERAL_FASCN, Chuid

FORMAT = "cardadmin-sim-profile/1"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def make_atr(historical: bytes = b"CARDADMSIM") -> bytes:
    """ATR offering T=1 with compact-TLV issuer data in the historical bytes, TCK included."""
    hist = b"\x80" + bytes([0x50 | len(historical)]) + historical  # category 80, tag 5 = issuer data
    if len(hist) > 15:
        raise ValueError("historical bytes too long")
    body = bytes([0x80 | len(hist), 0x80, 0x01]) + hist  # T0, TD1 (T=0, TD2 follows), TD2 (T=1)
    tck = 0
    for b in body:
        tck ^= b
    return b"\x3b" + body + bytes([tck])


@functools.lru_cache(maxsize=64)
def _load_key(pem: str) -> PrivateKey:
    # Parsing checks RSA keys (tens of ms); tests build many cards from the same profile.
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("unsupported key type in profile")
    return key


@dataclass
class SlotProfile:
    key_pem: str
    certificate_pem: str
    compress: bool = False  # store the certificate gzipped (CertInfo 0x01)

    def private_key(self) -> PrivateKey:
        return _load_key(self.key_pem)

    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem.encode())


@dataclass
class CardProfile:
    pin: str = "123456"
    puk: str = "12345678"
    atr: bytes = field(default_factory=make_atr)
    chuid: Chuid = field(default_factory=lambda: Chuid(NON_FEDERAL_FASCN, os.urandom(16), "20991231"))
    slots: dict[int, SlotProfile] = field(default_factory=dict)  # key reference (0x9A...) -> slot
    pin_tries: int = 3
    puk_tries: int = 3
    hsa_id: str | None = None  # informational: what the test PKI put in the certificates
    card_number: str | None = None
    issuer_chain_pem: list[str] = field(default_factory=list)  # issuing CA first, root last
    crl_pem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "pin": self.pin,
            "puk": self.puk,
            "pin_tries": self.pin_tries,
            "puk_tries": self.puk_tries,
            "atr": self.atr.hex().upper(),
            "chuid": {"fascn": self.chuid.fascn.hex().upper(), "guid": self.chuid.guid.hex().upper(),
                      "expiration": self.chuid.expiration},
            "hsa_id": self.hsa_id,
            "card_number": self.card_number,
            "slots": {f"{ref:02X}": {"key": s.key_pem, "certificate": s.certificate_pem, "compress": s.compress}
                      for ref, s in sorted(self.slots.items())},
            "issuer_chain": self.issuer_chain_pem,
            "crl": self.crl_pem,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CardProfile:
        if doc.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        ch = doc["chuid"]
        return cls(
            pin=str(doc["pin"]),
            puk=str(doc["puk"]),
            pin_tries=int(doc.get("pin_tries", 3)),
            puk_tries=int(doc.get("puk_tries", 3)),
            atr=bytes.fromhex(doc["atr"]),
            chuid=Chuid(bytes.fromhex(ch["fascn"]), bytes.fromhex(ch["guid"]), ch["expiration"]),
            hsa_id=doc.get("hsa_id"),
            card_number=doc.get("card_number"),
            slots={int(ref, 16): SlotProfile(s["key"], s["certificate"], bool(s.get("compress", False)))
                   for ref, s in doc.get("slots", {}).items()},
            issuer_chain_pem=list(doc.get("issuer_chain", [])),
            crl_pem=doc.get("crl"),
        )


def save_profile(profile: CardProfile, path: str | os.PathLike[str]) -> None:
    data = json.dumps(profile.to_json(), indent=2).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def load_profile(path: str | os.PathLike[str]) -> CardProfile:
    return CardProfile.from_json(json.loads(Path(path).read_text()))
