"""The common case of "trusted path, not revoked", answered by cryptography's Rust path validator.

pyhanko-certvalidator (hardware/verify.py) is the rule: RFC 5280 path validation with certificate-policy
processing, name comparison after RFC 5280 string preparation, and CRL scope. It is also pure Python and
took three quarters of a whole card verification. `cryptography.x509.verification` validates a path in a
fraction of the time, but does not process certificate policies or name constraints the way RFC 5280 does,
compares names byte for byte, and has no revocation at all.

So this module only ever answers *yes*, and only for a PKI whose shape both validators judge alike:

- the Rust validator finds a path from the certificate to a trust anchor through a separate issuing CA;
- no certificate on the path carries an extension that RFC 5280 processes and the Rust validator does not
  (policy constraints, inhibit anyPolicy, policy mappings, name constraints);
- the certificate names no partitioned or indirect CRLs or delta CRLs;
- every CRL from the certificate's issuer is a plain full CRL (no critical extension, no issuing
  distribution point, not a delta), none lists the certificate, and at least one is current and signed by
  the issuing CA of that path, whose key usage allows CRL signing.

Anything else returns None, and pyhanko-certvalidator decides, with its reasons. Where the Rust validator is
stricter (the trust anchor's own validity and path length, exact names, allowed algorithms, key sizes), a
refusal here is only a detour. tests/hardware/test_hw_fastpath.py checks, over many PKI shapes, that every
*yes* here is a *yes* from pyhanko-certvalidator too, and that the full verification gives the same checks
with and without this path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509
from cryptography.x509.oid import ExtensionOID
from cryptography.x509.verification import ClientVerifier, PolicyBuilder, Store, VerificationError

# Processed by RFC 5280 (and pyhanko-certvalidator), not by the Rust validator.
_UNPROCESSED = frozenset({ExtensionOID.POLICY_CONSTRAINTS, ExtensionOID.INHIBIT_ANY_POLICY,
                          ExtensionOID.POLICY_MAPPINGS, ExtensionOID.NAME_CONSTRAINTS})
# On a CRL these change which certificates it speaks for; on a certificate, which CRLs speak for it.
_CRL_SCOPE = frozenset({ExtensionOID.ISSUING_DISTRIBUTION_POINT, ExtensionOID.DELTA_CRL_INDICATOR})


def trusted_unrevoked_paths(certs: Sequence[x509.Certificate], *, anchors: Sequence[x509.Certificate],
                            intermediates: Sequence[x509.Certificate],
                            crls: Sequence[x509.CertificateRevocationList],
                            now: dt.datetime) -> list[list[x509.Certificate]] | None:
    """The validated paths (leaf first, anchor last), one per certificate, when every one of `certs` is
    certainly trusted at `now` and not revoked by `crls`; None when pyhanko-certvalidator must decide."""
    if not anchors or not certs:
        return None
    try:
        verifier = PolicyBuilder().store(Store(list(anchors))).time(now).build_client_verifier()
        # The validator hands back copies; the configured objects have their names and extensions parsed
        # already (they live as long as the desk's trust configuration), so the path is made of those.
        configured = {c: c for c in (*anchors, *intermediates)}
        by_issuer = [(crl.issuer, crl) for crl in crls]
        crl_signed: dict[tuple[int, int], bool] = {}  # a card's certificates share their CA and its CRL
        paths = []
        for cert in certs:
            path = _path(verifier, cert, intermediates, configured, by_issuer, now, crl_signed)
            if path is None:
                return None
            paths.append(path)
        return paths
    except Exception:  # noqa: BLE001 - whatever the certificates hold, the rule (pyhanko-certvalidator) decides
        return None


def _path(verifier: ClientVerifier, cert: x509.Certificate, intermediates: Sequence[x509.Certificate],
          configured: dict[x509.Certificate, x509.Certificate],
          by_issuer: list[tuple[x509.Name, x509.CertificateRevocationList]], now: dt.datetime,
          crl_signed: dict[tuple[int, int], bool]) -> list[x509.Certificate] | None:
    try:
        validated = verifier.verify(cert, list(intermediates)).chain
    except VerificationError:
        return None
    chain = [cert, *(configured.get(c, c) for c in validated[1:])]
    if len(chain) < 3:
        return None  # an issuing CA configured as the anchor: pyhanko-certvalidator treats its CRL apart
    if any(ext.oid in _UNPROCESSED for c in chain for ext in c.extensions):
        return None
    if not _plain_crl_scope(cert) or not _crls_clear(cert, chain[1], by_issuer, now, crl_signed):
        return None
    return chain


def _plain_crl_scope(cert: x509.Certificate) -> bool:
    """The certificate expects a full CRL from its issuer: no delta CRLs, no partitions, no indirect CRL."""
    try:
        points = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    except x509.ExtensionNotFound:
        points = []
    if any(p.crl_issuer or p.reasons or p.relative_name for p in points):
        return False
    return all(ext.oid != ExtensionOID.FRESHEST_CRL for ext in cert.extensions)


def _crls_clear(cert: x509.Certificate, issuer: x509.Certificate,
                by_issuer: list[tuple[x509.Name, x509.CertificateRevocationList]], now: dt.datetime,
                crl_signed: dict[tuple[int, int], bool]) -> bool:
    from_issuer = [crl for name, crl in by_issuer if name == cert.issuer]
    if not from_issuer or not _may_sign_crls(issuer):
        return False
    current = False
    for crl in from_issuer:
        if any(ext.critical or ext.oid in _CRL_SCOPE for ext in crl.extensions):
            return False
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            return False
        next_update = crl.next_update_utc
        if not current and next_update is not None and crl.last_update_utc <= now <= next_update:
            key = (id(crl), id(issuer))
            if key not in crl_signed:
                crl_signed[key] = crl.is_signature_valid(issuer.public_key())
            current = crl_signed[key]
    return current


def _may_sign_crls(issuer: x509.Certificate) -> bool:
    try:
        return bool(issuer.extensions.get_extension_for_class(x509.KeyUsage).value.crl_sign)
    except x509.ExtensionNotFound:
        return False
