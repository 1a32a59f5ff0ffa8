"""Card application profiles: what the verification policy needs from a card, whatever its standard.

`CardApplication` is the interface; `PivApplication` implements it over `PivSession`. A PKCS#15
profile (older SITHS cards) would be another subclass registered in `PROFILES`; the policy code
(hardware/verify.py) only ever talks to `CardApplication`.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from cryptography import x509

from hardware.certs import card_number_of, signature_hash, signature_is_valid
from hardware.connection import CardConnection
from hardware.errors import CardRejected
from hardware.piv import PivSession
from hardware.piv_data import Slot

T = TypeVar("T")


class KeyRole(StrEnum):
    AUTHENTICATION = "authentication"
    SIGNATURE = "signature"
    KEY_MANAGEMENT = "key_management"
    CARD_AUTHENTICATION = "card_authentication"


@dataclass(frozen=True)
class CardCertificate:
    role: KeyRole
    key_ref: str  # the profile's own name for the key: "9A" on PIV
    certificate: x509.Certificate


class CardApplication(ABC):
    """One card application that holds a holder's keys and certificates."""

    name: str = "abstract"
    connection: CardConnection | None = None

    def run(self, operation: Callable[[], T]) -> T:
        """Run one card operation (several calls below) as one unit on the card's connection, so a PC/SC
        backend bounds the whole operation once instead of each APDU (see `CardConnection.run`)."""
        return operation() if self.connection is None else self.connection.run(operation)

    @abstractmethod
    def read_certificates(self) -> list[CardCertificate]:
        """All certificates on the card with the role of their key."""

    @abstractmethod
    def read_card_number(self) -> str | None:
        """The card number as the card itself states it (None if it does not)."""

    @abstractmethod
    def pin_attempts_left(self) -> int | None:
        """PIN attempts left, or None when the PIN is already verified."""

    @abstractmethod
    def verify_pin(self, pin: str) -> None:
        """Verify the holder's PIN; raise InvalidPin(attempts_left) or PinBlocked."""

    @abstractmethod
    def sign_challenge(self, role: KeyRole, challenge: bytes) -> bytes:
        """Sign `challenge` with the key of `role`.

        The signature verifies as RSA PKCS#1 v1.5 or ECDSA (DER) with `certs.signature_hash(key)`.
        """

    def certificate_for(self, role: KeyRole) -> x509.Certificate | None:
        for item in self.read_certificates():
            if item.role == role:
                return item.certificate
        return None


_PIV_ROLES = {
    Slot.AUTHENTICATION: KeyRole.AUTHENTICATION,
    Slot.SIGNATURE: KeyRole.SIGNATURE,
    Slot.KEY_MANAGEMENT: KeyRole.KEY_MANAGEMENT,
    Slot.CARD_AUTH: KeyRole.CARD_AUTHENTICATION,
}


class PivApplication(CardApplication):
    """SP 800-73-4 PIV; the card number comes from the authentication certificate (see certs.py)."""

    name = "piv"

    def __init__(self, connection: CardConnection) -> None:
        self.connection = connection
        self.session = PivSession(connection)
        self._certs: dict[Slot, x509.Certificate] | None = None

    def _certificates(self) -> dict[Slot, x509.Certificate]:
        if self._certs is None:
            self._certs = self.session.read_certificates()
        return self._certs

    def read_certificates(self) -> list[CardCertificate]:
        return [CardCertificate(_PIV_ROLES[slot], f"{slot:02X}", cert)
                for slot, cert in self._certificates().items()]

    def read_card_number(self) -> str | None:
        certs = self._certificates()
        for slot in (Slot.AUTHENTICATION, Slot.SIGNATURE):
            if slot in certs and (number := card_number_of(certs[slot])):
                return number
        return None

    def pin_attempts_left(self) -> int | None:
        return self.session.pin_attempts_left()

    def verify_pin(self, pin: str) -> None:
        self.session.verify_pin(pin)

    def sign_challenge(self, role: KeyRole, challenge: bytes) -> bytes:
        slot = next((s for s, r in _PIV_ROLES.items() if r == role), None)
        cert = self._certificates().get(slot) if slot is not None else None
        if slot is None or cert is None:
            raise CardRejected(f"the card has no {role.value} certificate")
        key = cert.public_key()
        return self.session.sign(slot, key, challenge, signature_hash(key))  # type: ignore[arg-type]


PROFILES: list[Callable[[CardConnection], CardApplication]] = [PivApplication]


def open_application(connection: CardConnection) -> CardApplication:
    """The first profile whose application the card has; CardRejected if none."""
    reasons = []
    for factory in PROFILES:
        try:
            return factory(connection)
        except CardRejected as exc:
            reasons.append(exc.reason)
    raise CardRejected("; ".join(reasons) or "no known card application")


@dataclass(frozen=True)
class PossessionProof:
    role: KeyRole
    challenge: bytes
    signature: bytes
    valid: bool


def prove_possession(app: CardApplication, role: KeyRole = KeyRole.AUTHENTICATION,
                     pin: str | None = None) -> PossessionProof:
    """Have the card sign a fresh random challenge and check it against the certificate's key."""
    cert = app.certificate_for(role)
    if cert is None:
        raise CardRejected(f"the card has no {role.value} certificate")
    if pin is not None:
        app.verify_pin(pin)
    challenge = secrets.token_bytes(32)
    signature = app.sign_challenge(role, challenge)
    return PossessionProof(role, challenge, signature, signature_is_valid(cert, challenge, signature))
