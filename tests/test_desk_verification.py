"""The verification service: what a verification stores and audits, that a failed one changes nothing,
who may verify which order, and the desk agent's posted results re-checked on the server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import func, select

from cardadmin.db import db
from cardadmin.desk import posted as posted_module
from cardadmin.desk import verification
from cardadmin.desk.models import CardVerification
from cardadmin.desk.posted import b64
from cardadmin.errors import Conflict, Forbidden, HardwareFailure, InvalidInput, NotFound
from cardadmin.orders.models import Card, Order
from cardadmin.orders.states import Status
from cardadmin.roles import Role
from hardware.certs import signature_hash
from hardware.profiles import open_application
from hardware.simulator import CardProfile, SimulatedPivCard, TestPki, make_profile
from tests.conftest import World, build_world
from tests.desk_support import PIN, DeskPki, make_desk_pki, order_at_desk, person_hsa_id
from tests.test_people import audit_rows, user


@pytest.fixture(scope="module")
def desk_pki(tmp_path_factory: pytest.TempPathFactory) -> DeskPki:
    return make_desk_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def w(make_app: Any, desk_pki: DeskPki) -> Any:
    app = make_app(**desk_pki.config())
    with app.app_context():
        yield build_world()


def _snapshot(order: Order) -> tuple[Any, ...]:
    db.session.expire_all()
    card = db.session.get(Card, order.card_id)
    fresh = db.session.get(Order, order.id)
    assert card is not None and fresh is not None
    return (fresh.status, fresh.handed_over_at, card.status, card.status_changed_at, card.auth_cert_serial,
            card.auth_cert_fingerprint, card.sign_cert_serial, card.sign_cert_fingerprint)


def _verify(w: World, order: Order, card: SimulatedPivCard, pin: str | None = PIN, who: str = "card_admin") -> Any:
    row = verification.verify_card(user(w, who), order.id, card, pin, current_app.config, source="cli",
                                   reader="sim")
    db.session.commit()
    return row


def test_a_passing_verification_is_stored_on_the_card_and_audited(w: World, desk_pki: DeskPki) -> None:
    profile = desk_pki.card(person_hsa_id())
    order = order_at_desk(w, profile.card_number or "")
    before = _snapshot(order)
    row = _verify(w, order, SimulatedPivCard(profile))
    assert row.ok and row.failed_checks == [] and row.error is None
    assert [c["passed"] for c in row.checks] == [True] * 11  # policy OIDs configured: every check runs
    auth = profile.slots[0x9A].certificate()
    assert row.auth_cert_serial == f"{auth.serial_number:X}" and row.reader == "sim" and row.source == "cli"
    after = _snapshot(order)
    assert after[:4] == before[:4]  # verifying is not handing over: statuses unchanged
    assert after[4:] == (row.auth_cert_serial, row.auth_cert_fingerprint, row.sign_cert_serial,
                         row.sign_cert_fingerprint)
    [event] = audit_rows("card.verify")
    data = json.loads(event.data)
    assert event.target_id == str(order.card_id) and event.actor_name == "card_admin"
    assert data["ok"] is True and data["verification_id"] == row.id
    assert data["auth_cert_sha256"] == row.auth_cert_fingerprint


@pytest.mark.parametrize("case", ["wrong_person", "wrong_pin", "revoked", "no_pin", "removed"])
def test_a_failed_verification_is_recorded_and_audited_but_changes_nothing(w: World, desk_pki: DeskPki,
                                                                           case: str) -> None:
    hsa_id = person_hsa_id("OTHER") if case == "wrong_person" else person_hsa_id()
    profile = desk_pki.card(hsa_id, revoke=case == "revoked")
    order = order_at_desk(w, profile.card_number or "")
    before = _snapshot(order)
    card = SimulatedPivCard(profile)
    if case == "removed":
        card.remove()
    row = _verify(w, order, card, pin={"wrong_pin": "654321", "no_pin": None}.get(case, PIN))
    expected = {"wrong_person": "hsa_id_matches", "wrong_pin": "proof_of_possession", "revoked": "not_revoked",
                "no_pin": "proof_of_possession", "removed": "card_application"}[case]
    assert not row.ok and row.failed_checks[0] == expected
    if case != "removed":  # a card gone at once leaves every later check "not run"
        assert row.failed_checks == [expected]
    assert _snapshot(order) == before  # no status, no certificate columns
    [event] = audit_rows("card.verify")
    assert json.loads(event.data)["ok"] is False and json.loads(event.data)["failed_checks"] == row.failed_checks
    if case == "wrong_pin":
        assert row.pin_attempts_left == 2 and row.error == "InvalidPin"
    assert "654321" not in event.data and "654321" not in json.dumps(row.checks)


def test_every_failed_attempt_is_kept(w: World, desk_pki: DeskPki) -> None:
    profile = desk_pki.card(person_hsa_id())
    order = order_at_desk(w, profile.card_number or "")
    _verify(w, order, SimulatedPivCard(profile), pin="000000")
    _verify(w, order, SimulatedPivCard(profile))
    assert [r.ok for r in verification.history(order.id)] == [True, False]
    assert verification.latest(order.id).ok  # type: ignore[union-attr]


def test_who_may_verify_which_order(w: World, desk_pki: DeskPki) -> None:
    from tests.test_people import add_user

    profile = desk_pki.card(person_hsa_id())
    order = order_at_desk(w, profile.card_number or "")
    for who in ("orderer", "ra_officer", "evaluator"):
        with pytest.raises(Forbidden):
            _verify(w, order, SimulatedPivCard(profile), who=who)
    other_desk = add_user(w, "ka_umea", [Role.CARD_ADMIN], w.region_id, [w.other_desk_id])
    with pytest.raises((Forbidden, NotFound)):
        verification.verify_card(other_desk, order.id, SimulatedPivCard(profile), PIN, current_app.config,
                                 source="cli")
    assert db.session.scalar(select(func.count()).select_from(CardVerification)) == 0


def test_an_order_without_a_card_at_the_desk_cannot_be_verified(w: World, desk_pki: DeskPki) -> None:
    profile = desk_pki.card(person_hsa_id())
    order = order_at_desk(w, "975200000000000001", target=Status.IN_PRODUCTION)
    with pytest.raises(Conflict):
        _verify(w, order, SimulatedPivCard(profile))


def test_missing_trust_configuration_is_a_clear_refusal(make_app: Any, desk_pki: DeskPki, tmp_path: Path) -> None:
    app = make_app(**desk_pki.config(CARDADMIN_TRUST_ANCHORS=""))
    with app.app_context():
        w = build_world()
        profile = desk_pki.card(person_hsa_id())
        order = order_at_desk(w, profile.card_number or "")
        with pytest.raises(HardwareFailure, match="inte inställd"):
            _verify(w, order, SimulatedPivCard(profile))
        app.config["CARDADMIN_TRUST_ANCHORS"] = str(tmp_path / "nowhere")
        with pytest.raises(HardwareFailure, match="nowhere"):
            _verify(w, order, SimulatedPivCard(profile))


# ---------------------------------------------------------------- desk agent results, re-checked


def agent_report(profile: CardProfile, token: str, challenge: bytes, *, pin: str = PIN,
                 sign_this: bytes | None = None) -> dict[str, Any]:
    """What the desk agent posts: the card's certificates and its signature over the server's challenge."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from hardware.profiles import KeyRole

    card = SimulatedPivCard(profile)
    app = open_application(card)
    certs = {c.role.value: b64(c.certificate.public_bytes(Encoding.DER)) for c in app.read_certificates()}
    app.verify_pin(pin)
    auth = app.certificate_for(KeyRole.AUTHENTICATION)
    assert auth is not None and signature_hash(auth.public_key())
    signature = app.sign_challenge(KeyRole.AUTHENTICATION, sign_this or challenge)
    return {"reader": "Desk reader 0", "application": "piv", "certificates": certs, "challenge_token": token,
            "signature": b64(signature)}


def _post(w: World, order: Order, body: dict[str, Any], *, new: bool = True) -> CardVerification:
    row, created = verification.store_posted(user(w, "card_admin"), order.id, body, current_app.config)
    db.session.commit()
    assert created is new
    return row


def _challenge(w: World, order: Order) -> tuple[bytes, str]:
    _order, challenge, token = verification.challenge_for(user(w, "card_admin"), order.id,
                                                          current_app.config["SECRET_KEY"])
    return challenge, token


def test_agent_result_is_rechecked_and_stored(w: World, desk_pki: DeskPki) -> None:
    profile = desk_pki.card(person_hsa_id())
    order = order_at_desk(w, profile.card_number or "")
    found = verification.find_order_for_card(user(w, "card_admin"), profile.card_number or "", person_hsa_id())
    assert found.id == order.id
    challenge, token = _challenge(w, order)
    row = _post(w, order, agent_report(profile, token, challenge))
    assert row.ok and row.source == "desk_agent" and row.reader == "Desk reader 0"
    assert "checked on the server" in next(c["reason"] for c in row.checks if c["name"] == "proof_of_possession")
    assert _snapshot(order)[4] == row.auth_cert_serial
    # The agent posts again when the answer was lost on the way: it gets the stored result, nothing is added.
    audit_before = len(audit_rows("card.verify"))
    again = _post(w, order, agent_report(profile, token, challenge), new=False)
    assert again.id == row.id and len(audit_rows("card.verify")) == audit_before
    # Anything else reusing the challenge is refused: another card's certificates, or another user.
    other = desk_pki.card(person_hsa_id())
    with pytest.raises(Conflict, match="redan använd"):  # a challenge proves possession once
        _post(w, order, agent_report(other, token, challenge))
    from cardadmin.accounts import service as accounts

    colleague = accounts.create_user(user(w, "admin"), accounts.UserInput(
        "kollega", "Kollega", roles=[Role.CARD_ADMIN], organisation_id=w.municipality_id, desk_ids=[w.desk_id]),
        "Kollega-losen-1")
    with pytest.raises(Conflict, match="redan använd"):
        verification.store_posted(colleague, order.id, agent_report(profile, token, challenge), current_app.config)


def test_agent_claims_the_server_can_check_are_not_trusted(w: World, desk_pki: DeskPki) -> None:
    profile = desk_pki.card(person_hsa_id())
    order = order_at_desk(w, profile.card_number or "")
    before = _snapshot(order)
    # Certificates with the right HSA-ID and card number but from an untrusted CA (a forged card).
    forged = make_profile(pki=TestPki.create("p256"), hsa_id=person_hsa_id(), card_number=profile.card_number, pin=PIN)
    challenge, token = _challenge(w, order)
    row = _post(w, order, agent_report(forged, token, challenge))
    assert not row.ok and "path_to_trusted_root" in row.failed_checks
    # The right card, but a signature over something other than the server's challenge (a replayed proof).
    challenge, token = _challenge(w, order)
    row = _post(w, order, agent_report(profile, token, challenge, sign_this=b"x" * 32))
    assert row.failed_checks == ["proof_of_possession"]
    # A signature from another card's key over the right challenge, with this card's certificates.
    challenge, token = _challenge(w, order)
    body = agent_report(profile, token, challenge)
    body["signature"] = agent_report(forged, token, challenge)["signature"]
    assert _post(w, order, body).failed_checks == ["proof_of_possession"]
    assert _snapshot(order) == before


def test_agent_reports_a_wrong_pin(w: World, desk_pki: DeskPki) -> None:
    profile = desk_pki.card(person_hsa_id())
    order = order_at_desk(w, profile.card_number or "")
    challenge, token = _challenge(w, order)
    body = agent_report(profile, token, challenge)
    del body["signature"]
    body["card_error"] = {"type": "InvalidPin", "attempts_left": 1}
    row = _post(w, order, body)
    assert row.failed_checks == ["proof_of_possession"] and row.pin_attempts_left == 1 and row.error == "InvalidPin"


def _unknown_curve(cert_b64: str) -> str:
    """The certificate with its P-256 curve OID bent into one no library knows (the signature still parses)."""
    import base64

    der = base64.b64decode(cert_b64)
    p256 = bytes.fromhex("06082A8648CE3D030107")
    assert p256 in der
    return b64(der.replace(p256, bytes.fromhex("06082A8648CE3D03017F"), 1))


@pytest.mark.parametrize("mutate, error", [
    (lambda b, t: b.update(challenge_token="forged"), InvalidInput),
    (lambda b, t: b.update(challenge_token=None), InvalidInput),
    (lambda b, t: b.update(certificates={"authentication": "not base64!"}), InvalidInput),
    (lambda b, t: b.update(certificates={"authentication": b64(b"\x30\x03junk")}), InvalidInput),
    (lambda b, t: b.update(certificates={"wizard": b64(b"x")}), InvalidInput),
    (lambda b, t: b.update(certificates=["x"]), InvalidInput),
    (lambda b, t: b["certificates"].update(authentication=_unknown_curve(b["certificates"]["authentication"])),
     InvalidInput),
    (lambda b, t: b.update(signature=42), InvalidInput),
    (lambda b, t: b.update(card_error="boom"), InvalidInput),
])
def test_malformed_agent_reports_are_refused_and_nothing_is_stored(w: World, desk_pki: DeskPki, mutate: Any,
                                                                   error: type) -> None:
    profile = desk_pki.card(person_hsa_id())
    order = order_at_desk(w, profile.card_number or "")
    challenge, token = _challenge(w, order)
    body = agent_report(profile, token, challenge)
    mutate(body, token)
    with pytest.raises(error):
        _post(w, order, body)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CardVerification)) == 0
    assert audit_rows("card.verify") == []


def test_a_challenge_for_another_order_or_too_old_is_refused(w: World, desk_pki: DeskPki,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    profile = desk_pki.card(person_hsa_id())
    order = order_at_desk(w, profile.card_number or "")
    other_profile = desk_pki.card(person_hsa_id("P2"))
    other = order_at_desk(w, other_profile.card_number or "", local="P2")
    challenge, token = _challenge(w, other)
    with pytest.raises(InvalidInput, match="annan beställning"):
        _post(w, order, agent_report(profile, token, challenge))
    challenge, token = _challenge(w, order)
    monkeypatch.setattr(posted_module, "CHALLENGE_SECONDS", -1)
    with pytest.raises(Conflict, match="gått ut"):
        _post(w, order, agent_report(profile, token, challenge))


def test_agent_lookup_is_scoped_to_my_desks(w: World, desk_pki: DeskPki) -> None:
    profile = desk_pki.card(person_hsa_id())
    order_at_desk(w, profile.card_number or "")
    with pytest.raises(NotFound):
        verification.find_order_for_card(user(w, "card_admin"), profile.card_number or "", person_hsa_id("ZZ"))
    with pytest.raises(NotFound):
        verification.find_order_for_card(user(w, "card_admin"), "975299999999999999")
    with pytest.raises(Forbidden):
        verification.find_order_for_card(user(w, "orderer"), profile.card_number or "")


@pytest.mark.postgres
def test_one_challenge_posted_twice_at_once_is_stored_once(make_app: Any, desk_pki: DeskPki,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Two agent posts of the same challenge race past the "already used?" check: the unique column
    decides, and the loser gets a clear 409, not a 500."""
    import threading

    from cardadmin import audit
    from cardadmin.errors import CardAdminError

    apps = [make_app(**desk_pki.config()), make_app(**desk_pki.config())]  # two workers, one database
    with apps[0].app_context():
        w = build_world()
        profile = desk_pki.card(person_hsa_id())
        order_id = order_at_desk(w, profile.card_number or "").id
        _order, challenge, token = verification.challenge_for(user(w, "card_admin"), order_id,
                                                              apps[0].config["SECRET_KEY"])
    body = agent_report(profile, token, challenge)
    barrier = threading.Barrier(2)
    original = posted_module.recheck

    def recheck_after_both_checked(*args: Any, **kwargs: Any) -> Any:
        barrier.wait(timeout=10)  # both have passed the "already used?" query
        return original(*args, **kwargs)

    monkeypatch.setattr(posted_module, "recheck", recheck_after_both_checked)
    outcome: dict[int, str] = {}

    def post(index: int) -> None:
        with apps[index].app_context():
            try:
                verification.store_posted(user(w, "card_admin"), order_id, dict(body), apps[index].config)[0]
                db.session.commit()
                outcome[index] = "stored"
            except CardAdminError as exc:
                db.session.rollback()
                outcome[index] = f"{type(exc).__name__}: {exc.message}"

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcome.values()) == ["Conflict: Utmaningen är redan använd. Sätt i kortet igen.", "stored"]
    with apps[0].app_context():
        assert db.session.scalar(select(func.count()).select_from(CardVerification)) == 1
        assert len(audit_rows("card.verify")) == 1 and audit.verify(db.session).ok


def test_a_posted_key_the_policy_cannot_check_is_a_failed_possession_check_not_an_error() -> None:
    """An Ed25519 authentication certificate with a signature (a hostile or odd desk agent): the proof of
    possession fails with the reason; nothing raises."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    from cardadmin.desk.posted import _possession_check

    key = ed25519.Ed25519PrivateKey.generate()
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "odd")])
    now = datetime.now(UTC)
    cert = (cx509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(key, None))
    check = _possession_check(cert, b"challenge", key.sign(b"challenge"), True)
    assert check.passed is False and "cannot be checked" in check.reason
