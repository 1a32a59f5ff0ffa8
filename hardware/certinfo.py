"""What a certificate says, for people: `inspect(data)` on PEM or DER gives a plain dict.

Built to read whatever SITHS has issued over the years, including older certificates whose
subject serialNumber is not an HSA-ID of today's `SE…-…` form (e.g. `HSASERVICES-100S`), RSA-1024
keys and SHA-1 signatures: it reports what is there and never judges or crashes. A field that
cannot be parsed is reported as `{"error": "..."}`; input that is not a certificate at all raises
ValueError with a message fit to show.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from hardware.certs import card_number_of

# HSA-ID: SE + 10-digit organisation number + '-' + [A-Za-z0-9]+, at most 31 characters; test data
# uses TSTNMT + 10 digits + '-' + ....
_HSA_ID = re.compile(r"^(SE\d{10}|TSTNMT\d{10})-[A-Za-z0-9]+$")

_KEY_USAGES = (("digital_signature", "digitalSignature"), ("content_commitment", "nonRepudiation"),
               ("key_encipherment", "keyEncipherment"), ("data_encipherment", "dataEncipherment"),
               ("key_agreement", "keyAgreement"), ("key_cert_sign", "keyCertSign"), ("crl_sign", "cRLSign"))


def looks_like_hsa_id(value: str | None) -> bool:
    return bool(value) and len(value or "") <= 31 and bool(_HSA_ID.match(value or ""))


def load_any_certificate(data: bytes) -> x509.Certificate:
    """The first certificate in PEM or DER `data`; ValueError with a readable message otherwise."""
    if not data:
        raise ValueError("The file is empty.")
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificate(data[data.index(b"-----BEGIN CERTIFICATE-----"):])
        if data.lstrip().startswith(b"-----BEGIN"):
            label = data.lstrip().split(b"\n", 1)[0].decode("ascii", "replace").strip("- ")
            raise ValueError(f"This is a PEM {label.removeprefix('BEGIN ')!r}, not a certificate.")
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        if str(exc).startswith("This is a PEM"):
            raise
        raise ValueError(f"Not a certificate in PEM or DER form ({exc}).") from None


def _name(name: x509.Name) -> dict[str, Any]:
    return {"rfc4514": name.rfc4514_string(),
            "attributes": [{"oid": a.oid.dotted_string, "name": getattr(a.oid, "_name", a.oid.dotted_string),
                            "value": a.value if isinstance(a.value, str) else a.value.hex()}
                           for a in name]}


def _key(cert: x509.Certificate) -> dict[str, Any]:
    try:
        key = cert.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return {"type": "unknown", "error": str(exc)}
    if isinstance(key, rsa.RSAPublicKey):
        return {"type": "RSA", "size": key.key_size}
    if isinstance(key, ec.EllipticCurvePublicKey):
        return {"type": "EC", "curve": key.curve.name, "size": key.curve.key_size}
    if isinstance(key, dsa.DSAPublicKey):
        return {"type": "DSA", "size": key.key_size}
    if isinstance(key, ed25519.Ed25519PublicKey):
        return {"type": "Ed25519", "size": 256}
    if isinstance(key, ed448.Ed448PublicKey):
        return {"type": "Ed448", "size": 456}
    return {"type": type(key).__name__}


def _ext(cert: x509.Certificate, cls: type[x509.ExtensionType]) -> Any:
    """The extension's value, None when absent; raises ValueError when it does not parse."""
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _safe(fn: Any) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - one broken extension must not hide the rest
        return {"error": f"{type(exc).__name__}: {exc}"}


def _key_usage(cert: x509.Certificate) -> list[str] | None:
    ku = _ext(cert, x509.KeyUsage)
    if ku is None:
        return None
    out = [label for attr, label in _KEY_USAGES if getattr(ku, attr)]
    if ku.key_agreement:
        out += [label for attr, label in (("encipher_only", "encipherOnly"), ("decipher_only", "decipherOnly"))
                if getattr(ku, attr)]
    return out


def _eku(cert: x509.Certificate) -> list[dict[str, str]] | None:
    eku = _ext(cert, x509.ExtendedKeyUsage)
    if eku is None:
        return None
    return [{"oid": o.dotted_string, "name": getattr(o, "_name", o.dotted_string)} for o in eku]


def _policies(cert: x509.Certificate) -> list[str] | None:
    pol = _ext(cert, x509.CertificatePolicies)
    return None if pol is None else [p.policy_identifier.dotted_string for p in pol]


def _crl_points(cert: x509.Certificate) -> list[str] | None:
    cdp = _ext(cert, x509.CRLDistributionPoints)
    if cdp is None:
        return None
    out = []
    for point in cdp:
        for gn in point.full_name or ():
            out.append(str(gn.value) if isinstance(gn, x509.UniformResourceIdentifier) else str(gn))
    return out


def _ocsp(cert: x509.Certificate) -> list[str] | None:
    aia = _ext(cert, x509.AuthorityInformationAccess)
    if aia is None:
        return None
    return [str(d.access_location.value) for d in aia
            if d.access_method == AuthorityInformationAccessOID.OCSP]


def _basic(cert: x509.Certificate) -> dict[str, Any] | None:
    bc = _ext(cert, x509.BasicConstraints)
    return None if bc is None else {"ca": bc.ca, "path_length": bc.path_length}


def inspect(data: bytes) -> dict[str, Any]:
    """Everything a desk needs to know about one certificate (PEM or DER). ValueError if unreadable.

    Parser warnings (e.g. a non-positive serial number) are reported under "warnings"."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = _inspect(load_any_certificate(data))
    info["warnings"] = sorted({str(w.message) for w in caught})
    return info


def _inspect(cert: x509.Certificate) -> dict[str, Any]:
    subject = _safe(lambda: _name(cert.subject))
    serials = _safe(lambda: [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)])
    serial_number = serials[0] if isinstance(serials, list) and serials else None
    try:
        sig_hash = cert.signature_hash_algorithm
        sig_hash_name = sig_hash.name if sig_hash else None
    except Exception:  # noqa: BLE001 - unsupported algorithm
        sig_hash_name = None
    return {
        "subject": subject,
        "serial_number": serial_number,
        "hsa_id": serial_number if looks_like_hsa_id(serial_number) else None,
        "serial_number_is_hsa_id": looks_like_hsa_id(serial_number),
        "issuer": _safe(lambda: _name(cert.issuer)),
        "certificate_serial": _safe(lambda: f"{cert.serial_number:X}"),
        "version": _safe(lambda: cert.version.name),
        "not_before": _safe(lambda: cert.not_valid_before_utc.isoformat()),
        "not_after": _safe(lambda: cert.not_valid_after_utc.isoformat()),
        "signature_algorithm": _safe(lambda: cert.signature_algorithm_oid._name),
        "signature_hash": sig_hash_name,
        "public_key": _safe(lambda: _key(cert)),
        "key_usage": _safe(lambda: _key_usage(cert)),
        "extended_key_usage": _safe(lambda: _eku(cert)),
        "basic_constraints": _safe(lambda: _basic(cert)),
        "policies": _safe(lambda: _policies(cert)),
        "crl_distribution_points": _safe(lambda: _crl_points(cert)),
        "ocsp_urls": _safe(lambda: _ocsp(cert)),
        "card_number": _safe(lambda: card_number_of(cert)),
        "sha256": _safe(lambda: cert.fingerprint(hashes.SHA256()).hex()),
    }
