"""Card verification through the real reader stack: the full policy (`hardware.verify`) on the simulated
card inserted into pcscd through vpcd, against a floor measured in the same run.

Floor: the very APDUs our verification sent (recorded, then replayed raw through pyscard's `scard` on a
fresh connection) plus the signature checks the verification needs, done directly with `cryptography`
(each end-entity certificate by the issuing CA, the CA by the root, the CRL by the CA, the serials not on
it, and the card's signature over the challenge). Also OpenSC's time to read the same certificate
(`pkcs15-tool --read-certificate 01`, a fresh process each time, as a desk tool would run it).

Needs pcscd with the vpcd reader free (scripts/services.sh: start_pcscd_with_vpcd)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

from hardware.connection import WrappedConnection

ROUNDS = int(os.environ.get("BENCH_VERIFY_ROUNDS", "40"))
READER = os.environ.get("CARDADMIN_VPCD_READER", "Virtual PCD 00 00")
PIN = "123456"


class _Recorder(WrappedConnection):
    """A connection that records every raw command APDU it passes on."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.apdus: list[bytes] = []

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        self.apdus.append(bytes(apdu))
        return self.inner.send_and_receive(apdu)


def _ours(profile: Any, pki: Any, crl: Any, policy: Any, record: bool = False) -> tuple[float, list[bytes]]:
    from hardware import pcsc
    from hardware.verify import verify_connection

    start = time.perf_counter()
    conn = pcsc.connect(READER)
    wrapped = _Recorder(conn) if record else conn
    try:
        result = verify_connection(wrapped, hsa_id=profile.hsa_id, card_number=profile.card_number,
                                   trust_anchors=[pki.root], intermediates=[pki.ca], crls=[crl],
                                   pin=PIN, policy=policy, reader=conn.reader)
    finally:
        conn.close()
    elapsed = time.perf_counter() - start
    assert result.ok, result.failed
    return elapsed, wrapped.apdus if record else []


def _floor(apdus: list[bytes], profile: Any, pki: Any, crl_der: bytes) -> float:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.serialization import Encoding
    from smartcard import scard

    from hardware.certs import signature_hash

    def check(issuer_key: Any, signature: bytes, data: bytes, hash_algorithm: Any) -> None:
        if isinstance(issuer_key, rsa.RSAPublicKey):
            issuer_key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
        else:
            issuer_key.verify(signature, data, ec.ECDSA(hash_algorithm))

    ders = [profile.slots[ref].certificate().public_bytes(Encoding.DER) for ref in (0x9A, 0x9C)]
    auth_key = profile.slots[0x9A].private_key()
    start = time.perf_counter()
    _hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    hr, card, protocol = scard.SCardConnect(ctx, READER, scard.SCARD_SHARE_EXCLUSIVE,
                                            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
    assert hr == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hr)
    responses = []
    for apdu in apdus:
        hr, response = scard.SCardTransmit(card, protocol, list(apdu))
        assert hr == scard.SCARD_S_SUCCESS
        responses.append(response)
    scard.SCardDisconnect(card, scard.SCARD_RESET_CARD)
    scard.SCardReleaseContext(ctx)
    certs = [x509.load_der_x509_certificate(d) for d in ders]
    crl = x509.load_der_x509_crl(crl_der)
    for cert in certs:
        check(pki.ca.public_key(), cert.signature, cert.tbs_certificate_bytes, cert.signature_hash_algorithm)
        assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is None
    check(pki.root.public_key(), pki.ca.signature, pki.ca.tbs_certificate_bytes, pki.ca.signature_hash_algorithm)
    assert crl.is_signature_valid(pki.ca.public_key())
    # The challenge signature (made here, outside the timed card work, only to have one to check).
    elapsed = time.perf_counter() - start
    challenge = os.urandom(32)
    h = signature_hash(certs[0].public_key())
    sig = (auth_key.sign(challenge, padding.PKCS1v15(), h) if isinstance(auth_key, rsa.RSAPrivateKey)
           else auth_key.sign(challenge, ec.ECDSA(h)))
    start = time.perf_counter()
    check(certs[0].public_key(), sig, challenge, h)
    return elapsed + time.perf_counter() - start


def _opensc(rounds: int) -> float | None:
    if shutil.which("pkcs15-tool") is None:
        return None
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        done = subprocess.run(["pkcs15-tool", "-r", READER, "--read-certificate", "01"], capture_output=True,
                              text=True, timeout=60, check=False)
        times.append(time.perf_counter() - start)
        assert "BEGIN CERTIFICATE" in done.stdout, done.stderr
    return statistics.median(times)


def _median(fn: Callable[[], float], rounds: int) -> float:
    return statistics.median(fn() for _ in range(rounds))


def main(rounds: int = ROUNDS, key_types: tuple[str, ...] = ("p256", "p384", "rsa2048"), opensc: int = 5) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    from hardware import pcsc
    from hardware.simulator import SimulatedPivCard, TestPki, VpcdBridge, make_profile
    from hardware.simulator.testpki import POLICY_AUTH, POLICY_SIGN
    from hardware.verify import VerificationPolicy

    if READER not in pcsc.list_readers() or pcsc.reader_has_card(READER):
        raise SystemExit(f"bench verify needs pcscd with a free {READER!r} (scripts/services.sh)")
    policy = VerificationPolicy(frozenset({POLICY_AUTH.dotted_string}), frozenset({POLICY_SIGN.dotted_string}))
    print(f"## card verification through pcscd + vpcd ({rounds} rounds, median)")
    print("| card | APDUs | cardadmin ms | floor ms | ratio (ours / floor) | OpenSC read cert ms |")
    print("|---|---|---|---|---|---|")
    for key_type in key_types:
        pki = TestPki.create("p256" if key_type != "rsa2048" else "rsa2048")  # type: ignore[arg-type]
        profile = make_profile(key_type=key_type, pki=pki, pin=PIN)  # type: ignore[arg-type]
        crl = pki.crl()  # one CRL, as a desk reads one file
        crl_der = crl.public_bytes(Encoding.DER)
        bridge = VpcdBridge(SimulatedPivCard(profile))
        bridge.insert()
        try:
            deadline = time.monotonic() + 5
            while not pcsc.reader_has_card(READER):
                assert time.monotonic() < deadline
                time.sleep(0.02)
            _t, apdus = _ours(profile, pki, crl, policy, record=True)
            for _ in range(3):  # warm both paths
                _ours(profile, pki, crl, policy)
                _floor(apdus, profile, pki, crl_der)
            ours, floor = [], []
            for _ in range(rounds):  # interleaved, so drift on a shared machine hits both alike
                ours.append(_ours(profile, pki, crl, policy)[0])
                floor.append(_floor(apdus, profile, pki, crl_der))
            opensc_s = _opensc(opensc) if opensc else None
        finally:
            bridge.remove()
            while pcsc.reader_has_card(READER):
                time.sleep(0.02)
        o, f = statistics.median(ours), statistics.median(floor)
        opensc_ms = f"{opensc_s * 1000:.0f}" if opensc_s else "-"
        print(f"| {key_type} | {len(apdus)} | {o * 1000:.1f} | {f * 1000:.1f} | {o / f:.2f} × | {opensc_ms} |")


if __name__ == "__main__":
    main()
