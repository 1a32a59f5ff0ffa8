"""Delivering queued messages: by SMTP when configured, else printed (development, demo).

A sender claims one message at a time with a compare-and-set UPDATE and commits after each, so two senders
never send the same message and a crash loses at most the message in hand (it goes back to the queue)."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Protocol

from sqlalchemy import select, update

from cardadmin.db import db, utcnow
from cardadmin.outbox.models import MessageStatus, OutboxMessage

MAX_ATTEMPTS = 5
STALE_CLAIM = timedelta(minutes=10)


class Transport(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = formataddr((message.to_name, message.to_address))
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    email.set_content(message.body)
    return email


@dataclass
class SmtpTransport:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 20.0
    _smtp: smtplib.SMTP | None = field(default=None, init=False, repr=False)

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            self._smtp = smtp
        return self._smtp

    def send(self, message: OutboxMessage) -> None:
        try:
            self._connection().send_message(build_email(message, self.sender))
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()  # a dropped connection: the next message opens a new one
            raise

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None


@dataclass
class PrintTransport:
    echo: Callable[[str], Any]
    sender: str = "cardadmin"

    def send(self, message: OutboxMessage) -> None:
        self.echo(build_email(message, self.sender).as_string())
        self.echo("-" * 72)

    def close(self) -> None:
        pass


def transport_from_config(config: dict[str, Any], echo: Callable[[str], Any]) -> SmtpTransport | PrintTransport:
    if not config.get("SMTP_HOST"):
        return PrintTransport(echo, config.get("MAIL_FROM") or "cardadmin")
    return SmtpTransport(host=config["SMTP_HOST"], port=int(config.get("SMTP_PORT") or 25),
                         sender=config["MAIL_FROM"], username=config.get("SMTP_USERNAME") or "",
                         password=config.get("SMTP_PASSWORD") or "", starttls=bool(config.get("SMTP_STARTTLS")))


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _release_stale_claims() -> None:
    db.session.execute(update(OutboxMessage)
                       .where(OutboxMessage.status == MessageStatus.SENDING,
                              OutboxMessage.claimed_at < utcnow() - STALE_CLAIM)
                       .values(status=MessageStatus.PENDING))
    db.session.commit()


def _claimed(limit: int) -> Iterator[OutboxMessage]:
    ids = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == MessageStatus.PENDING)
                             .order_by(OutboxMessage.id).limit(limit)).all()
    for message_id in ids:
        won = db.session.execute(update(OutboxMessage)
                                 .where(OutboxMessage.id == message_id, OutboxMessage.status == MessageStatus.PENDING)
                                 .values(status=MessageStatus.SENDING, claimed_at=utcnow(),
                                         attempts=OutboxMessage.attempts + 1)
                                 .execution_options(synchronize_session=False))
        db.session.commit()
        if won.rowcount == 1:  # type: ignore[attr-defined]
            message = db.session.get(OutboxMessage, message_id)
            assert message is not None
            db.session.refresh(message)
            yield message


def deliver_pending(transport: Transport, *, limit: int = 500) -> DeliveryReport:
    """Send up to ``limit`` queued messages. Commits after each message (this is the outbox's own edge)."""
    report = DeliveryReport()
    _release_stale_claims()
    for message in _claimed(limit):
        try:
            transport.send(message)
        except (smtplib.SMTPException, OSError, ValueError) as exc:  # ValueError: an address no header may hold
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = MessageStatus.FAILED
                report.failed += 1
            else:
                message.status = MessageStatus.PENDING
                report.retrying += 1
            report.errors.append(f"Meddelande {message.id} till {message.to_address}: {message.last_error}")
        else:
            message.status, message.sent_at, message.last_error = MessageStatus.SENT, utcnow(), ""
            report.sent += 1
        db.session.commit()
    return report
