"""The verification policy against the simulated card: every check passing, and each failing on its own."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from hardware import pcsc
from hardware.connection import CardConnection
from hardware.errors import CardRemoved, HardwareError, InvalidPin, PinBlocked
from hardware.simulator import CardProfile, SimulatedPivCard, TestPki, make_profile
from hardware.simulator.testpki import POLICY_AUTH, POLICY_SIGN
from hardware.verify import (
    CHECK_AUTH_CERT,
    CHECK_CARD,
    CHECK_CARD_NUMBER,
    CHECK_CHAIN,
    CHECK_HSA_ID,
    CHECK_KEY_USAGE,
    CHECK_ORDER,
    CHECK_POLICY,
    CHECK_POSSESSION,
    CHECK_REVOCATION,
    CHECK_SIGN_CERT,
    CHECK_VALIDITY,
    VerificationPolicy,
    VerificationResult,
    load_crls,
    load_trust_anchors,
    verify_connection,
)

HSA_ID = "TSTNMT2321000156-1019"  # as in conftest.py
PIN = "123456"

# The test PKI's OIDs come in as configuration, as the real SITHS OIDs will in production.
TEST_POLICY = VerificationPolicy(frozenset({POLICY_AUTH.dotted_string}), frozenset({POLICY_SIGN.dotted_string}))


def run(conn: CardConnection, pki: TestPki, profile: CardProfile, **overrides: object) -> VerificationResult:
    kwargs: dict[str, object] = dict(hsa_id=HSA_ID, card_number=profile.card_number, trust_anchors=[pki.root],
                                     intermediates=[pki.ca], crls=[pki.crl()], pin=PIN, policy=TEST_POLICY,
                                     reader="sim")
    kwargs.update(overrides)
    return verify_connection(conn, **kwargs)


def failed_names(result: VerificationResult) -> list[str]:
    return [c.name for c in result.failed]


@pytest.mark.parametrize("kt", ["rsa2048", "p256", "p384"])
def test_every_check_passes(pki: TestPki, profiles: dict[str, CardProfile], kt: str) -> None:
    profile = profiles[kt]
    result = run(SimulatedPivCard(profile), pki, profile)
    assert [c.name for c in result.checks] == list(CHECK_ORDER)
    assert all(c.passed for c in result.checks), result.failed
    assert result.ok and result.error is None
    assert result.application == "piv" and result.reader == "sim"
    auth = profile.slots[0x9A].certificate()
    summary = result.certificates[0]
    assert summary.role == "authentication"
    assert summary.sha256 == auth.fingerprint(hashes.SHA256()).hex()
    assert summary.serial == f"{auth.serial_number:X}"
    assert summary.not_after == auth.not_valid_after_utc
    assert "TEST SITHS e-id Person HSA-id 3 CA v1" in summary.issuer
    doc = json.dumps(result.to_dict())
    assert PIN not in doc


def test_wrong_hsa_id(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    result = run(SimulatedPivCard(profiles["p256"]), pki, profiles["p256"], hsa_id="TSTNMT2321000156-9999")
    assert failed_names(result) == [CHECK_HSA_ID]
    assert "TSTNMT2321000156-9999" in result.check(CHECK_HSA_ID).reason


def test_wrong_card_number(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    result = run(SimulatedPivCard(profiles["p256"]), pki, profiles["p256"], card_number="97520000000000000000")
    assert failed_names(result) == [CHECK_CARD_NUMBER]


def test_untrusted_root(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    other = TestPki.create("p256")
    result = run(SimulatedPivCard(profiles["p256"]), pki, profiles["p256"], trust_anchors=[other.root])
    # revocation is not checked on an untrusted path: "not run" counts as not passed
    assert failed_names(result) == [CHECK_CHAIN, CHECK_REVOCATION]
    assert result.check(CHECK_CHAIN).passed is False
    assert "no path to a trusted root" in result.check(CHECK_CHAIN).reason
    assert result.check(CHECK_REVOCATION).passed is None


def test_expired_certificate() -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    pki = TestPki.create("p256", not_before=long_ago)
    profile = make_profile(pki=pki, hsa_id=HSA_ID, pin=PIN, not_before=long_ago, days=365)
    result = run(SimulatedPivCard(profile), pki, profile)
    assert failed_names(result) == [CHECK_VALIDITY, CHECK_REVOCATION]
    assert result.check(CHECK_CHAIN).passed is True  # the chain is judged inside the certificate's validity
    assert result.check(CHECK_REVOCATION).passed is None
    assert "valid" in result.check(CHECK_VALIDITY).reason


def test_not_yet_valid_when_now_is_before(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    profile = profiles["p256"]
    result = run(SimulatedPivCard(profile), pki, profile, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    assert CHECK_VALIDITY in failed_names(result)


def test_revoked_certificate() -> None:
    own = TestPki.create("p256")
    profile = make_profile(pki=own, hsa_id=HSA_ID, pin=PIN, revoke=True)
    result = run(SimulatedPivCard(profile), own, profile)
    assert failed_names(result) == [CHECK_REVOCATION]
    assert result.check(CHECK_REVOCATION).passed is False
    assert "revoked" in result.check(CHECK_REVOCATION).reason


def test_revoked_using_the_crl_from_the_profile() -> None:
    own = TestPki.create("p256")
    profile = make_profile(pki=own, hsa_id=HSA_ID, pin=PIN, revoke=True)
    assert profile.crl_pem
    crl = x509.load_pem_x509_crl(profile.crl_pem.encode())
    result = run(SimulatedPivCard(profile), own, profile, crls=[crl])
    assert failed_names(result) == [CHECK_REVOCATION]


def test_stale_crl(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    now = dt.datetime.now(dt.UTC)
    stale = pki.crl(last_update=now - dt.timedelta(days=10), next_update=now - dt.timedelta(days=1))
    result = run(SimulatedPivCard(profiles["p256"]), pki, profiles["p256"], crls=[stale])
    assert failed_names(result) == [CHECK_REVOCATION]
    assert "not recent enough" in result.check(CHECK_REVOCATION).reason


def test_crl_signed_by_another_key(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    forged = pki.crl(signer_key=TestPki.create("p256").ca_key)
    result = run(SimulatedPivCard(profiles["p256"]), pki, profiles["p256"], crls=[forged])
    assert failed_names(result) == [CHECK_REVOCATION]
    assert "signature" in result.check(CHECK_REVOCATION).reason


def test_no_crl_at_all(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    result = run(SimulatedPivCard(profiles["p256"]), pki, profiles["p256"], crls=[])
    assert failed_names(result) == [CHECK_REVOCATION]
    assert "CRL" in result.check(CHECK_REVOCATION).reason


def test_wrong_key_usage(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    profile = copy.deepcopy(profiles["p256"])
    slot = profile.slots[0x9C]
    auth_only = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                              encipher_only=False, decipher_only=False)
    cert = pki.issue(slot.private_key(), hsa_id=HSA_ID, given_name="Test", surname="Testsson",
                     card_number=str(profile.card_number), signature=True, key_usage=auth_only)
    slot.certificate_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    result = run(SimulatedPivCard(profile), pki, profile)
    assert failed_names(result) == [CHECK_KEY_USAGE]
    assert "signature: nonRepudiation missing" in result.check(CHECK_KEY_USAGE).reason


def test_policy_oids_are_configuration(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    profile = profiles["p256"]
    real_siths = VerificationPolicy(frozenset({"1.2.752.129.2.1.2.1"}), frozenset({"1.2.752.129.2.1.2.2"}))
    result = run(SimulatedPivCard(profile), pki, profile, policy=real_siths)
    assert failed_names(result) == [CHECK_POLICY]
    unconfigured = run(SimulatedPivCard(profile), pki, profile, policy=VerificationPolicy())
    assert unconfigured.check(CHECK_POLICY).passed is None and unconfigured.ok


def test_wrong_pin_reports_attempts_left(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    result = run(SimulatedPivCard(profiles["p256"]), pki, profiles["p256"], pin="000000")
    assert failed_names(result) == [CHECK_POSSESSION]
    assert result.pin_attempts_left == 2
    assert isinstance(result.error, InvalidPin)
    assert "2 attempts left" in result.check(CHECK_POSSESSION).reason
    assert "000000" not in json.dumps(result.to_dict())


def test_blocked_pin(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    card = SimulatedPivCard(profiles["p256"])
    card.pin_tries_left = 0
    result = run(card, pki, profiles["p256"])
    assert failed_names(result) == [CHECK_POSSESSION]
    assert isinstance(result.error, PinBlocked) and result.pin_attempts_left == 0


def test_without_pin_possession_is_not_run(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    result = run(SimulatedPivCard(profiles["p256"]), pki, profiles["p256"], pin=None)
    assert result.check(CHECK_POSSESSION).passed is None
    assert not result.ok  # possession is required by default
    relaxed = run(SimulatedPivCard(profiles["p256"]), pki, profiles["p256"], pin=None,
                  policy=VerificationPolicy(require_possession=False))
    assert relaxed.ok


class _PullAt(CardConnection):
    """Passes APDUs to the card and pulls the card just before APDU number `k` (0-based)."""

    def __init__(self, card: SimulatedPivCard, k: int) -> None:
        self.card, self.k, self.sent = card, k, 0

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        if self.sent == self.k:
            self.card.remove()
        self.sent += 1
        return self.card.send_and_receive(apdu)


def test_card_removed_at_every_apdu_is_a_named_failure(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    """The policy never raises: the check running when the card went names CardRemoved."""
    profile = profiles["p256"]
    counting = _PullAt(SimulatedPivCard(profile), -1)
    assert run(counting, pki, profile).ok
    total = counting.sent
    assert total >= 5
    for k in range(total):
        result = run(_PullAt(SimulatedPivCard(profile), k), pki, profile)
        assert not result.ok, k
        assert isinstance(result.error, CardRemoved), k
        assert [c.name for c in result.checks] == list(CHECK_ORDER), k
        assert any("CardRemoved" in c.reason for c in result.checks if c.passed is False), k


def test_card_without_piv_application(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    class NoPiv(CardConnection):
        def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
            return b"", 0x6A82

    result = run(NoPiv(), pki, profiles["p256"])
    assert result.check(CHECK_CARD).passed is False
    assert isinstance(result.error, HardwareError)
    assert all(c.passed is None for c in result.checks[1:])
    assert [c.name for c in result.checks] == list(CHECK_ORDER)


def test_card_without_signature_certificate(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    profile = copy.deepcopy(profiles["p256"])
    del profile.slots[0x9C]
    result = run(SimulatedPivCard(profile), pki, profile)
    assert failed_names(result) == [CHECK_SIGN_CERT]
    assert result.check(CHECK_AUTH_CERT).passed is True


def test_load_trust_anchors_and_crls(tmp_path: Path, pki: TestPki) -> None:
    pem = pki.root.public_bytes(serialization.Encoding.PEM) + pki.ca.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "bundle.pem").write_bytes(pem)
    (tmp_path / "root.der").write_bytes(pki.root.public_bytes(serialization.Encoding.DER))
    (tmp_path / "readme.txt").write_text("not a certificate")
    assert load_trust_anchors(tmp_path / "bundle.pem") == [pki.root, pki.ca]
    assert load_trust_anchors(tmp_path) == [pki.root, pki.ca, pki.root]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no trust anchor"):
        load_trust_anchors(empty)
    with pytest.raises(ValueError, match="no such file"):
        load_trust_anchors(tmp_path / "missing.pem")
    (tmp_path / "bad.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(ValueError, match="not a readable certificate"):
        load_trust_anchors(tmp_path / "bad.pem")
    crl = pki.crl()
    (tmp_path / "a.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    (tmp_path / "b.crl").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    assert load_crls([tmp_path / "a.crl", tmp_path / "b.crl"]) == [crl, crl]


@pytest.mark.pcsc
def test_full_verification_through_pcscd(pki: TestPki, profiles: dict[str, CardProfile],
                                         vpcd_card: SimulatedPivCard, vpcd_reader: str) -> None:
    conn = pcsc.connect(vpcd_reader)
    try:
        result = run(conn, pki, profiles["rsa2048"], reader=conn.reader)
    finally:
        conn.close()
    assert result.ok, result.failed
    assert result.reader == vpcd_reader



def test_verification_works_inside_a_running_event_loop(pki: TestPki, profiles: dict[str, CardProfile]) -> None:
    """A web server or test harness may already run an event loop; certvalidator's asyncio must not clash."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    profile = profiles["p256"]

    async def inside() -> VerificationResult:
        return run(SimulatedPivCard(profile), pki, profile)

    # On a thread of its own: this thread may already have a loop running (the Playwright fixture's).
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(lambda: asyncio.run(inside())).result().ok
