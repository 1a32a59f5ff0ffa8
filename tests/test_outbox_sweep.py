"""Notifications (outbox → real SMTP server) and the daily sweep (reminders, not collected, expired)."""

from __future__ import annotations

import json
import re
import socket
from datetime import date, timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from cardadmin.db import db, utcnow
from cardadmin.orders import service, sweep
from cardadmin.orders.models import Card, Order, Revocation
from cardadmin.orders.states import Status
from cardadmin.outbox import delivery
from cardadmin.outbox.delivery import SmtpTransport, build_email, deliver_pending
from cardadmin.outbox.models import MessageKind, MessageStatus, OutboxMessage
from tests.conftest import World, build_world
from tests.test_orders_service import order_for, to_status
from tests.test_people import PNR, audit_rows, user


@pytest.fixture
def w(app_ctx: Any) -> World:
    return build_world()


def messages(kind: MessageKind | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(stmt))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Any:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def set_orderer_mail(w: World, address: str) -> None:
    user(w, "orderer").email = address
    db.session.commit()


def waited(order: Order, days: int) -> None:
    db.session.execute(update(Order).where(Order.id == order.id).values(at_desk_at=utcnow() - timedelta(days=days)))
    db.session.commit()


def run_sweep(uncollected: int = 90, reminders: tuple[int, ...] = (30, 60)) -> list[sweep.SweepItem]:
    items = sweep.run(sweep.plan(utcnow(), uncollected_days=uncollected, reminder_days=reminders),
                      uncollected_days=uncollected)
    db.session.commit()
    return items


# ---------------------------------------------------------------- what is queued, and when


def test_approval_and_rejection_queue_a_message_to_the_orderer(w: World) -> None:
    set_orderer_mail(w, "orderer@example.se")
    first, second = order_for(w, "P1"), order_for(w, "P2")
    service.approve(user(w, "ra_officer"), first.id)
    service.reject(user(w, "ra_officer"), second.id, "Fel enhet angiven")
    db.session.commit()
    approved, rejected = messages(MessageKind.ORDER_APPROVED), messages(MessageKind.ORDER_REJECTED)
    assert [m.order_id for m in approved] == [first.id] and [m.order_id for m in rejected] == [second.id]
    assert approved[0].to_address == "orderer@example.se" and approved[0].status == MessageStatus.PENDING
    assert "godkänd" in approved[0].subject and first.person.hsa_id in approved[0].body
    assert "Fel enhet angiven" in rejected[0].body


def test_a_rolled_back_decision_queues_nothing(w: World) -> None:
    order = order_for(w)
    service.approve(user(w, "ra_officer"), order.id)
    db.session.rollback()
    assert messages() == []


def test_card_at_desk_tells_the_recipient_without_the_personnummer(w: World) -> None:
    from tests.test_people import add_person

    person = add_person(w, "PN1", personnummer=PNR, mail="anna@example.se")
    order = service.create_order(user(w, "orderer"), person_id=person.id, order_type="new", desk_id=w.desk_id)
    db.session.commit()
    to_status(w, order, Status.AT_DESK)
    (message,) = messages(MessageKind.CARD_AT_DESK)
    assert message.to_address == "anna@example.se" and "Kortutlämning Lycksele" in message.body
    assert "90 dagar" in message.body
    for text in (message.body, message.subject):
        assert "1212" not in text and "19121212" not in text


def test_no_address_is_kept_visible_not_sent(w: World) -> None:
    order = order_for(w)  # the orderer has no e-mail address
    service.approve(user(w, "ra_officer"), order.id)
    db.session.commit()
    (message,) = messages()
    assert message.status == MessageStatus.NO_ADDRESS
    assert deliver_pending(RecordingTransport()).sent == 0


class RecordingTransport:
    def __init__(self, fail_with: Exception | None = None) -> None:
        self.sent: list[int] = []
        self.fail_with = fail_with

    def send(self, message: OutboxMessage) -> None:
        if self.fail_with:
            raise self.fail_with
        self.sent.append(message.id)


# ---------------------------------------------------------------- delivery


def test_delivery_over_real_smtp(w: World, smtp_server: Any) -> None:
    controller, inbox = smtp_server
    set_orderer_mail(w, "orderer@example.se")
    order = order_for(w)
    service.approve(user(w, "ra_officer"), order.id)
    db.session.commit()
    transport = SmtpTransport("127.0.0.1", controller.port, "kort@lycksele.example", starttls=False)
    report = deliver_pending(transport)
    transport.close()
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    (mail,) = inbox.received
    assert mail["To"] == "Orderer <orderer@example.se>" and mail["From"] == "kort@lycksele.example"
    assert "godkänd" in mail["Subject"] and order.person.hsa_id in mail.get_content()
    (message,) = messages()
    assert message.status == MessageStatus.SENT and message.sent_at is not None and message.attempts == 1
    assert deliver_pending(RecordingTransport()).sent == 0  # never sent twice


def test_smtp_down_retries_then_gives_up(w: World) -> None:
    set_orderer_mail(w, "orderer@example.se")
    service.approve(user(w, "ra_officer"), order_for(w).id)
    db.session.commit()
    dead = SmtpTransport("127.0.0.1", free_port(), "kort@example.se", starttls=False, timeout=2)
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        report = deliver_pending(dead)
        (message,) = messages()
        assert message.attempts == attempt and "ConnectionRefusedError" in message.last_error
        expected = MessageStatus.FAILED if attempt == delivery.MAX_ATTEMPTS else MessageStatus.PENDING
        assert message.status == expected
    assert report.failed == 1
    assert deliver_pending(dead).failed == 0  # a failed message is left alone


def test_a_crashed_senders_claim_is_released(w: World) -> None:
    set_orderer_mail(w, "orderer@example.se")
    service.approve(user(w, "ra_officer"), order_for(w).id)
    db.session.commit()
    db.session.execute(update(OutboxMessage).values(status=MessageStatus.SENDING,
                                                    claimed_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    transport = RecordingTransport()
    assert deliver_pending(transport).sent == 1 and len(transport.sent) == 1


def test_outbox_send_prints_when_no_smtp_is_configured(app: Any, w: World) -> None:
    with app.app_context():
        set_orderer_mail(w, "orderer@example.se")
        service.approve(user(w, "ra_officer"), order_for(w).id)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "To: Orderer <orderer@example.se>" in result.output
    assert "Skickade: 1." in result.output
    listing = app.test_cli_runner().invoke(args=["outbox", "list", "--status", "sent"])
    assert "orderer@example.se" in listing.output


# ---------------------------------------------------------------- the sweep


def test_reminders_at_30_and_60_days_once_each(w: World) -> None:
    order = to_status(w, order_for(w), Status.AT_DESK)
    waited(order, 29)
    assert run_sweep() == []
    waited(order, 31)
    assert [(i.action, i.days) for i in run_sweep()] == [(sweep.REMIND, 30)]
    assert run_sweep() == []  # a second run the same day adds nothing
    waited(order, 65)
    assert [(i.action, i.days) for i in run_sweep()] == [(sweep.REMIND, 60)]
    assert [m.dedupe_key for m in messages(MessageKind.REMINDER)] == [f"reminder:30:{order.id}",
                                                                       f"reminder:60:{order.id}"]


def test_not_collected_in_90_days_is_revoked_by_the_system(w: World) -> None:
    order = to_status(w, order_for(w), Status.AT_DESK)
    waited(order, 91)
    (item,) = run_sweep()
    assert (item.action, item.error) == (sweep.REVOKE, None)
    db.session.refresh(order)
    card = db.session.get(Card, order.card_id)
    assert order.status == card.status == Status.REVOKED
    revocation = db.session.scalar(select(Revocation).where(Revocation.card_id == card.id))
    assert revocation.reason == "not_collected" and revocation.recorded_by_id is None
    (row,) = audit_rows("card.revoke")
    assert row.actor_id is None and json.loads(row.data)["reason"] == "not_collected"
    assert messages(MessageKind.REMINDER) == []  # revoked, not reminded
    assert run_sweep() == []


def test_overdue_active_cards_expire(w: World) -> None:
    order = to_status(w, order_for(w), Status.ACTIVE)
    card = db.session.get(Card, order.card_id)
    card.expires_on = date.today() - timedelta(days=2)
    db.session.commit()
    (item,) = run_sweep()
    assert (item.action, item.days, item.error) == (sweep.EXPIRE, 2, None)
    assert card.status == Status.EXPIRED and audit_rows("card.expire")


def test_one_failing_item_leaves_the_others_done(w: World) -> None:
    first = to_status(w, order_for(w, "P1"), Status.AT_DESK, card_number="9752000000001")
    second = to_status(w, order_for(w, "P2"), Status.AT_DESK, card_number="9752000000002")
    waited(first, 95)
    waited(second, 95)
    items = sweep.plan(utcnow(), uncollected_days=90, reminder_days=(30, 60))
    # Between plan and run the desk hands the first card over: its revocation must fail, by name.
    service.hand_over(user(w, "card_admin"), first.id, "9752000000001", _doc())
    db.session.commit()
    sweep.run(items, uncollected_days=90)
    db.session.commit()
    errors = {i.order_id: i.error for i in items}
    assert errors[second.id] is None and errors[first.id]
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == Status.HANDED_OVER and second.status == Status.REVOKED


def _doc() -> Any:
    from tests.test_orders_service import DOC

    return DOC


def test_sweep_dry_run_changes_nothing(app: Any, w: World) -> None:
    with app.app_context():
        order = to_status(w, order_for(w), Status.AT_DESK)
        waited(order, 100)
        order_id = order.id
    result = app.test_cli_runner().invoke(args=["sweep", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Spärras (ej uthämtat)" in result.output and "torrkörning" in result.output
    with app.app_context():
        assert db.session.get(Order, order_id).status == Status.AT_DESK
    done = app.test_cli_runner().invoke(args=["sweep"])
    assert "1 åtgärder gjorda." in done.output
    with app.app_context():
        assert db.session.get(Order, order_id).status == Status.REVOKED


def test_sweep_days_are_configurable(app: Any, w: World) -> None:
    with app.app_context():
        order = to_status(w, order_for(w), Status.AT_DESK)
        waited(order, 40)
    result = app.test_cli_runner().invoke(args=["sweep", "--uncollected-days", "35"])
    assert result.exit_code == 0 and "Spärras (ej uthämtat)" in result.output, result.output
    with app.app_context():
        revocation = db.session.scalar(select(Revocation))
        assert revocation.reason == "not_collected" and "inom 35 dagar" in revocation.requested_by
    # The configured 90 days would have left this 40-day-old card waiting (and only reminded it).
    assert re.search(r"Spärras \(ej uthämtat\)\s+\d+\s+\d+\s+40\s+klart", result.output), result.output


def test_an_address_no_mail_header_may_hold_fails_that_message_only(w: World) -> None:
    set_orderer_mail(w, "orderer@example.se")
    first = order_for(w, "P1")
    service.approve(user(w, "ra_officer"), first.id)
    db.session.commit()
    user(w, "orderer").email = "evil@example.se\nBcc: all@example.se"
    db.session.commit()
    second = order_for(w, "P2")
    service.approve(user(w, "ra_officer"), second.id)
    db.session.commit()
    transport = RecordingTransport()
    transport.send = lambda message: build_email(message, "kort@example.se") and transport.sent.append(message.id)
    report = deliver_pending(transport)
    assert report.sent == 1 and report.retrying == 1 and "ValueError" in report.errors[0]
