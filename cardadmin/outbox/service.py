"""What the tool tells people, and when. Messages are composed here from an order and queued in the
caller's transaction, so a message exists exactly when the act that caused it was committed.

Bodies name the person, the card desk and the order; never a personal identity number (the recipient's
own mail is the only address used for them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cardadmin.db import db
from cardadmin.orders.models import Order
from cardadmin.outbox.models import MessageKind, MessageStatus, OutboxMessage

ACCEPTED_DOCUMENTS = ("svenskt pass, svenskt körkort, nationellt id-kort, SIS-märkt id-kort eller "
                      "Skatteverkets id-kort")


def enqueue(kind: MessageKind, dedupe_key: str, order: Order, to_address: str, to_name: str, subject: str,
            body: str) -> OutboxMessage | None:
    """Queue one message; None when the same event was already queued (the dedupe key is unique)."""
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None:
        return None
    address = (to_address or "").strip()
    message = OutboxMessage(kind=str(kind), dedupe_key=dedupe_key, order_id=order.id, to_address=address,
                            to_name=to_name, subject=subject, body=body,
                            status=MessageStatus.PENDING if address else MessageStatus.NO_ADDRESS)
    db.session.add(message)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # queued by a concurrent transaction a moment ago
        return None
    return message


def _desk_lines(order: Order) -> str:
    desk = order.desk
    lines = f"{desk.name}, {desk.town}"
    if desk.opening_hours:
        lines += f"\nÖppettider: {desk.opening_hours}"
    return lines


def order_decided(order: Order) -> OutboxMessage | None:
    """To the orderer: the RA officer approved or rejected their order."""
    person, orderer = order.person, order.orderer
    approved = order.status == "approved"
    kind = MessageKind.ORDER_APPROVED if approved else MessageKind.ORDER_REJECTED
    what = f"SITHS-kort till {person.full_name} ({person.hsa_id})"
    if approved:
        subject = f"Beställning {order.id} är godkänd"
        body = (f"Hej {orderer.full_name},\n\nDin beställning {order.id} av {what} är godkänd av RA-ansvarig. "
                f"Kortet tillverkas och hämtas ut vid:\n{_desk_lines(order)}\n\nKortmottagaren får besked när "
                f"kortet finns att hämta.")
    else:
        subject = f"Beställning {order.id} är avslagen"
        body = (f"Hej {orderer.full_name},\n\nDin beställning {order.id} av {what} är avslagen av RA-ansvarig.\n"
                f"Skäl: {order.decision_reason}\n")
    return enqueue(kind, f"{kind}:{order.id}", order, orderer.email, orderer.full_name, subject, body)


def card_at_desk(order: Order, revoke_after_days: int) -> OutboxMessage | None:
    """To the recipient: the card is ready for collection."""
    person = order.person
    body = (f"Hej {person.given_name},\n\nDitt SITHS-kort finns nu att hämta vid:\n{_desk_lines(order)}\n\n"
            f"Ta med en giltig id-handling ({ACCEPTED_DOCUMENTS}). Kortet spärras om det inte har hämtats inom "
            f"{revoke_after_days} dagar.\n")
    return enqueue(MessageKind.CARD_AT_DESK, f"{MessageKind.CARD_AT_DESK}:{order.id}", order, person.mail,
                   person.full_name, "Ditt SITHS-kort finns att hämta", body)


def reminder(order: Order, waited_days: int, revoke_after_days: int) -> OutboxMessage | None:
    """To the recipient: the card has waited ``waited_days`` days (sent once per threshold)."""
    person = order.person
    left = max(revoke_after_days - waited_days, 0)
    body = (f"Hej {person.given_name},\n\nDitt SITHS-kort har väntat i {waited_days} dagar vid:\n"
            f"{_desk_lines(order)}\n\nHämta det inom {left} dagar, annars spärras det. Ta med en giltig "
            f"id-handling ({ACCEPTED_DOCUMENTS}).\n")
    return enqueue(MessageKind.REMINDER, f"{MessageKind.REMINDER}:{waited_days}:{order.id}", order, person.mail,
                   person.full_name, f"Påminnelse: ditt SITHS-kort har väntat i {waited_days} dagar", body)
