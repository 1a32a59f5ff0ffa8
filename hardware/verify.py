"""The verification policy: is this card the one issued to this person, and does the holder hold it?

`verify(app, ...)` runs a fixed list of named checks against an open `CardApplication` (any
profile) and returns a `VerificationResult`. Path validation, validity and revocation are done by
pyhanko-certvalidator (RFC 5280 path validation); this module only decides which questions to ask. The
usual PKI shape is answered first by cryptography's Rust path validator (hardware/fastpath.py), which
can only say "trusted and not revoked" and leaves every other case, and every reason, to
pyhanko-certvalidator.

Errors: the policy never raises a `HardwareError`. When the card fails mid-way (removed, wrong PIN,
blocked PIN, garbage answer), the check that was running fails with the cause as its reason, the
checks that need the card after that are "not run" (passed=None), and `result.error` holds the
typed error for the caller to translate (`InvalidPin.attempts_left` is also in
`result.pin_attempts_left`). Checks that need only the certificates already read still run.

The PIN is used for one VERIFY and forgotten: it is not stored on the result, not logged, and not
put in any exception message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InsufficientRevinfoError,
    NotYetValidError,
    PathBuildingError,
    RevokedError,
)
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from hardware.certs import card_number_of, hsa_id_of
from hardware.errors import CardRejected, HardwareError, InvalidPin, PinBlocked
from hardware.fastpath import trusted_unrevoked_paths
from hardware.profiles import CardApplication, KeyRole, open_application, prove_possession
from hardware.trust import load_certificates, load_crl, load_crls, load_trust_anchors  # noqa: F401 (re-exported)

# The fixed order of the checks; names are stable identifiers the app stores and translates.
CHECK_CARD = "card_application"
CHECK_AUTH_CERT = "authentication_certificate_present"
CHECK_SIGN_CERT = "signature_certificate_present"
CHECK_HSA_ID = "hsa_id_matches"
CHECK_CARD_NUMBER = "card_number_matches"
CHECK_CHAIN = "path_to_trusted_root"
CHECK_VALIDITY = "within_validity"
CHECK_REVOCATION = "not_revoked"
CHECK_KEY_USAGE = "key_usage"
CHECK_POLICY = "certificate_policy"
CHECK_POSSESSION = "proof_of_possession"
CHECK_ORDER = (CHECK_CARD, CHECK_AUTH_CERT, CHECK_SIGN_CERT, CHECK_HSA_ID, CHECK_CARD_NUMBER, CHECK_CHAIN,
               CHECK_VALIDITY, CHECK_REVOCATION, CHECK_KEY_USAGE, CHECK_POLICY, CHECK_POSSESSION)

_ROLES = (KeyRole.AUTHENTICATION, KeyRole.SIGNATURE)
_ROLE_NAME = {KeyRole.AUTHENTICATION: "authentication", KeyRole.SIGNATURE: "signature"}


@dataclass(frozen=True)
class VerificationPolicy:
    """What the desk requires. Policy OIDs are configuration: the test PKI's 2.999 OIDs in tests,
    the real SITHS OIDs in production. An empty set means "not required" (the check is not run)."""

    auth_policy_oids: frozenset[str] = frozenset()
    sign_policy_oids: frozenset[str] = frozenset()
    require_possession: bool = True  # without a PIN the result is then not ok


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: not run
    reason: str
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "reason": self.reason, "required": self.required}


@dataclass(frozen=True)
class CertificateSummary:
    role: str
    subject: str
    issuer: str
    serial: str  # hex
    sha256: str  # hex fingerprint of the DER
    not_before: dt.datetime
    not_after: dt.datetime
    hsa_id: str | None
    card_number: str | None

    @classmethod
    def of(cls, role: KeyRole, cert: x509.Certificate) -> CertificateSummary:
        return cls(role.value, cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                   f"{cert.serial_number:X}", cert.fingerprint(hashes.SHA256()).hex(),
                   cert.not_valid_before_utc, cert.not_valid_after_utc, hsa_id_of(cert), card_number_of(cert))

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "subject": self.subject, "issuer": self.issuer, "serial": self.serial,
                "sha256": self.sha256, "not_before": self.not_before.isoformat(),
                "not_after": self.not_after.isoformat(), "hsa_id": self.hsa_id, "card_number": self.card_number}


@dataclass
class VerificationResult:
    expected_hsa_id: str
    expected_card_number: str
    checked_at: dt.datetime
    reader: str | None = None
    application: str | None = None
    checks: list[Check] = field(default_factory=list)
    certificates: list[CertificateSummary] = field(default_factory=list)
    pin_attempts_left: int | None = None
    error: HardwareError | None = None  # the hardware error that stopped the card checks, if any

    @property
    def ok(self) -> bool:
        """Every check passed; a check that was not run counts against unless it is not required."""
        return bool(self.checks) and all(c.passed is True or (c.passed is None and not c.required)
                                         for c in self.checks)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.passed is False or (c.passed is None and c.required)]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "expected_hsa_id": self.expected_hsa_id,
                "expected_card_number": self.expected_card_number, "checked_at": self.checked_at.isoformat(),
                "reader": self.reader, "application": self.application,
                "checks": [c.to_dict() for c in self.checks],
                "certificates": [c.to_dict() for c in self.certificates],
                "pin_attempts_left": self.pin_attempts_left,
                "error": type(self.error).__name__ if self.error else None}


# ---------------------------------------------------------------- loading anchors and CRLs


def _der(obj: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    return obj.public_bytes(serialization.Encoding.DER)


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(_der(cert))


# Anchors, issuing CAs and CRLs are the same from one verification to the next (a card's own
# certificates are not: they are parsed afresh); asn1crypto parses lazily
# and keeps what it parsed, so reusing the objects saves most of certvalidator's parsing (a national CRL
# is large). Keyed by the DER bytes, so a changed file is a new entry.
@functools.lru_cache(maxsize=64)
def _asn1_cert_of(der: bytes) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(der)


@functools.lru_cache(maxsize=16)
def _asn1_crl_of(der: bytes) -> asn1_crl.CertificateList:
    return asn1_crl.CertificateList.load(der)


@dataclass(frozen=True)
class _Outcome:
    passed: bool
    reason: str
    path: list[x509.Certificate] = field(default_factory=list)  # leaf first, root last (when passed)


def _run_async(make_coroutine: Any) -> Any:
    """certvalidator's API is async. Run it here, or on a worker thread when the caller already has an
    event loop running (a web server, a test harness), since asyncio.run() refuses to nest."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


def _context(*, anchors: Sequence[x509.Certificate], intermediates: Sequence[x509.Certificate],
             moment: dt.datetime, crls: Sequence[x509.CertificateRevocationList] | None) -> ValidationContext:
    """`crls=None` skips revocation; otherwise the end-entity certificate must be covered by a CRL whose
    signature and freshness certvalidator checks."""
    rule = RevocationCheckingRule.NO_CHECK if crls is None else RevocationCheckingRule.CRL_REQUIRED
    policy = CertRevTrustPolicy(RevocationCheckingPolicy(ee_certificate_rule=rule,
                                                         intermediate_ca_cert_rule=RevocationCheckingRule.NO_CHECK))
    return ValidationContext(trust_roots=[_asn1_cert_of(_der(a)) for a in anchors],
                             other_certs=[_asn1_cert_of(_der(c)) for c in intermediates],
                             moment=moment, allow_fetching=False,
                             crls=[_asn1_crl_of(_der(c)) for c in crls or ()],
                             revinfo_policy=policy)


def _validate(cert: x509.Certificate, *, anchors: Sequence[x509.Certificate] = (),
              intermediates: Sequence[x509.Certificate] = (), moment: dt.datetime | None = None,
              crls: Sequence[x509.CertificateRevocationList] | None = None,
              context: ValidationContext | None = None) -> _Outcome:
    """One RFC 5280 path validation, in `context` or in a new one built from the other arguments."""
    if context is None:
        assert moment is not None
        context = _context(anchors=anchors, intermediates=intermediates, moment=moment, crls=crls)
    validator = CertificateValidator(_asn1_cert(cert), validation_context=context)
    try:
        path = _run_async(validator.async_validate_path)
    except RevokedError as exc:
        return _Outcome(False, f"revoked: {exc}")
    except (ExpiredError, NotYetValidError) as exc:
        return _Outcome(False, f"outside validity: {exc}")
    except InsufficientRevinfoError as exc:
        return _Outcome(False, f"no valid, fresh CRL from the issuing CA: {exc}")
    except PathBuildingError as exc:
        return _Outcome(False, f"no path to a trusted root: {exc}")
    except Exception as exc:  # noqa: BLE001 - a hostile certificate must give a failed check, not a crash
        return _Outcome(False, f"{type(exc).__name__}: {exc}")
    certs = [x509.load_der_x509_certificate(c.dump()) for c in path.iter_certs(include_root=True)]
    certs.reverse()
    return _trusted(certs)


def _trusted(path: list[x509.Certificate]) -> _Outcome:
    return _Outcome(True, f"{len(path)} certificates to {path[-1].subject.rfc4514_string()}", path)


def _clamped(moment: dt.datetime, cert: x509.Certificate) -> dt.datetime:
    """`moment` moved into the certificate's validity, so the chain check does not also test validity."""
    return min(max(moment, cert.not_valid_before_utc), cert.not_valid_after_utc)


# ---------------------------------------------------------------- the policy


def _combine(name: str, parts: dict[KeyRole, tuple[bool | None, str]], required: bool = True) -> Check:
    """One check over both certificates: failed if either failed, passed if both passed."""
    values = [p for p, _ in parts.values()]
    reason = "; ".join(f"{_ROLE_NAME[r]}: {why}" for r, (_, why) in parts.items())
    passed: bool | None
    if False in values:
        passed = False
    elif values and all(v is True for v in values):
        passed = True
    else:
        passed = None
    return Check(name, passed, reason, required)


def _key_usage(cert: x509.Certificate, role: KeyRole) -> tuple[bool, str]:
    want = "digital_signature" if role == KeyRole.AUTHENTICATION else "content_commitment"
    label = "digitalSignature" if role == KeyRole.AUTHENTICATION else "nonRepudiation"
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False, "no keyUsage extension"
    if getattr(ku, want):
        return True, label
    return False, f"{label} missing"


def _policies(cert: x509.Certificate, wanted: frozenset[str]) -> tuple[bool | None, str]:
    if not wanted:
        return None, "no policy OIDs configured"
    try:
        ext = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
        present = {p.policy_identifier.dotted_string for p in ext}
    except x509.ExtensionNotFound:
        present = set()
    if present & wanted:
        return True, ", ".join(sorted(present & wanted))
    return False, f"has {', '.join(sorted(present)) or 'no policies'}; expected one of {', '.join(sorted(wanted))}"


def _hardware_reason(exc: HardwareError) -> str:
    if isinstance(exc, InvalidPin):
        left = "unknown" if exc.attempts_left is None else str(exc.attempts_left)
        return f"wrong PIN ({left} attempts left)"
    if isinstance(exc, PinBlocked):
        return "the PIN is blocked"
    return f"{type(exc).__name__}: {exc}"


def verify(app: CardApplication | None, *, hsa_id: str, card_number: str,
           trust_anchors: Sequence[x509.Certificate],
           crls: Sequence[x509.CertificateRevocationList] = (),
           intermediates: Sequence[x509.Certificate] = (),
           now: dt.datetime | None = None, pin: str | None = None,
           policy: VerificationPolicy | None = None, reader: str | None = None,
           card_error: HardwareError | None = None) -> VerificationResult:
    """Verify an issued card against an order's HSA-ID and card number.

    `app=None` with `card_error` records a card that could not be opened (see `verify_connection`).
    """
    policy = policy or VerificationPolicy()
    now = now or dt.datetime.now(dt.UTC)
    result = VerificationResult(hsa_id, card_number, now, reader)
    checks = result.checks

    def not_run(names: Sequence[str], why: str) -> None:
        for name in names:
            required = not (name == CHECK_POLICY or (name == CHECK_POSSESSION and not policy.require_possession))
            checks.append(Check(name, None, f"not run: {why}", required))

    # 1. the card and its application
    if app is None:
        err = card_error or CardRejected("no card application")
        result.error = err
        checks.append(Check(CHECK_CARD, False, _hardware_reason(err)))
        not_run(CHECK_ORDER[1:], "no card application")
        return result
    result.application = app.name
    try:
        certs = {c.role: c.certificate for c in app.run(app.read_certificates) if c.role in _ROLES}
    except HardwareError as exc:
        result.error = exc
        checks.append(Check(CHECK_CARD, False, f"reading certificates: {_hardware_reason(exc)}"))
        not_run(CHECK_ORDER[1:], "the card could not be read")
        return result
    checks.append(Check(CHECK_CARD, True, f"{app.name} application"))

    # 2-3. certificates present
    for role, name in ((KeyRole.AUTHENTICATION, CHECK_AUTH_CERT), (KeyRole.SIGNATURE, CHECK_SIGN_CERT)):
        if role in certs:
            summary = CertificateSummary.of(role, certs[role])
            checks.append(Check(name, True, summary.subject))
            result.certificates.append(summary)
        else:
            checks.append(Check(name, False, f"no {_ROLE_NAME[role]} certificate on the card"))
    if not certs:
        not_run(CHECK_ORDER[3:], "no certificates")
        return result

    # 4-5. this person, this card
    def match(found: str | None, expected: str, what: str) -> tuple[bool, str]:
        if found is None:
            return False, f"no {what} in the certificate"
        if found == expected:
            return True, found
        return False, f"{found!r} is not {expected!r}"

    checks.append(_combine(CHECK_HSA_ID, {r: match(hsa_id_of(c), hsa_id, "HSA-ID (subject serialNumber)")
                                          for r, c in certs.items()}))
    checks.append(_combine(CHECK_CARD_NUMBER, {r: match(card_number_of(c), card_number, "card number")
                                               for r, c in certs.items()}))

    # 6-8. chain, validity, revocation
    # The common case first: every certificate valid now, so one validation per certificate at `now` with
    # the CRLs (in one shared context) answers both "trusted path" and "not revoked". Any failure is
    # asked again as two separate questions below, so each check gets its own reason.
    # The commonest PKI shape is answered first by the fast path (hardware/fastpath.py), which only ever
    # says "trusted and not revoked" and leaves every other case to pyhanko-certvalidator.
    combined: dict[KeyRole, _Outcome] | None = None
    if all(_clamped(now, c) == now for c in certs.values()):
        fast = trusted_unrevoked_paths(list(certs.values()), anchors=trust_anchors, intermediates=intermediates,
                                       crls=crls, now=now)
        if fast is not None:
            combined = {r: _trusted(path) for r, path in zip(certs, fast, strict=True)}
        else:
            shared = _context(anchors=trust_anchors, intermediates=intermediates, moment=now, crls=crls)
            combined = {r: _validate(c, context=shared) for r, c in certs.items()}
            if not all(o.passed for o in combined.values()):
                combined = None
    chains = combined or {r: _validate(c, anchors=trust_anchors, intermediates=intermediates,
                                       moment=_clamped(now, c), crls=None) for r, c in certs.items()}
    checks.append(_combine(CHECK_CHAIN, {r: (o.passed, o.reason) for r, o in chains.items()}))

    validity: dict[KeyRole, tuple[bool | None, str]] = {}
    for role, cert in certs.items():
        path = chains[role].path or [cert]
        outside = [c for c in path if not c.not_valid_before_utc <= now <= c.not_valid_after_utc]
        if not outside:
            validity[role] = (True, f"until {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
        else:
            validity[role] = (False, "; ".join(
                f"{c.subject.rfc4514_string()} valid {c.not_valid_before_utc:%Y-%m-%d %H:%M} to "
                f"{c.not_valid_after_utc:%Y-%m-%d %H:%M} UTC" for c in outside))
    checks.append(_combine(CHECK_VALIDITY, validity))

    revocation: dict[KeyRole, tuple[bool | None, str]] = {}
    for role, cert in certs.items():
        if not chains[role].passed:
            revocation[role] = (None, "not run: no trusted path")
        elif validity[role][0] is not True:
            revocation[role] = (None, "not run: outside validity")
        else:
            outcome = combined[role] if combined else _validate(cert, anchors=trust_anchors,
                                                                  intermediates=intermediates, moment=now, crls=crls)
            revocation[role] = (outcome.passed, "not on the issuing CA's CRL" if outcome.passed else outcome.reason)
    checks.append(_combine(CHECK_REVOCATION, revocation))

    # 9-10. usages and policies
    checks.append(_combine(CHECK_KEY_USAGE, {r: _key_usage(c, r) for r, c in certs.items()}))
    wanted = {KeyRole.AUTHENTICATION: policy.auth_policy_oids, KeyRole.SIGNATURE: policy.sign_policy_oids}
    checks.append(_combine(CHECK_POLICY, {r: _policies(c, wanted[r]) for r, c in certs.items()},
                           required=bool(policy.auth_policy_oids or policy.sign_policy_oids)))

    # 11. proof of possession with the authentication key (the identification PIN)
    required = policy.require_possession
    if pin is None:
        checks.append(Check(CHECK_POSSESSION, None, "not run: no PIN given", required))
    elif KeyRole.AUTHENTICATION not in certs:
        checks.append(Check(CHECK_POSSESSION, None, "not run: no authentication certificate", required))
    else:
        try:
            proof = app.run(lambda: prove_possession(app, KeyRole.AUTHENTICATION, pin))
        except HardwareError as exc:
            result.error = exc
            if isinstance(exc, InvalidPin):
                result.pin_attempts_left = exc.attempts_left
            elif isinstance(exc, PinBlocked):
                result.pin_attempts_left = 0
            checks.append(Check(CHECK_POSSESSION, False, _hardware_reason(exc), required))
        else:
            if proof.valid:
                checks.append(Check(CHECK_POSSESSION, True, "the card signed a fresh challenge with the "
                                    "authentication key", required))
            else:
                checks.append(Check(CHECK_POSSESSION, False, "the card's signature does not verify against "
                                    "the authentication certificate", required))
    return result


def verify_connection(connection: Any, **kwargs: Any) -> VerificationResult:
    """Open the card's application on `connection` (any `CardConnection`) and `verify()` it; a card
    without a known application, or one that fails while opening, gives a result, not an exception.

    The whole verification is one unit of card work (`CardConnection.run`): on PC/SC it is bounded once
    by the connection's timeout. A card that falls silent therefore gives a result with only the card
    check failed (CardTimeout): the checks already made are on the worker thread that still waits for it."""

    def whole() -> VerificationResult:
        try:
            app = open_application(connection)
        except HardwareError as exc:
            return verify(None, card_error=exc, **kwargs)
        return verify(app, **kwargs)

    try:
        return connection.run(whole)  # type: ignore[no-any-return]
    except HardwareError as exc:
        return verify(None, card_error=exc, **kwargs)
