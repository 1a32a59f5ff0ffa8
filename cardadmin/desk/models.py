"""Card verification records: what the verification policy found when a card was checked for an order.

One row per attempt, passed or failed. The checks (name, passed, reason, required) and the certificate
summaries are kept as JSON, exactly as the policy reported them; the columns beside them are what pages,
queries and the audit need without parsing JSON. No PIN is ever stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cardadmin.accounts.models import User
from cardadmin.db import Base, UTCDateTime, utcnow

# Where the card was read: by the app itself (desk PC), by the desk agent (central app), by the CLI.
SOURCES = ("local_reader", "desk_agent", "cli")


class CardVerification(Base):
    __tablename__ = "card_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("card_order.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))  # the holder's employer (scope)
    ok: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(20))
    reader: Mapped[str | None] = mapped_column(String(200))
    application: Mapped[str | None] = mapped_column(String(20))
    expected_hsa_id: Mapped[str] = mapped_column(String(31))
    expected_card_number: Mapped[str] = mapped_column(String(32))
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    certificates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    auth_cert_serial: Mapped[str | None] = mapped_column(String(64))
    auth_cert_fingerprint: Mapped[str | None] = mapped_column(String(64))  # SHA-256, hex
    sign_cert_serial: Mapped[str | None] = mapped_column(String(64))
    sign_cert_fingerprint: Mapped[str | None] = mapped_column(String(64))
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # earliest notAfter of the certificates
    error: Mapped[str | None] = mapped_column(String(60))  # the hardware error's class name, if one stopped it
    pin_attempts_left: Mapped[int | None] = mapped_column(Integer)
    # SHA-256 of a server-issued challenge (desk agent): each challenge proves possession once.
    challenge_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    verified_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the card was read
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    verified_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(f"source IN ({', '.join(repr(s) for s in SOURCES)})", name="source"),
        Index("ix_card_verification_order", "order_id", "id"),
    )

    @property
    def failed_checks(self) -> list[str]:
        return [c["name"] for c in self.checks
                if c.get("passed") is False or (c.get("passed") is None and c.get("required", True))]
