"""A SITHS-like test PKI and card profiles for the simulator.

    CN=TEST SITHS e-id Root CA v2, O=Inera AB, C=SE
      └─ CN=TEST SITHS e-id Person HSA-id 3 CA v1, O=Inera AB, C=SE
           ├─ authentication certificate (slot 9A, digitalSignature)
           └─ signature certificate      (slot 9C, nonRepudiation)

Both end-entity certificates carry the holder's HSA-ID in subject serialNumber (2.5.4.5) and the
card number in a subjectAltName directoryName (serialNumber=<card number>). Policy OIDs are in the
2.999 example arc: they are test values, not Inera's; the app configures the real ones.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hardware.piv_data import NON_FEDERAL_FASCN, Chuid
from hardware.simulator.profile import CardProfile, PrivateKey, SlotProfile, make_atr

KeyType = Literal["rsa2048", "p256", "p384"]
KEY_TYPES: tuple[KeyType, ...] = ("rsa2048", "p256", "p384")

ROOT_CN = "TEST SITHS e-id Root CA v2"
ISSUING_CN = "TEST SITHS e-id Person HSA-id 3 CA v1"
POLICY_AUTH = x509.ObjectIdentifier("2.999.752.1.3.1")  # test "person, authentication" policy
POLICY_SIGN = x509.ObjectIdentifier("2.999.752.1.3.2")  # test "person, signature" policy
CRL_URL = "http://crl.siths.test/testsithseidpersonhsaid3cav1.crl"


def generate_key(key_type: KeyType) -> PrivateKey:
    if key_type == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    raise ValueError(f"unknown key type {key_type!r}")


def _pem(obj: x509.Certificate | x509.CertificateRevocationList) -> str:
    return obj.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _ca_name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Inera AB"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass
class TestPki:
    """Root and issuing CA (keys included) plus the serials the CA has revoked."""

    root_key: PrivateKey
    root: x509.Certificate
    ca_key: PrivateKey
    ca: x509.Certificate
    revoked: dict[int, dt.datetime] = field(default_factory=dict)

    __test__ = False  # not a pytest class

    @classmethod
    def create(cls, key_type: KeyType = "p256", *, not_before: dt.datetime | None = None) -> TestPki:
        """A new root and issuing CA, valid from a day ago (or from `not_before`, for tests that need
        certificates issued long ago, e.g. expired ones)."""
        now = not_before + dt.timedelta(days=1) if not_before else _now()
        root_key = generate_key(key_type)
        root = (x509.CertificateBuilder()
                .subject_name(_ca_name(ROOT_CN)).issuer_name(_ca_name(ROOT_CN))
                .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=7300))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(_ca_usage(), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
                .sign(root_key, hashes.SHA256()))
        ca_key = generate_key(key_type)
        ca = (x509.CertificateBuilder()
              .subject_name(_ca_name(ISSUING_CN)).issuer_name(root.subject)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(_ca_usage(), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                             critical=False)
              .sign(root_key, hashes.SHA256()))
        return cls(root_key, root, ca_key, ca)

    def issue(self, key: PrivateKey, *, hsa_id: str, given_name: str, surname: str, card_number: str,
              signature: bool, days: int = 730, not_before: dt.datetime | None = None,
              key_usage: x509.KeyUsage | None = None) -> x509.Certificate:
        """An end-entity certificate: authentication (signature=False) or signature (True).

        `key_usage` overrides the usual one (tests of the verification policy use it)."""
        start = not_before or _now() - dt.timedelta(hours=1)
        subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.GIVEN_NAME, given_name),
            x509.NameAttribute(NameOID.SURNAME, surname),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, hsa_id),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{given_name} {surname}"),
        ])
        card = x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, card_number)]))
        usage = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment",
                               "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
                               "encipher_only", "decipher_only"), False)
        usage["content_commitment" if signature else "digital_signature"] = True
        builder = (x509.CertificateBuilder()
                   .subject_name(subject).issuer_name(self.ca.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(key_usage or x509.KeyUsage(**usage), critical=True)
                   .add_extension(x509.SubjectAlternativeName([card]), critical=False)
                   .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
                       POLICY_SIGN if signature else POLICY_AUTH, None)]), critical=False)
                   .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                       [x509.UniformResourceIdentifier(CRL_URL)], None, None, None)]), critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                                  critical=False))
        if not signature:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return builder.sign(self.ca_key, hashes.SHA256())

    def revoke(self, cert: x509.Certificate, when: dt.datetime | None = None) -> None:
        self.revoked[cert.serial_number] = when or _now()

    def crl(self, days: int = 30, *, last_update: dt.datetime | None = None,
            next_update: dt.datetime | None = None,
            signer_key: PrivateKey | None = None) -> x509.CertificateRevocationList:
        """The issuing CA's CRL. `last_update`/`next_update` make stale CRLs and `signer_key` a CRL
        signed by the wrong key (tests of the verification policy)."""
        now = _now()
        last_update = last_update or now - dt.timedelta(minutes=5)
        next_update = next_update or now + dt.timedelta(days=days)
        signer_key = signer_key or self.ca_key
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.ca.subject)
                   .last_update(last_update).next_update(next_update)
                   .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                                  critical=False))
        for serial, when in sorted(self.revoked.items()):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
        return builder.sign(signer_key, hashes.SHA256())

    def chain_pem(self) -> list[str]:
        return [_pem(self.ca), _pem(self.root)]


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                         encipher_only=False, decipher_only=False)


def random_card_number() -> str:
    """A 20-digit test card number ('9752' + 15 random digits + Luhn check digit)."""
    body = "9752" + "".join(str(secrets.randbelow(10)) for _ in range(15))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def make_profile(*, hsa_id: str = "TSTNMT2321000156-1019", given_name: str = "Test", surname: str = "Testsson",
                 card_number: str | None = None, key_type: KeyType = "p256", pin: str = "123456",
                 puk: str = "12345678", pki: TestPki | None = None, compress: bool = False,
                 revoke: bool = False, days: int = 730, not_before: dt.datetime | None = None) -> CardProfile:
    """A card with an authentication (9A) and a signature (9C) key and certificate.

    Pass `pki` to issue many cards under one CA; `revoke=True` puts both certificates on the CRL
    stored in the profile. `compress` stores the certificates gzipped, as some PIV cards do.
    """
    pki = pki or TestPki.create(key_type)
    card_number = card_number or random_card_number()
    slots: dict[int, SlotProfile] = {}
    certs = []
    for ref, is_signature in ((0x9A, False), (0x9C, True)):
        key = generate_key(key_type)
        cert = pki.issue(key, hsa_id=hsa_id, given_name=given_name, surname=surname, card_number=card_number,
                         signature=is_signature, days=days, not_before=not_before)
        certs.append(cert)
        slots[ref] = SlotProfile(_key_pem(key), _pem(cert), compress)
    if revoke:
        for cert in certs:
            pki.revoke(cert)
    expiry = certs[0].not_valid_after_utc.strftime("%Y%m%d")
    chuid = Chuid(NON_FEDERAL_FASCN, secrets.token_bytes(16), expiry)
    return CardProfile(pin=pin, puk=puk, atr=make_atr(), chuid=chuid, slots=slots, hsa_id=hsa_id,
                       card_number=card_number, issuer_chain_pem=pki.chain_pem(), crl_pem=_pem(pki.crl()))
