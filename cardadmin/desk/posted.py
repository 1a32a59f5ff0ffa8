"""Verification results the desk agent posts, checked again on the server before they are stored.

The agent runs on the desk PC beside the reader: it reads the card, asks the holder's PIN there, and has
the card sign a challenge the server issued. The server does not take the agent's word for what it can
check itself. From the posted certificates it runs the whole policy again with its own trust anchors,
CRLs and policy OIDs (HSA-ID, card number, chain, validity, revocation, key usage, policy), and it checks
the card's signature over its own challenge against the posted authentication certificate (proof of
possession). Only what needs the card itself (that the card answered, and why it stopped if it failed)
comes from the agent. The PIN never leaves the desk PC.

A challenge is 32 random bytes, bound to one order and signed by the server (itsdangerous, the app's
secret key), valid for CHALLENGE_SECONDS; its SHA-256 is stored with the verification, so each
challenge proves possession once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from cardadmin.errors import Conflict, InvalidInput
from hardware.certs import load_certificate, signature_is_valid
from hardware.errors import (
    CardRejected,
    CardRemoved,
    CardTimeout,
    HardwareError,
    InvalidPin,
    MalformedResponse,
    NoCard,
    PinBlocked,
    ReaderUnavailable,
)
from hardware.profiles import CardApplication, CardCertificate, KeyRole
from hardware.verify import CHECK_POSSESSION, Check, VerificationResult

CHALLENGE_SECONDS = 300
_SALT = "cardadmin.desk.challenge"
_MAX_CERT_BYTES = 16 * 1024


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, name: str, limit: int = _MAX_CERT_BYTES) -> bytes:
    if not isinstance(value, str) or len(value) > limit * 2:
        raise InvalidInput(f"Fältet {name} ska vara base64.", field=name)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"Fältet {name} ska vara base64.", field=name) from None


def issue_challenge(order_id: int, secret_key: str) -> tuple[bytes, str]:
    """A fresh challenge for one order and the signed token that carries it back."""
    challenge = secrets.token_bytes(32)
    return challenge, _serializer(secret_key).dumps({"order_id": order_id, "challenge": b64(challenge)})


def open_challenge(token: Any, order_id: int, secret_key: str) -> bytes:
    if not isinstance(token, str) or len(token) > 500:
        raise InvalidInput("Utmaningen saknas.", field="challenge_token")
    try:
        payload = _serializer(secret_key).loads(token, max_age=CHALLENGE_SECONDS)
    except SignatureExpired:
        raise Conflict("Utmaningen har gått ut. Sätt i kortet igen.") from None
    except BadSignature:
        raise InvalidInput("Utmaningen är inte utfärdad av servern.", field="challenge_token") from None
    if payload.get("order_id") != order_id:
        raise InvalidInput("Utmaningen gäller en annan beställning.", field="challenge_token")
    return base64.b64decode(payload["challenge"])


class PostedCertificates(CardApplication):
    """The certificates the agent read from the card, as a card application the policy can read.
    It cannot verify a PIN or sign: possession is checked separately, against the server's challenge."""

    def __init__(self, name: str, certificates: dict[KeyRole, x509.Certificate]) -> None:
        self.name = name
        self._certs = certificates

    def read_certificates(self) -> list[CardCertificate]:
        return [CardCertificate(role, role.value, cert) for role, cert in self._certs.items()]

    def read_card_number(self) -> str | None:
        return None

    def pin_attempts_left(self) -> int | None:
        return None

    def verify_pin(self, pin: str) -> None:
        raise CardRejected("posted certificates hold no keys")

    def sign_challenge(self, role: KeyRole, challenge: bytes) -> bytes:
        raise CardRejected("posted certificates hold no keys")


# The agent's report of why the card stopped, as the typed errors the policy itself would have given.
_AGENT_ERRORS: dict[str, type[HardwareError]] = {
    cls.__name__: cls for cls in HardwareError.__subclasses__() + [HardwareError]
}


@dataclass
class Posted:
    """A desk agent's report, parsed and bounded; nothing in it is trusted yet."""

    order_id: int
    reader: str | None
    application: str | None
    certificates: dict[KeyRole, x509.Certificate]
    challenge_token: str | None
    signature: bytes | None
    card_error: HardwareError | None

    @classmethod
    def parse(cls, body: dict[str, Any], order_id: int) -> Posted:
        certs: dict[KeyRole, x509.Certificate] = {}
        raw = body.get("certificates") or {}
        if not isinstance(raw, dict):
            raise InvalidInput("Fältet certificates ska vara ett objekt (roll → DER i base64).", field="certificates")
        for role_name, value in raw.items():
            try:
                role = KeyRole(role_name)
            except ValueError:
                raise InvalidInput(f"Okänd certifikatroll {role_name!r}.", field="certificates") from None
            try:
                certs[role] = load_certificate(_unb64(value, "certificates"))
            except HardwareError:
                raise InvalidInput("Ett certifikat kan inte läsas (DER).", field="certificates") from None
        signature = body.get("signature")
        error = body.get("card_error")
        card_error: HardwareError | None = None
        if error is not None:
            if not isinstance(error, dict) or not isinstance(error.get("type"), str):
                raise InvalidInput("Fältet card_error ska vara {type, attempts_left}.", field="card_error")
            kind = _AGENT_ERRORS.get(error["type"], HardwareError)
            left = error.get("attempts_left")
            if kind is InvalidPin:
                card_error = InvalidPin(left if isinstance(left, int) and 0 <= left <= 15 else None)
            elif kind in (PinBlocked, CardRemoved, NoCard, CardTimeout, ReaderUnavailable):
                card_error = kind()
            elif kind is MalformedResponse:
                card_error = MalformedResponse("reported by the desk agent")
            else:
                card_error = HardwareError(f"reported by the desk agent: {error['type'][:60]}")
        reader = body.get("reader")
        application = body.get("application")
        return cls(order_id, str(reader)[:200] if reader else None, str(application)[:20] if application else None,
                   certs, body.get("challenge_token"),
                   _unb64(signature, "signature", 1024) if signature is not None else None, card_error)


def recheck(posted: Posted, *, hsa_id: str, card_number: str, challenge: bytes, trust: Any) -> VerificationResult:
    """The policy run again on the server from what the agent posted; possession checked against the
    server's own challenge."""
    from hardware.verify import verify

    if posted.certificates:
        app: CardApplication | None = PostedCertificates(posted.application or "piv", posted.certificates)
    else:
        app = None
    result = verify(app, hsa_id=hsa_id, card_number=card_number, trust_anchors=trust.anchors,
                    intermediates=trust.intermediates, crls=trust.crls, policy=trust.policy, pin=None,
                    reader=posted.reader, card_error=posted.card_error or CardRejected("no certificates posted"))
    if app is None:
        return result
    auth = posted.certificates.get(KeyRole.AUTHENTICATION)
    index = next(i for i, c in enumerate(result.checks) if c.name == CHECK_POSSESSION)
    required = result.checks[index].required
    if posted.card_error is not None:
        result.error = posted.card_error
        if isinstance(posted.card_error, InvalidPin):
            result.pin_attempts_left = posted.card_error.attempts_left
        elif isinstance(posted.card_error, PinBlocked):
            result.pin_attempts_left = 0
        check = Check(CHECK_POSSESSION, False, f"the desk agent reported: {posted.card_error}", required)
    elif auth is None:
        check = Check(CHECK_POSSESSION, None, "not run: no authentication certificate", required)
    elif posted.signature is None:
        check = Check(CHECK_POSSESSION, None, "not run: no signature posted", required)
    else:
        check = _possession_check(auth, challenge, posted.signature, required)
    result.checks[index] = check
    return result


def _possession_check(auth: x509.Certificate, challenge: bytes, signature: bytes, required: bool) -> Check:
    try:
        valid = signature_is_valid(auth, challenge, signature)
    except HardwareError as exc:  # e.g. a key type the policy cannot check (Ed25519, DSA): a failed check
        return Check(CHECK_POSSESSION, False, f"the signature cannot be checked: {exc}", required)
    if valid:
        return Check(CHECK_POSSESSION, True, "the card signed the server's challenge with the authentication key "
                     "(checked on the server)", required)
    return Check(CHECK_POSSESSION, False, "the signature does not verify against the authentication certificate "
                 "for the server's challenge", required)


def challenge_digest(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()
