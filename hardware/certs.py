"""Reading SITHS facts out of card certificates, and checking a card's signature with `cryptography`.

Where things are (see docs/hardware-notes.md):
- HSA-ID: subject serialNumber (2.5.4.5), as SITHS does.
- Card number: subjectAltName directoryName whose serialNumber attribute is the card number
  (our choice for the simulator and test PKI; the printed card number must match it).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from hardware.errors import CardRejected, MalformedResponse


def load_certificate(der: bytes) -> x509.Certificate:
    """A DER certificate parsed completely. cryptography parses some parts only when asked: ask now, so a
    corrupt certificate (from a card or a desk agent) is a typed error here, not an exception later."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise MalformedResponse("certificate is not valid DER X.509") from exc
    try:
        cert.public_key()
        cert.subject, cert.issuer  # noqa: B018 - parsed (and kept) on first access
        list(cert.extensions)
    except UnsupportedAlgorithm as exc:
        raise CardRejected(f"the certificate's key type is not supported ({exc})") from exc
    except Exception as exc:  # noqa: BLE001 - ValueError, DuplicateExtension, UnsupportedGeneralNameType, ...:
        # whatever a hostile card or agent sends, it is a malformed answer, never an exception further up
        raise MalformedResponse(f"certificate does not parse ({type(exc).__name__}: {exc})") from exc
    return cert


def hsa_id_of(cert: x509.Certificate) -> str | None:
    attrs = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(attrs[0].value) if attrs else None


def card_number_of(cert: x509.Certificate) -> str | None:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for name in san.get_values_for_type(x509.DirectoryName):
        attrs = name.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
        if attrs:
            return str(attrs[0].value)
    return None


def signature_hash(public_key: object) -> hashes.HashAlgorithm:
    """The hash we pair with a key for challenge signatures: SHA-384 for P-384, else SHA-256."""
    if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.key_size == 384:
        return hashes.SHA384()
    return hashes.SHA256()


def signature_is_valid(cert: x509.Certificate, message: bytes, signature: bytes,
                       hash_algorithm: hashes.HashAlgorithm | None = None) -> bool:
    """True if `signature` over `message` verifies with the certificate's public key."""
    key = cert.public_key()
    hash_algorithm = hash_algorithm or signature_hash(key)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hash_algorithm))
        else:
            raise CardRejected("the certificate's key type is not supported")
    except (InvalidSignature, ValueError):
        return False
    return True
