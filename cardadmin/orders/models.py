"""Orders and cards. Statuses and their transitions live in ``states``; rules in ``service``."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cardadmin.accounts.models import Desk, Organisation, User
from cardadmin.db import Base, UTCDateTime, one_of, utcnow
from cardadmin.errors import Conflict
from cardadmin.orders.states import Status
from cardadmin.people.models import Person


class OrderType(StrEnum):
    NEW = "new"
    REPLACEMENT_LOST = "replacement_lost"
    REPLACEMENT_STOLEN = "replacement_stolen"
    REPLACEMENT_DAMAGED = "replacement_damaged"
    REPLACEMENT_EXPIRING = "replacement_expiring"
    NAME_CHANGE = "name_change"

    @property
    def is_replacement(self) -> bool:
        return self is not OrderType.NEW


ORDER_TYPE_LABELS = {
    OrderType.NEW: "Nytt kort",
    OrderType.REPLACEMENT_LOST: "Ersättning – förlorat kort",
    OrderType.REPLACEMENT_STOLEN: "Ersättning – stulet kort",
    OrderType.REPLACEMENT_DAMAGED: "Ersättning – skadat kort",
    OrderType.REPLACEMENT_EXPIRING: "Ersättning – kortet går ut",
    OrderType.NAME_CHANGE: "Namnbyte",
}


class RevocationReason(StrEnum):
    LOST = "lost"
    STOLEN = "stolen"  # stolen or compromised
    DAMAGED = "damaged"
    EMPLOYMENT_ENDED = "employment_ended"
    WRONG_DATA = "wrong_data"
    NOT_COLLECTED = "not_collected"
    REPLACED = "replaced"


REVOCATION_LABELS = {
    RevocationReason.LOST: "Förlorat",
    RevocationReason.STOLEN: "Stulet eller röjt",
    RevocationReason.DAMAGED: "Skadat",
    RevocationReason.EMPLOYMENT_ENDED: "Anställningen har upphört",
    RevocationReason.WRONG_DATA: "Felaktiga uppgifter",
    RevocationReason.NOT_COLLECTED: "Ej uthämtat",
    RevocationReason.REPLACED: "Ersatt av nytt kort",
}


class DocumentType(StrEnum):
    PASSPORT = "passport"
    DRIVING_LICENCE = "driving_licence"
    NATIONAL_ID = "national_id"
    SIS_ID = "sis_id"
    SKATTEVERKET_ID = "skatteverket_id"


DOCUMENT_LABELS = {
    DocumentType.PASSPORT: "Svenskt pass",
    DocumentType.DRIVING_LICENCE: "Svenskt körkort",
    DocumentType.NATIONAL_ID: "Nationellt id-kort",
    DocumentType.SIS_ID: "SIS-märkt id-kort",
    DocumentType.SKATTEVERKET_ID: "Skatteverkets id-kort",
}


class SupportKind(StrEnum):
    PIN_PUK = "pin_puk"  # PIN blocked / PUK
    LOST_CARD = "lost_card"
    QUESTION = "question"
    OTHER = "other"


class SupportChannel(StrEnum):
    DESK = "desk"
    PHONE = "phone"
    SERVICE_DESK = "service_desk"


SUPPORT_KIND_LABELS = {
    SupportKind.PIN_PUK: "PIN spärrad / PUK",
    SupportKind.LOST_CARD: "Anmälan om förlorat kort",
    SupportKind.QUESTION: "Fråga",
    SupportKind.OTHER: "Övrigt",
}
SUPPORT_CHANNEL_LABELS = {
    SupportChannel.DESK: "I kortutlämningen",
    SupportChannel.PHONE: "Telefon",
    SupportChannel.SERVICE_DESK: "Servicedesk",
}


class Card(Base):
    """A physical card. Its status follows its order's from ``at_desk`` on (see ``states``)."""

    __tablename__ = "card"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_number: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    # The holder's employer when issued: RA scope and per-organisation figures without a join.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"))
    status: Mapped[str] = mapped_column(String(20))
    expires_on: Mapped[date | None] = mapped_column(Date)
    auth_cert_serial: Mapped[str | None] = mapped_column(String(64))
    auth_cert_fingerprint: Mapped[str | None] = mapped_column(String(64))  # SHA-256, hex
    sign_cert_serial: Mapped[str | None] = mapped_column(String(64))
    sign_cert_fingerprint: Mapped[str | None] = mapped_column(String(64))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    desk: Mapped[Desk] = relationship()
    replaces: Mapped[Card | None] = relationship(foreign_keys=[replaces_id], remote_side="Card.id")
    replaced_by: Mapped[Card | None] = relationship(foreign_keys=[replaced_by_id], remote_side="Card.id")

    __table_args__ = (
        CheckConstraint("status IN ('at_desk', 'handed_over', 'active', 'revoked', 'expired')", name="status"),
        Index("ix_card_desk_queue", "status", "desk_id", "status_changed_at", "id"),
        Index("ix_card_org", "organisation_id", "status", "id"),
        Index("ix_card_expiry", "status", "expires_on"),
    )


class Order(Base):
    __tablename__ = "card_order"  # ORDER is an SQL keyword

    id: Mapped[int] = mapped_column(primary_key=True)
    order_type: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default=Status.ORDERED)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    orderer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # The recipient's organisation at order time: whose RA approves, whatever desk produces the card.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"))
    replaces_card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"), unique=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    decision_reason: Mapped[str] = mapped_column(Text, default="")  # rejection / cancellation reason
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # One UTC timestamp per step: lead times order→approval, approval→at desk, at desk→handed over.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    in_production_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    at_desk_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()
    orderer: Mapped[User] = relationship(foreign_keys=[orderer_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    organisation: Mapped[Organisation] = relationship()
    desk: Mapped[Desk] = relationship()
    card: Mapped[Card | None] = relationship(foreign_keys=[card_id])
    replaces_card: Mapped[Card | None] = relationship(foreign_keys=[replaces_card_id])

    __table_args__ = (
        CheckConstraint(one_of("status", Status), name="status"),
        CheckConstraint(one_of("order_type", OrderType), name="order_type"),
        # RA queue: status + organisation, oldest first, keyset on (created_at, id).
        Index("ix_card_order_ra_queue", "status", "organisation_id", "created_at", "id"),
        # Desk queue: status + desk, same keyset.
        Index("ix_card_order_desk_queue", "status", "desk_id", "created_at", "id"),
        Index("ix_card_order_orderer", "orderer_id", "created_at", "id"),
        # A person's orders oldest first, with the scope columns: a name search walks them in page order and
        # reads no order rows but the page's own.
        Index("ix_card_order_person", "person_id", "created_at", "id", "organisation_id", "desk_id", "orderer_id"),
    )


class IdentityCheck(Base):
    """How the recipient proved who they are at hand-over: an ID document or the witness procedure."""

    __tablename__ = "identity_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("card_order.id"), unique=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    method: Mapped[str] = mapped_column(String(10))  # document | witness
    document_type: Mapped[str | None] = mapped_column(String(20))
    document_valid_until: Mapped[date | None] = mapped_column(Date)  # checked: not expired at hand-over
    document_number_last4: Mapped[str | None] = mapped_column(String(4))  # never more of the number
    witness_name: Mapped[str | None] = mapped_column(String(200))
    witness_hsa_id: Mapped[str | None] = mapped_column(String(31))
    checked_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    checked_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("method IN ('document', 'witness')", name="method"),
        CheckConstraint(
            "(method = 'document' AND document_type IS NOT NULL AND document_valid_until IS NOT NULL) OR "
            "(method = 'witness' AND witness_name IS NOT NULL AND witness_hsa_id IS NOT NULL)",
            name="complete",
        ),
    )


class Revocation(Base):
    """A revocation (spärr) record; kept at least ten years, so deleting it earlier is refused."""

    __tablename__ = "revocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[str] = mapped_column(String(200))  # who asked: the holder, a manager, the system
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # None = the sweep
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    comment: Mapped[str] = mapped_column(Text, default="")

    card: Mapped[Card] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint(one_of("reason", RevocationReason), name="reason"),)


@event.listens_for(Revocation, "before_delete")
def _refuse_early_delete(_mapper: object, _conn: object, target: Revocation) -> None:
    """A backstop under the service: no code path deletes a record still under retention."""
    if target.retain_until > utcnow():
        raise Conflict(f"Spärruppgifter ska sparas till {target.retain_until:%Y-%m-%d} och får inte tas bort.")


class SupportCase(Base):
    __tablename__ = "support_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    out_of_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    resolution: Mapped[str] = mapped_column(Text, default="")
    card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desk.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))  # the caller's employer
    minutes_spent: Mapped[int] = mapped_column(Integer, default=0)  # feeds the time log
    handled_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: still open

    handled_by: Mapped[User] = relationship()
    card: Mapped[Card | None] = relationship()
    person: Mapped[Person | None] = relationship()
    desk: Mapped[Desk | None] = relationship()

    __table_args__ = (
        CheckConstraint(one_of("kind", SupportKind), name="kind"),
        CheckConstraint(one_of("channel", SupportChannel), name="channel"),
        CheckConstraint("minutes_spent BETWEEN 0 AND 1440", name="minutes"),
        Index("ix_support_case_desk", "desk_id", "created_at"),
    )
