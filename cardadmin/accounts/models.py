from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cardadmin.db import Base, UTCDateTime, utcnow
from cardadmin.roles import Role


class Organisation(Base):
    """The region or a municipality: a legal entity with a Swedish organisation number."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org_number: Mapped[str] = mapped_column(String(10), unique=True)  # ten digits, Luhn checked
    kind: Mapped[str] = mapped_column(String(20))  # region | municipality | other
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[Unit]] = relationship(back_populates="organisation", order_by="Unit.name")
    desks: Mapped[list[Desk]] = relationship(back_populates="organisation", order_by="Desk.name")

    __table_args__ = (CheckConstraint("kind IN ('region', 'municipality', 'other')", name="kind"),)


class Unit(Base):
    """A care unit (hospital, health centre, municipal unit) with its own HSA-ID."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    name: Mapped[str] = mapped_column(String(200))
    hsa_id: Mapped[str] = mapped_column(String(31), unique=True)
    town: Mapped[str] = mapped_column(String(100), default="")

    organisation: Mapped[Organisation] = relationship(back_populates="units")
    parent: Mapped[Unit | None] = relationship(remote_side="Unit.id")


class Desk(Base):
    """A card desk (kortutlämning) where cards are produced, handed over and verified."""

    __tablename__ = "desk"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    town: Mapped[str] = mapped_column(String(100))
    is_regional: Mapped[bool] = mapped_column(Boolean, default=False)
    opening_hours: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    organisation: Mapped[Organisation] = relationship(back_populates="desks")
    pilot_periods: Mapped[list[PilotPeriod]] = relationship(back_populates="desk", order_by="PilotPeriod.year")


class PilotPeriod(Base):
    """A desk's pilot: a year and an ISO week range (Lycksele V.37–43, Vindeln V.39–45)."""

    __tablename__ = "pilot_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer)
    week_from: Mapped[int] = mapped_column(Integer)
    week_to: Mapped[int] = mapped_column(Integer)

    desk: Mapped[Desk] = relationship(back_populates="pilot_periods")

    __table_args__ = (
        CheckConstraint("week_from BETWEEN 1 AND 53 AND week_to BETWEEN 1 AND 53", name="weeks"),
        CheckConstraint("week_from <= week_to", name="week_order"),
        UniqueConstraint("desk_id", "year", "week_from", name="uq_pilot_period_desk_start"),
    )


user_desk = Table(
    "user_desk",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("desk_id", ForeignKey("desk.id"), primary_key=True),
)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    hsa_id: Mapped[str | None] = mapped_column(String(31))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Employer; for RA officers also the organisation whose orders they approve.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Rotated on password change and deactivation: every session holding the old value ends.
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    desks: Mapped[list[Desk]] = relationship(secondary=user_desk, order_by="Desk.name", lazy="selectin")

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"


class UserRole(Base):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    __table_args__ = (
        CheckConstraint("role IN ('orderer', 'card_admin', 'ra_officer', 'evaluator', 'admin')", name="role"),
    )


class ApiToken(Base):
    """A per-user API token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists so people can tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scope: Mapped[str] = mapped_column(String(20), default="all")  # all | desk_agent (see api.core.SCOPES)

    user: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("scope IN ('all', 'desk_agent')", name="scope"),)


class LoginSession(Base):
    """One browser's login, live until ended (logout, idle, CSRF failure); see accounts/sessions.py."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the cookie's key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))


class LoginFailure(Base):
    """Failed logins, kept in the database so throttling holds across worker processes."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_login_failure_username_at", "username", "at"),
        Index("ix_login_failure_address_at", "address", "at"),
    )
