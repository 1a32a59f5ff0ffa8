"""Verifying an order's card and storing the result: the one service the hand-over page, the CLI and the
desk agent's API call all use.

A verification reads the card (here, from the desk PC's own reader; or on the desk PC by the desk agent,
see ``posted``), runs the policy in ``hardware.verify`` for the order's HSA-ID and card number with the
configured trust anchors, CRLs and policy OIDs, and stores the result: a ``CardVerification`` row, the
card's certificate serials and fingerprints when it passed, and an audit row, all in the caller's
transaction (the edge commits). A failed verification changes no order or card; it is stored and audited.

Hardware errors are translated here, once: a reader that cannot be used (pcscd down, no reader, no card,
card in use) is a ``ReaderProblem`` (409, nothing stored: no card was verified); an error while the card
was being verified (card pulled, wrong PIN, garbage answer) is a failed verification with its reason.

The PIN goes from the caller to one VERIFY on the card and nowhere else: not to the database, the audit,
the log or an error message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from cardadmin import audit
from cardadmin.accounts.models import User
from cardadmin.db import db, utcnow
from cardadmin.desk.messages import swedish_message
from cardadmin.desk.models import CardVerification
from cardadmin.desk.settings import TrustConfig, load_trust, local_reader_enabled, reader_name
from cardadmin.errors import CardAdminError, ConfigurationError, Conflict, HardwareFailure, NotFound
from cardadmin.orders.models import Card, Order
from cardadmin.orders.service import _at_my_desk
from cardadmin.orders.states import CARD_LIVE, Status
from cardadmin.roles import Role
from cardadmin.security import require_role
from cardadmin.validation import unique_or_conflict
from hardware.errors import HardwareError
from hardware.verify import VerificationResult

USED_CHALLENGE = "Utmaningen är redan använd. Sätt i kortet igen."
# A card is verified at hand-over, and may be verified again while it is in the holder's hands: the live states.
VERIFIABLE = CARD_LIVE


class ReaderProblem(CardAdminError):
    """The reader could not be used at all (no service, no reader, no card, card busy)."""

    status = 409
    code = "card_reader"


def reader_problem(exc: HardwareError) -> ReaderProblem:
    return ReaderProblem(swedish_message(exc))


def trust_config(config: Mapping[str, Any]) -> TrustConfig:
    try:
        return load_trust(config)
    except ConfigurationError as exc:
        raise HardwareFailure(f"Kortverifieringen är inte inställd på servern ({exc}). "
                              "Kontakta systemförvaltningen.") from None


def is_verifiable(order: Order) -> bool:
    """Whether the order's card may be verified now (the hand-over page offers it exactly then)."""
    return order.card is not None and order.status in VERIFIABLE


def verifiable_order(actor: User, order_id: int) -> tuple[Order, Card]:
    """The order at one of the actor's desks, with a registered card in a state that may be verified."""
    order = _at_my_desk(actor, order_id)
    if not is_verifiable(order):
        raise Conflict(f"Beställningen har status ”{Status(order.status).label}”; bara ett registrerat kort "
                       "som finns att hämta eller är utlämnat kan verifieras.")
    assert order.card is not None  # is_verifiable: a card is registered
    return order, order.card


# ---------------------------------------------------------------- storing a result


def _cert(result: VerificationResult, role: str) -> dict[str, Any] | None:
    return next((c.to_dict() for c in result.certificates if c.role == role), None)


def record(actor: User, order: Order, card: Card, result: VerificationResult, *, source: str,
           challenge_sha256: str | None = None) -> CardVerification:
    """Store a policy result for `order`'s card; the card's certificate columns change only when it passed."""
    auth, sign = _cert(result, "authentication"), _cert(result, "signature")
    until = min((c.not_after for c in result.certificates), default=None)
    row = CardVerification(
        order_id=order.id, card_id=card.id, organisation_id=card.organisation_id, ok=result.ok, source=source,
        reader=(result.reader or "")[:200] or None, application=result.application,
        expected_hsa_id=result.expected_hsa_id, expected_card_number=result.expected_card_number,
        checks=[c.to_dict() for c in result.checks], certificates=[c.to_dict() for c in result.certificates],
        auth_cert_serial=auth and auth["serial"], auth_cert_fingerprint=auth and auth["sha256"],
        sign_cert_serial=sign and sign["serial"], sign_cert_fingerprint=sign and sign["sha256"],
        valid_until=until, error=type(result.error).__name__ if result.error else None,
        pin_attempts_left=result.pin_attempts_left, challenge_sha256=challenge_sha256,
        verified_by_id=actor.id, checked_at=result.checked_at, recorded_at=utcnow(),
    )
    with unique_or_conflict(USED_CHALLENGE):  # the one unique column: two posts of one challenge racing
        db.session.add(row)
        if result.ok:
            card.auth_cert_serial, card.auth_cert_fingerprint = row.auth_cert_serial, row.auth_cert_fingerprint
            card.sign_cert_serial, card.sign_cert_fingerprint = row.sign_cert_serial, row.sign_cert_fingerprint
    audit.record(db.session, actor, "card.verify", "card", card.id, {
        "verification_id": row.id, "order_id": order.id, "ok": row.ok, "source": source, "reader": row.reader,
        "failed_checks": row.failed_checks, "error": row.error,
        "auth_cert_serial": row.auth_cert_serial, "auth_cert_sha256": row.auth_cert_fingerprint,
        "sign_cert_serial": row.sign_cert_serial, "sign_cert_sha256": row.sign_cert_fingerprint,
    }, organisation_id=card.organisation_id)
    return row


def latest(order_id: int) -> CardVerification | None:
    """The newest verification of an order (callers have already checked the order is in scope)."""
    return db.session.scalar(select(CardVerification).where(CardVerification.order_id == order_id)
                             .order_by(CardVerification.id.desc()).limit(1))


def history(order_id: int) -> list[CardVerification]:
    return list(db.session.scalars(select(CardVerification).where(CardVerification.order_id == order_id)
                                   .order_by(CardVerification.id.desc())))


# ---------------------------------------------------------------- the local reader (app on the desk PC)


def _require_local_reader(config: Mapping[str, Any]) -> None:
    if not local_reader_enabled(config):
        raise Conflict("Appen läser inte kortläsaren på den här datorn (CARDADMIN_LOCAL_READER). "
                       "Använd skrivbordsagenten på kortutlämningens dator.")


def _verify_and_record(actor: User, order: Order, card: Card, trust: TrustConfig, connection: Any,
                       pin: str | None, *, source: str, reader: str | None) -> CardVerification:
    from hardware.verify import verify_connection

    result = verify_connection(connection, hsa_id=order.person.hsa_id, card_number=card.card_number,
                               trust_anchors=trust.anchors, intermediates=trust.intermediates, crls=trust.crls,
                               policy=trust.policy, pin=pin, reader=reader)
    del pin
    return record(actor, order, card, result, source=source)


def verify_card(actor: User, order_id: int, connection: Any, pin: str | None, config: Mapping[str, Any], *,
                source: str, reader: str | None = None) -> CardVerification:
    """Verify the card on an open `connection` (any CardConnection) for the order, and store the result."""
    require_role(actor, Role.CARD_ADMIN)
    order, card = verifiable_order(actor, order_id)
    return _verify_and_record(actor, order, card, trust_config(config), connection, pin, source=source,
                              reader=reader)


def verify_at_reader(actor: User, order_id: int, pin: str | None, config: Mapping[str, Any], *,
                     source: str = "local_reader", reader: str | None = None) -> CardVerification:
    """Read the card in this computer's reader and verify it for the order; store the result. Everything
    that can be refused is refused before the reader is touched."""
    from hardware import pcsc

    require_role(actor, Role.CARD_ADMIN)
    if source == "local_reader":
        _require_local_reader(config)
    order, card = verifiable_order(actor, order_id)
    trust = trust_config(config)
    try:
        conn = pcsc.connect(reader or reader_name(config))
    except HardwareError as exc:
        raise reader_problem(exc) from None
    try:
        return _verify_and_record(actor, order, card, trust, conn, pin, source=source, reader=conn.reader)
    finally:
        del pin
        conn.close()


def read_card_at_reader(actor: User, config: Mapping[str, Any]) -> dict[str, Any]:
    """What the card in this computer's reader says about itself (no PIN): for "Läs från kortläsaren"."""
    from hardware import pcsc
    from hardware.certs import hsa_id_of
    from hardware.profiles import open_application

    require_role(actor, Role.CARD_ADMIN)
    _require_local_reader(config)
    try:
        with pcsc.connect(reader_name(config)) as conn:
            app = open_application(conn)
            certs = app.read_certificates()
            number = app.read_card_number()
            reader = conn.reader
    except HardwareError as exc:
        raise reader_problem(exc) from None
    hsa_ids = sorted({h for c in certs if (h := hsa_id_of(c.certificate))})
    if not number:
        raise ReaderProblem("Kortet i läsaren har inget kortnummer i sina certifikat.")
    return {"card_number": number, "hsa_id": hsa_ids[0] if len(hsa_ids) == 1 else None, "reader": reader}


# ---------------------------------------------------------------- the desk agent (app runs centrally)


def find_order_for_card(actor: User, card_number: str, hsa_id: str | None = None) -> Order:
    """The verifiable order at one of the actor's desks whose card has this number (the card read by the
    agent names it). With `hsa_id` the order's person must also have that HSA-ID."""
    from cardadmin.orders.card_rules import normalise_card_number
    from cardadmin.people.models import Person

    require_role(actor, Role.CARD_ADMIN)
    number = normalise_card_number(card_number)
    stmt = (select(Order).join(Card, Order.card_id == Card.id).join(Person, Order.person_id == Person.id)
            .where(Card.card_number == number, Order.status.in_([str(s) for s in VERIFIABLE]),
                   Order.desk_id.in_([d.id for d in actor.desks]))
            .order_by(Order.id.desc()).limit(1))
    if hsa_id:
        stmt = stmt.where(Person.hsa_id == hsa_id)
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFound("Ingen beställning vid dina kortutlämningar väntar på det här kortet.")
    return order


def challenge_for(actor: User, order_id: int, secret_key: str) -> tuple[Order, bytes, str]:
    from cardadmin.desk.posted import issue_challenge

    order, _card = verifiable_order(actor, order_id)
    challenge, token = issue_challenge(order.id, secret_key)
    return order, challenge, token


def store_posted(actor: User, order_id: int, body: dict[str, Any],
                 config: Mapping[str, Any]) -> tuple[CardVerification, bool]:
    """A desk agent's result: parsed, re-checked on the server (``posted.recheck``), stored like any other.
    Returns the row and whether it is new. The agent posts again when an answer is lost on the way (a
    timeout after the server stored it): the same user posting the same card's certificates for the same
    challenge and order gets the stored result back instead of "already used". Anything else reusing a
    challenge is refused: each challenge proves possession once."""
    from cardadmin.desk.posted import Posted, challenge_digest, open_challenge, recheck

    require_role(actor, Role.CARD_ADMIN)
    order, card = verifiable_order(actor, order_id)
    posted = Posted.parse(body, order.id)
    challenge = open_challenge(posted.challenge_token, order.id, config["SECRET_KEY"])
    digest = challenge_digest(challenge)
    stored = db.session.scalar(select(CardVerification).where(CardVerification.challenge_sha256 == digest))
    if stored is not None:
        if _same_post(stored, actor, order, posted.certificates):
            return stored, False
        raise Conflict(USED_CHALLENGE)
    result = recheck(posted, hsa_id=order.person.hsa_id, card_number=card.card_number, challenge=challenge,
                     trust=trust_config(config))
    return record(actor, order, card, result, source="desk_agent", challenge_sha256=digest), True


def _same_post(stored: CardVerification, actor: User, order: Order, certificates: dict[Any, Any]) -> bool:
    from cryptography.hazmat.primitives import hashes

    from hardware.profiles import KeyRole

    def fingerprint(role: KeyRole) -> str | None:
        cert = certificates.get(role)
        return cert.fingerprint(hashes.SHA256()).hex() if cert is not None else None

    return (stored.order_id == order.id and stored.verified_by_id == actor.id
            and stored.auth_cert_fingerprint == fingerprint(KeyRole.AUTHENTICATION)
            and stored.sign_cert_fingerprint == fingerprint(KeyRole.SIGNATURE))
