"""Evaluation inputs: Inera's price list, the evaluation's factors, the observations log and the risk list."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cardadmin.accounts.models import User
from cardadmin.db import Base, UTCDateTime, utcnow


class PriceItem(StrEnum):
    CARD = "card"
    SHIPPING = "shipping"
    HSA_ENTRY = "hsa_entry"
    CERTIFICATE = "certificate"

    @property
    def label(self) -> str:
        return PRICE_LABELS[self]


PRICE_LABELS = {
    PriceItem.CARD: "Kort",
    PriceItem.SHIPPING: "Frakt",
    PriceItem.HSA_ENTRY: "HSA-post",
    PriceItem.CERTIFICATE: "Certifikat",
}


class IneraPrice(Base):
    """One line of Inera's price list, valid for dates in [valid_from, valid_to]."""

    __tablename__ = "inera_price"

    id: Mapped[int] = mapped_column(primary_key=True)
    item: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))

    __table_args__ = (
        CheckConstraint("item IN ('card', 'shipping', 'hsa_entry', 'certificate')", name="item"),
        CheckConstraint("valid_from <= valid_to", name="dates"),
        CheckConstraint("price >= 0", name="price"),
    )


class Factor(StrEnum):
    COST_PER_KM = "cost_per_km"  # SEK per km travelled (milersättning)
    COST_PER_STAFF_HOUR = "cost_per_staff_hour"  # SEK per hour of a recipient's working time
    CO2_KG_PER_KM = "co2_kg_per_km"
    TRAVEL_KMH = "travel_kmh"  # average speed: km avoided → travel hours avoided
    CERTIFICATES_PER_CARD = "certificates_per_card"

    @property
    def label(self) -> str:
        return FACTOR_LABELS[self][0]


# factor: (Swedish label, default)
FACTOR_LABELS = {
    Factor.COST_PER_KM: ("Kostnad per km (kr)", Decimal("2.50")),
    Factor.COST_PER_STAFF_HOUR: ("Kostnad per arbetstimme för kortmottagaren (kr)", Decimal("450")),
    Factor.CO2_KG_PER_KM: ("Koldioxid per km (kg)", Decimal("0.12")),
    Factor.TRAVEL_KMH: ("Medelhastighet vid resa (km/h)", Decimal("70")),
    Factor.CERTIFICATES_PER_CARD: ("Certifikat per kort", Decimal("2")),
}


class EvaluationFactor(Base):
    __tablename__ = "evaluation_factor"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric(12, 4))


class ObservationCategory(StrEnum):
    SERVICE = "service"
    AVAILABILITY = "availability"
    RISK = "risk"
    WORK_ENVIRONMENT = "work_environment"
    OTHER = "other"


OBSERVATION_LABELS = {
    ObservationCategory.SERVICE: "Service",
    ObservationCategory.AVAILABILITY: "Tillgänglighet",
    ObservationCategory.RISK: "Risk",
    ObservationCategory.WORK_ENVIRONMENT: "Arbetsmiljö",
    ObservationCategory.OTHER: "Övrigt",
}


class Observation(Base):
    """The qualitative log: what the pilot's people saw, by category and site."""

    __tablename__ = "evaluation_observation"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(20))
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desk.id"))
    text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("category IN ('service', 'availability', 'risk', 'work_environment', 'other')",
                        name="category"),
    )


class RiskArea(StrEnum):
    RESOURCES = "resources"
    TIMETABLE = "timetable"
    TECHNICAL = "technical"
    OTHER = "other"


RISK_AREA_LABELS = {
    RiskArea.RESOURCES: "Resurser",
    RiskArea.TIMETABLE: "Tidplan",
    RiskArea.TECHNICAL: "Tekniska förutsättningar",
    RiskArea.OTHER: "Övrigt",
}


class Risk(Base):
    """The editable risks-and-feasibility list of the decision basis."""

    __tablename__ = "evaluation_risk"

    id: Mapped[int] = mapped_column(primary_key=True)
    area: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    likelihood: Mapped[int] = mapped_column(default=2)  # 1 low … 4 high
    consequence: Mapped[int] = mapped_column(default=2)
    mitigation: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("area IN ('resources', 'timetable', 'technical', 'other')", name="area"),
        CheckConstraint("likelihood BETWEEN 1 AND 4 AND consequence BETWEEN 1 AND 4", name="scale"),
    )
