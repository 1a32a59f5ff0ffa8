"""The fast path (hardware/fastpath.py) against the rule it shortcuts (pyhanko-certvalidator), over many PKI shapes.

Each shape is a root, an issuing CA (sometimes two levels), a holder certificate, CRLs and the trust
configuration, varied one property at a time: the usual SITHS-like shape, and every shape where the two
validators are known or likely to judge differently (policy processing, name constraints, string
preparation of names, anchor limits, CRL scope, freshness, signers, algorithms). Two properties:

- every "yes" from the fast path is a "yes" from pyhanko-certvalidator (it may only ever say less);
- the whole verification gives exactly the same checks, reasons included, with and without the fast path.
And the usual shapes must take the fast path, or the speed it exists for is gone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID, ObjectIdentifier

import hardware.verify as verify_module
from hardware.certs import load_certificate
from hardware.fastpath import trusted_unrevoked_paths
from hardware.profiles import CardApplication, CardCertificate, KeyRole
from hardware.verify import VerificationPolicy, _validate, verify

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)
HSA_ID = "TSTNMT2321000156-1019"
CARD_NUMBER = "9752269700000012345"
POLICY = x509.ObjectIdentifier("2.999.1.1")
UNKNOWN = ObjectIdentifier("2.999.9.9")


def _key(kind: str = "p256") -> Any:
    if kind == "rsa2048":
        return rsa.generate_private_key(65537, 2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(65537, 1024)  # noqa: S505 - a weak key is the point of that shape
    return ec.generate_private_key(ec.SECP384R1() if kind == "p384" else ec.SECP256R1())


def _name(cn: str, *, string_type: Any = None) -> x509.Name:
    extra = {"_type": string_type} if string_type else {}
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Inera AB", **extra),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn, **extra)])


def _usage(*, cert_sign: bool = False, crl_sign: bool = False, digital_signature: bool = False,
           non_repudiation: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=digital_signature, content_commitment=non_repudiation,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=crl_sign, encipher_only=False, decipher_only=False)


@dataclass
class Shape:
    """One PKI, described by what differs from the usual SITHS-like one."""

    key: str = "p256"
    leaf_key: str = "p256"
    root_pathlen: int | None = None
    root_days: tuple[int, int] = (-10, 7300)
    ca_days: tuple[int, int] = (-5, 3650)
    ca_usage: x509.KeyUsage = field(default_factory=lambda: _usage(cert_sign=True, crl_sign=True))
    ca_is_ca: bool = True
    ca_pathlen: int | None = 0
    ca_extensions: list[tuple[Any, bool]] = field(default_factory=list)
    ca_policies: list[x509.ObjectIdentifier] | None = None  # None: no certificatePolicies extension
    second_level_ca: bool = False  # root -> policy CA -> issuing CA -> holder
    policy_ca_pathlen: int | None = None
    leaf_issuer_cn: str | None = None  # the holder certificate names its issuer differently
    leaf_issuer_string_type: Any = None
    leaf_extensions: list[tuple[Any, bool]] = field(default_factory=list)
    leaf_eku: list[x509.ObjectIdentifier] | None = field(default_factory=lambda: [ExtendedKeyUsageOID.CLIENT_AUTH])
    leaf_is_ca: bool = False
    leaf_hash: Any = field(default_factory=hashes.SHA256)
    crl_points: list[x509.DistributionPoint] | None = None
    crls: str = "good"  # see _crls
    revoked: bool = False
    anchor: str = "root"  # "root", "ca" (the issuing CA as anchor), "both", "other"
    give_intermediates: bool = True


def _cert(subject: x509.Name, issuer: x509.Name, public_key: Any, signer: Any, days: tuple[int, int],
          extensions: list[tuple[Any, bool]], hash_algorithm: Any = None) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW + days[0] * DAY).not_valid_after(NOW + days[1] * DAY))
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder.sign(signer, hash_algorithm or hashes.SHA256())


@dataclass
class Pki:
    anchors: list[x509.Certificate]
    intermediates: list[x509.Certificate]
    leaf: x509.Certificate
    crls: list[x509.CertificateRevocationList]


def build(shape: Shape) -> Pki:
    root_key, ca_key, leaf_key = _key(shape.key), _key(shape.key), _key(shape.leaf_key)
    root_name = _name("TEST SITHS e-id Root CA v2")
    root = _cert(root_name, root_name, root_key.public_key(), root_key, shape.root_days, [
        (x509.BasicConstraints(ca=True, path_length=shape.root_pathlen), True),
        (_usage(cert_sign=True, crl_sign=True), True),
        (x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)])
    parent_name, parent_key, chain = root_name, root_key, []
    if shape.second_level_ca:
        mid_key = _key(shape.key)
        mid_name = _name("TEST SITHS e-id Policy CA v1")
        chain.append(_cert(mid_name, root_name, mid_key.public_key(), root_key, (-5, 3650), [
            (x509.BasicConstraints(ca=True, path_length=shape.policy_ca_pathlen), True),
            (_usage(cert_sign=True, crl_sign=True), True)]))
        parent_name, parent_key = mid_name, mid_key
    ca_name = _name("TEST SITHS e-id Person HSA-id 3 CA v1")
    ca_exts: list[tuple[Any, bool]] = [(x509.BasicConstraints(ca=shape.ca_is_ca, path_length=shape.ca_pathlen
                                                              if shape.ca_is_ca else None), True),
                                       (shape.ca_usage, True),
                                       (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
                                       (x509.AuthorityKeyIdentifier.from_issuer_public_key(parent_key.public_key()),
                                        False), *shape.ca_extensions]
    if shape.ca_policies is not None:
        ca_exts.append((x509.CertificatePolicies([x509.PolicyInformation(p, None) for p in shape.ca_policies]), False))
    ca = _cert(ca_name, parent_name, ca_key.public_key(), parent_key, shape.ca_days, ca_exts)
    chain.append(ca)
    leaf_issuer = (_name(shape.leaf_issuer_cn or "TEST SITHS e-id Person HSA-id 3 CA v1",
                         string_type=shape.leaf_issuer_string_type)
                   if shape.leaf_issuer_cn or shape.leaf_issuer_string_type else ca_name)
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
                         x509.NameAttribute(NameOID.SERIAL_NUMBER, HSA_ID),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Test Testsson")])
    points = shape.crl_points if shape.crl_points is not None else [
        x509.DistributionPoint([x509.UniformResourceIdentifier("http://crl.example/ca.crl")], None, None, None)]
    leaf_exts: list[tuple[Any, bool]] = [
        (x509.BasicConstraints(ca=shape.leaf_is_ca, path_length=None), True),
        (_usage(digital_signature=True), True),
        (x509.SubjectAlternativeName([x509.DirectoryName(x509.Name([
            x509.NameAttribute(NameOID.SERIAL_NUMBER, CARD_NUMBER)]))]), False),
        (x509.CertificatePolicies([x509.PolicyInformation(POLICY, None)]), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        *shape.leaf_extensions]
    if points:
        leaf_exts.append((x509.CRLDistributionPoints(points), False))
    if shape.leaf_eku is not None:
        leaf_exts.append((x509.ExtendedKeyUsage(shape.leaf_eku), False))
    leaf = _cert(subject, leaf_issuer, leaf_key.public_key(), ca_key, (-1, 700), leaf_exts, shape.leaf_hash)
    anchors = {"root": [root], "ca": [ca], "both": [root, ca], "other": [_other_root()]}[shape.anchor]
    return Pki(anchors, chain if shape.give_intermediates else [], leaf,
               _crls(shape, ca_name, ca_key, root_name, root_key, leaf))


def _other_root() -> x509.Certificate:
    key = _key()
    name = _name("Some Other Root")
    return _cert(name, name, key.public_key(), key, (-1, 100), [
        (x509.BasicConstraints(ca=True, path_length=None), True), (_usage(cert_sign=True, crl_sign=True), True)])


def _crl(issuer: x509.Name, key: Any, *, revoke: int | None = None, last: int = -1, next_days: int | None = 30,
         extensions: list[tuple[Any, bool]] = ()) -> x509.CertificateRevocationList:  # type: ignore[assignment]
    builder = x509.CertificateRevocationListBuilder().issuer_name(issuer).last_update(NOW + last * DAY)
    if next_days is not None:
        builder = builder.next_update(NOW + next_days * DAY)
    builder = builder.add_extension(x509.CRLNumber(1), critical=False)
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    if revoke is not None:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(revoke).revocation_date(NOW - DAY).build())
    return builder.sign(key, hashes.SHA256())


def _crls(shape: Shape, ca_name: x509.Name, ca_key: Any, root_name: x509.Name, root_key: Any,
          leaf: x509.Certificate) -> list[x509.CertificateRevocationList]:
    serial = leaf.serial_number if shape.revoked else None
    idp_user_only = x509.IssuingDistributionPoint(None, None, True, False, None, False, False)
    idp_ca_only = x509.IssuingDistributionPoint(None, None, False, True, None, False, False)
    make: dict[str, Callable[[], list[x509.CertificateRevocationList]]] = {
        "good": lambda: [_crl(ca_name, ca_key, revoke=serial)],
        "none": lambda: [],
        "stale": lambda: [_crl(ca_name, ca_key, revoke=serial, last=-40, next_days=-10)],
        "future": lambda: [_crl(ca_name, ca_key, revoke=serial, last=2)],
        "wrong_signer": lambda: [_crl(ca_name, _key(shape.key), revoke=serial)],
        "by_root": lambda: [_crl(root_name, root_key, revoke=serial)],
        "user_only_idp": lambda: [_crl(ca_name, ca_key, revoke=serial, extensions=[(idp_user_only, True)])],
        "ca_only_idp": lambda: [_crl(ca_name, ca_key, revoke=serial, extensions=[(idp_ca_only, True)])],
        "delta": lambda: [_crl(ca_name, ca_key, revoke=serial, extensions=[(x509.DeltaCRLIndicator(1), True)])],
        "unknown_critical": lambda: [_crl(ca_name, ca_key, revoke=serial, extensions=[
            (x509.UnrecognizedExtension(UNKNOWN, b"\x05\x00"), True)])],
        "stale_and_good": lambda: [_crl(ca_name, ca_key, last=-40, next_days=-10),
                                   _crl(ca_name, ca_key, revoke=serial)],
        "good_and_revoking": lambda: [_crl(ca_name, ca_key), _crl(ca_name, ca_key, revoke=leaf.serial_number)],
        "good_and_forged_revoking": lambda: [_crl(ca_name, ca_key), _crl(ca_name, _key(shape.key),
                                                                          revoke=leaf.serial_number)],
    }
    return make[shape.crls]()


PLAIN = Shape()
SHAPES: dict[str, Shape] = {
    "usual p256": PLAIN,
    "usual p384 holder": replace(PLAIN, leaf_key="p384"),
    "usual rsa2048": replace(PLAIN, key="rsa2048", leaf_key="rsa2048"),
    "usual with CA policies": replace(PLAIN, ca_policies=[POLICY]),
    "usual with anyPolicy CA": replace(PLAIN, ca_policies=[x509.ObjectIdentifier("2.5.29.32.0")]),
    "two CA levels": replace(PLAIN, second_level_ca=True, ca_pathlen=None),
    "no EKU": replace(PLAIN, leaf_eku=None),
    "EKU serverAuth only": replace(PLAIN, leaf_eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
    "EKU emailProtection only": replace(PLAIN, leaf_eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION]),
    "revoked": replace(PLAIN, revoked=True),
    "no CRL": replace(PLAIN, crls="none"),
    "stale CRL": replace(PLAIN, crls="stale"),
    "CRL from the future": replace(PLAIN, crls="future"),
    "CRL signed by another key": replace(PLAIN, crls="wrong_signer"),
    "CRL from the root only": replace(PLAIN, crls="by_root"),
    "CRL for user certificates only": replace(PLAIN, crls="user_only_idp"),
    "CRL for CA certificates only": replace(PLAIN, crls="ca_only_idp"),
    "delta CRL only": replace(PLAIN, crls="delta"),
    "CRL with unknown critical extension": replace(PLAIN, crls="unknown_critical"),
    "stale and current CRL": replace(PLAIN, crls="stale_and_good"),
    "current CRL and one revoking": replace(PLAIN, crls="good_and_revoking"),
    "current CRL and a forged one revoking": replace(PLAIN, crls="good_and_forged_revoking"),
    "CRL point with cRLIssuer": replace(PLAIN, crl_points=[x509.DistributionPoint(
        None, None, None, [x509.DirectoryName(_name("Some CRL Issuer"))])]),
    "CRL point with reasons": replace(PLAIN, crl_points=[x509.DistributionPoint(
        [x509.UniformResourceIdentifier("http://crl.example/key.crl")], None,
        frozenset({x509.ReasonFlags.key_compromise}), None)]),
    "no CRL point": replace(PLAIN, crl_points=[]),
    "freshest CRL pointer": replace(PLAIN, leaf_extensions=[(x509.FreshestCRL([x509.DistributionPoint(
        [x509.UniformResourceIdentifier("http://crl.example/delta.crl")], None, None, None)]), False)]),
    "CA without cRLSign": replace(PLAIN, ca_usage=_usage(cert_sign=True)),
    "CA without keyCertSign": replace(PLAIN, ca_usage=_usage(crl_sign=True)),
    "CA that is no CA": replace(PLAIN, ca_is_ca=False),
    "CA expired": replace(PLAIN, ca_days=(-400, -1)),
    "CA not yet valid": replace(PLAIN, ca_days=(1, 400)),
    "root expired": replace(PLAIN, root_days=(-400, -1)),
    "root pathLen 0 over an issuing CA": replace(PLAIN, root_pathlen=0),
    "issuing CA pathLen 0 under a policy CA": replace(PLAIN, second_level_ca=True, ca_pathlen=0),
    "policy CA pathLen 0 over the issuing CA": replace(PLAIN, second_level_ca=True, policy_ca_pathlen=0),
    "CA requires explicit policy, leaf policy not in CA's": replace(
        PLAIN, ca_policies=[x509.ObjectIdentifier("2.999.2.2")],
        ca_extensions=[(x509.PolicyConstraints(require_explicit_policy=0, inhibit_policy_mapping=None), True)]),
    "CA requires explicit policy, leaf policy in CA's": replace(
        PLAIN, ca_policies=[POLICY],
        ca_extensions=[(x509.PolicyConstraints(require_explicit_policy=0, inhibit_policy_mapping=None), True)]),
    "CA requires explicit policy (non-critical), leaf policy not in CA's": replace(
        PLAIN, ca_policies=[x509.ObjectIdentifier("2.999.2.2")],
        ca_extensions=[(x509.PolicyConstraints(require_explicit_policy=0, inhibit_policy_mapping=None), False)]),
    # policyMappings (cryptography has no class for it): anyPolicy -> 2.999.1.1, which RFC 5280 forbids
    "CA maps anyPolicy (non-critical)": replace(PLAIN, ca_policies=[POLICY], ca_extensions=[(x509.UnrecognizedExtension(
        ExtensionOID.POLICY_MAPPINGS, bytes.fromhex("300e300c0604551d2000060488370101")), False)]),
    "CA name constraints exclude the holder (non-critical)": replace(PLAIN, ca_extensions=[(x509.NameConstraints(
        permitted_subtrees=None, excluded_subtrees=[x509.DirectoryName(x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE")]))]), False)]),
    "CA inhibits anyPolicy": replace(PLAIN, ca_policies=[x509.ObjectIdentifier("2.5.29.32.0")],
                                     ca_extensions=[(x509.InhibitAnyPolicy(0), True)]),
    "CA name constraints exclude the holder": replace(PLAIN, ca_extensions=[(x509.NameConstraints(
        permitted_subtrees=None, excluded_subtrees=[x509.DirectoryName(x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE")]))]), True)]),
    "CA name constraints permit the holder": replace(PLAIN, ca_extensions=[(x509.NameConstraints(
        permitted_subtrees=[x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "SE")]))],
        excluded_subtrees=None), True)]),
    "CA with unknown critical extension": replace(PLAIN, ca_extensions=[
        (x509.UnrecognizedExtension(UNKNOWN, b"\x05\x00"), True)]),
    "holder with unknown critical extension": replace(PLAIN, leaf_extensions=[
        (x509.UnrecognizedExtension(UNKNOWN, b"\x05\x00"), True)]),
    "holder with unknown non-critical extension": replace(PLAIN, leaf_extensions=[
        (x509.UnrecognizedExtension(UNKNOWN, b"\x05\x00"), False)]),
    "holder that is a CA": replace(PLAIN, leaf_is_ca=True),
    "holder signed with SHA-512": replace(PLAIN, leaf_hash=hashes.SHA512()),
    "holder signed with SHA-224": replace(PLAIN, leaf_hash=hashes.SHA224()),
    "holder RSA-1024": replace(PLAIN, key="rsa2048", leaf_key="rsa1024"),
    "issuer name differs in case": replace(PLAIN, leaf_issuer_cn="test siths e-id person hsa-id 3 ca v1"),
    "issuer name as PrintableString": replace(PLAIN, leaf_issuer_string_type=x509.name._ASN1Type.PrintableString),
    "issuer name of another CA": replace(PLAIN, leaf_issuer_cn="TEST SITHS e-id Person HSA-id 2 CA v1"),
    "issuing CA as the anchor": replace(PLAIN, anchor="ca"),
    "root and issuing CA as anchors": replace(PLAIN, anchor="both"),
    "untrusted root": replace(PLAIN, anchor="other"),
    "intermediate not configured": replace(PLAIN, give_intermediates=False),
}
USUAL = ["usual p256", "usual p384 holder", "usual rsa2048", "usual with CA policies", "usual with anyPolicy CA",
         "two CA levels", "no EKU", "stale and current CRL", "holder with unknown non-critical extension"]


@pytest.fixture(scope="module")
def pkis() -> dict[str, Pki]:
    return {name: build(shape) for name, shape in SHAPES.items()}


def _pyhanko_says(pki: Pki) -> bool:
    return _validate(pki.leaf, anchors=pki.anchors, intermediates=pki.intermediates, moment=NOW,
                     crls=pki.crls).passed


@pytest.mark.parametrize("name", list(SHAPES))
def test_every_yes_of_the_fast_path_is_a_yes_of_the_rule(pkis: dict[str, Pki], name: str) -> None:
    pki = pkis[name]
    fast = trusted_unrevoked_paths([pki.leaf], anchors=pki.anchors, intermediates=pki.intermediates,
                                   crls=pki.crls, now=NOW)
    if fast is not None:
        assert _pyhanko_says(pki), f"{name}: the fast path accepts what pyhanko-certvalidator refuses"
        assert fast[0][0] == pki.leaf and fast[0][-1] in pki.anchors
    if name in USUAL:
        assert fast is not None, f"{name}: the usual shape must take the fast path"


class _App(CardApplication):
    name = "piv"

    def __init__(self, leaf: x509.Certificate) -> None:
        cert = load_certificate(leaf.public_bytes(Encoding.DER))
        self.certs = [CardCertificate(KeyRole.AUTHENTICATION, "9A", cert)]

    def read_certificates(self) -> list[CardCertificate]:
        return self.certs

    def read_card_number(self) -> str | None:
        return None

    def pin_attempts_left(self) -> int | None:
        return None

    def verify_pin(self, pin: str) -> None:
        raise AssertionError("no PIN in these tests")

    def sign_challenge(self, role: KeyRole, challenge: bytes) -> bytes:
        raise AssertionError("no PIN in these tests")


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_verification_is_the_same_with_and_without_the_fast_path(
        pkis: dict[str, Pki], name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pki = pkis[name]
    policy = VerificationPolicy(frozenset({POLICY.dotted_string}), require_possession=False)

    def run() -> list[tuple[str, bool | None, str]]:
        result = verify(_App(pki.leaf), hsa_id=HSA_ID, card_number=CARD_NUMBER, trust_anchors=pki.anchors,
                        intermediates=pki.intermediates, crls=pki.crls, now=NOW, policy=policy)
        return [(c.name, c.passed, c.reason) for c in result.checks]

    with_fast_path = run()
    monkeypatch.setattr(verify_module, "trusted_unrevoked_paths", lambda *a, **k: None)
    assert run() == with_fast_path


def test_the_shapes_cover_both_answers(pkis: dict[str, Pki]) -> None:
    """The comparison is only worth something if the rule says yes to some shapes and no to others, and the
    fast path declines some shapes the rule accepts (where it is stricter or does not process the rule)."""
    verdicts = {name: _pyhanko_says(pki) for name, pki in pkis.items()}
    assert sum(verdicts.values()) >= 12 and sum(not v for v in verdicts.values()) >= 15
    declined = [name for name, pki in pkis.items() if verdicts[name] and trusted_unrevoked_paths(
        [pki.leaf], anchors=pki.anchors, intermediates=pki.intermediates, crls=pki.crls, now=NOW) is None]
    assert declined, "no shape where pyhanko-certvalidator alone decides"
