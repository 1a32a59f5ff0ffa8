"""certinfo.inspect: the real older SITHS certificate, the test PKI's certificates, and garbage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from hardware.certinfo import inspect, looks_like_hsa_id
from hardware.simulator import CardProfile, TestPki
from hardware.simulator.testpki import CRL_URL, POLICY_AUTH, POLICY_SIGN

REALWORLD = Path("/work/shared/realworld/siths-ca-v3-function-2010.pem")


@pytest.mark.skipif(not REALWORLD.exists(), reason="real-world SITHS certificate not present")
def test_real_older_siths_certificate() -> None:
    pem = REALWORLD.read_bytes()
    info = inspect(pem)
    assert info["serial_number"] == "HSASERVICES-100S"
    assert info["serial_number_is_hsa_id"] is False and info["hsa_id"] is None
    assert info["issuer"]["rfc4514"] == "CN=SITHS CA v3,O=Carelink,C=SE"
    assert info["public_key"] == {"type": "RSA", "size": 1024}
    assert info["signature_hash"] == "sha1"
    assert info["not_before"].startswith("2010-02-02") and info["not_after"].startswith("2015-02-02")
    assert info["policies"] == ["1.2.752.74.1.1.4"]
    assert info["key_usage"] == ["digitalSignature", "keyEncipherment"]
    assert [e["name"] for e in info["extended_key_usage"]] == ["emailProtection", "serverAuth", "clientAuth"]
    assert "http://www.carelink.se/siths-ca/ca003.crl" in info["crl_distribution_points"]
    assert info["ocsp_urls"] == ["http://sithsocsp.trust.telia.com"]
    assert info["card_number"] is None
    json.dumps(info)  # all plain data
    # the same certificate as DER
    der_info = inspect(_pem_to_der(pem))
    assert der_info == info


def _pem_to_der(pem: bytes) -> bytes:
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize("slot,policy,usage", [(0x9A, POLICY_AUTH, "digitalSignature"),
                                               (0x9C, POLICY_SIGN, "nonRepudiation")])
def test_test_pki_certificates(profiles: dict[str, CardProfile], slot: int, policy: object, usage: str) -> None:
    profile = profiles["rsa2048"]
    cert = profile.slots[slot].certificate()
    info = inspect(cert.public_bytes(serialization.Encoding.PEM))
    assert info["serial_number"] == info["hsa_id"] == "TSTNMT2321000156-1019"
    assert info["serial_number_is_hsa_id"] is True
    assert info["card_number"] == profile.card_number
    assert info["policies"] == [policy.dotted_string]  # type: ignore[attr-defined]
    assert info["key_usage"] == [usage]
    assert info["crl_distribution_points"] == [CRL_URL]
    assert info["public_key"] == {"type": "RSA", "size": 2048}
    assert info["sha256"] == cert.fingerprint(hashes.SHA256()).hex()
    assert info["ocsp_urls"] is None


def test_ec_keys_and_ca_certificate(profiles: dict[str, CardProfile], pki: TestPki) -> None:
    info = inspect(profiles["p384"].slots[0x9A].certificate().public_bytes(serialization.Encoding.DER))
    assert info["public_key"] == {"type": "EC", "curve": "secp384r1", "size": 384}
    ca = inspect(pki.ca.public_bytes(serialization.Encoding.PEM))
    assert ca["basic_constraints"] == {"ca": True, "path_length": 0}
    assert ca["serial_number"] is None and ca["hsa_id"] is None
    assert ca["key_usage"] == ["keyCertSign", "cRLSign"]


@pytest.mark.parametrize("garbage,message", [
    (b"", "empty"),
    (b"hello world", "Not a certificate"),
    (b"\x30\x82\x01\x00\x00", "Not a certificate"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "Not a certificate"),
    (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PRIVATE KEY"),
    (bytes(range(256)) * 4, "Not a certificate"),
])
def test_garbage_is_a_clear_value_error(garbage: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        inspect(garbage)


def test_pem_with_text_before_it(profiles: dict[str, CardProfile]) -> None:
    pem = profiles["p256"].slots[0x9A].certificate_pem.encode()
    assert inspect(b"Subject: whatever\n" + pem)["hsa_id"] == "TSTNMT2321000156-1019"


@pytest.mark.parametrize("value,expected", [
    ("SE2321000222-4KX7", True), ("TSTNMT2321000156-1019", True), ("HSASERVICES-100S", False),
    ("SE232100022-4KX7", False), ("SE2321000222-", False), ("SE2321000222-" + "A" * 19, False), (None, False),
])
def test_looks_like_hsa_id(value: str | None, expected: bool) -> None:
    assert looks_like_hsa_id(value) is expected


def test_corrupted_certificates_never_crash(profiles: dict[str, CardProfile]) -> None:
    """Every single-byte corruption and truncation of a DER certificate: a dict or a ValueError."""
    der = profiles["p256"].slots[0x9A].certificate().public_bytes(serialization.Encoding.DER)
    variants = [der[:n] for n in range(0, len(der), 7)]
    variants += [der[:i] + bytes([der[i] ^ 0xFF]) + der[i + 1:] for i in range(len(der))]
    for data in variants:
        try:
            info = inspect(data)
        except ValueError:
            continue
        json.dumps(info)


def test_hostile_certificates_are_malformed_answers_not_exceptions(profiles: dict[str, CardProfile]) -> None:
    """A certificate with a duplicated extension (cryptography raises DuplicateExtension, not a ValueError) is a
    MalformedResponse from load_certificate, as every other unusable certificate is."""
    from asn1crypto import x509 as asn1_x509

    from hardware.certs import load_certificate
    from hardware.errors import MalformedResponse

    der = profiles["p256"].slots[0x9A].certificate().public_bytes(serialization.Encoding.DER)
    cert = asn1_x509.Certificate.load(der)
    extensions = cert["tbs_certificate"]["extensions"]
    extensions.append(extensions[0].copy())
    hostile = cert.dump(force=True)
    with pytest.raises(MalformedResponse, match="DuplicateExtension"):
        load_certificate(hostile)
