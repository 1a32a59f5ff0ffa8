"""One row per message to send. Written with the act that causes it; delivered by the outbox command."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cardadmin.db import Base, UTCDateTime, one_of, utcnow


class MessageKind(StrEnum):
    ORDER_APPROVED = "order_approved"  # to the orderer
    ORDER_REJECTED = "order_rejected"  # to the orderer
    CARD_AT_DESK = "card_at_desk"  # to the recipient
    REMINDER = "reminder"  # to the recipient: the card is still waiting (30 and 60 days)


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; back to pending if that sender died
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt
    NO_ADDRESS = "no_address"  # nobody to send it to: kept so the desk can see who was not told


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # One message per event: "order_approved:17", "reminder:30:17". A repeated sweep adds nothing.
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("card_order.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254), default="")
    to_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(one_of("kind", MessageKind), name="kind"),
        CheckConstraint(one_of("status", MessageStatus), name="status"),
        Index("ix_outbox_message_status", "status", "id"),
    )
