"""The card holder. Column comments name the HSA (LDAP) attribute each field mirrors, so the HSA issue can map
directory entries onto this same model."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from cardadmin.accounts.models import Organisation, Unit
from cardadmin.db import Base, UTCDateTime, code_point_string, utcnow
from cardadmin.identifiers import mask_personnummer


def name_key(text: str | None) -> str:
    """How names are compared in searches: Unicode case folding (SQLite's lower() folds ASCII only)."""
    return (text or "").casefold()


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    hsa_id: Mapped[str] = mapped_column(code_point_string(31), unique=True)  # hsaIdentity (prefix search)
    given_name: Mapped[str] = mapped_column(String(100))  # givenName
    surname: Mapped[str] = mapped_column(String(100))  # sn
    # Case-folded copies for prefix search ("öberg" finds "Öberg"); kept by ``_fold_names`` below.
    given_name_key: Mapped[str] = mapped_column(code_point_string(100), default="")
    surname_key: Mapped[str] = mapped_column(code_point_string(100), default="")
    title: Mapped[str] = mapped_column(String(100), default="")  # title
    mail: Mapped[str] = mapped_column(String(254), default="")  # mail
    telephone: Mapped[str] = mapped_column(String(40), default="")  # telephoneNumber
    # Employer: the organisation whose RA officer approves this person's card orders.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # Normalised YYYYMMDDNNNN. Private attribute: read it masked via ``personnummer_masked``; only the
    # service (which validates it) writes it, and nothing logs or exports it.
    _personnummer: Mapped[str | None] = mapped_column("personnummer", String(12))
    protected_identity: Mapped[bool] = mapped_column(Boolean, default=False)  # skyddad identitet
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # Set when the HSA entry is removed (cardadmin.hsa); the row stays for its orders' and cards' history.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    unit: Mapped[Unit | None] = relationship()

    __table_args__ = (
        Index("ix_person_name", "surname", "given_name"),
        # Name search walks these in their order, (key, other key, id), and reads nothing else of the person
        # (protected identities are never found by name).
        Index("ix_person_given_name_key", "given_name_key", "surname_key", "id", "protected_identity"),
        Index("ix_person_surname_key", "surname_key", "given_name_key", "id", "protected_identity"),
    )

    @validates("given_name", "surname")
    def _fold_names(self, key: str, value: str) -> str:
        setattr(self, f"{key}_key", name_key(value))
        return value

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.surname}"

    @property
    def has_personnummer(self) -> bool:
        return self._personnummer is not None

    @property
    def personnummer_masked(self) -> str:
        return mask_personnummer(self._personnummer) if self._personnummer else ""

    def personnummer_matches(self, normalised: str) -> bool:
        """Compare without handing the number out (e.g. against the one read from a card certificate)."""
        return self._personnummer is not None and self._personnummer == normalised

    def __repr__(self) -> str:  # never the personal identity number
        return f"<Person {self.id} {self.hsa_id}>"
