"""The evaluation's editable inputs: factors, Inera's price list, observations and the risk list (all audited)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from cardadmin import audit
from cardadmin.accounts.models import Desk, User
from cardadmin.db import db, utcnow
from cardadmin.errors import InvalidInput, NotFound
from cardadmin.evaluation.models import (
    FACTOR_LABELS,
    EvaluationFactor,
    Factor,
    IneraPrice,
    Observation,
    ObservationCategory,
    PriceItem,
    Risk,
    RiskArea,
)
from cardadmin.roles import Role
from cardadmin.security import require_role
from cardadmin.timelog import rules
from cardadmin.validation import free_text

EDITORS = (Role.EVALUATOR, Role.ADMIN)


def factors() -> dict[Factor, Decimal]:
    stored = dict(db.session.execute(select(EvaluationFactor.key, EvaluationFactor.value)).all())
    return {f: Decimal(stored[f]) if f in stored else default for f, (_label, default) in FACTOR_LABELS.items()}


def set_factor(actor: User, key: str, value: str | Decimal) -> Decimal:
    require_role(actor, *EDITORS)
    try:
        factor = Factor(key)
    except ValueError:
        raise NotFound("Faktorn finns inte.") from None
    amount = rules.parse_amount(value, factor.label, key, maximum=Decimal("100000"), places=4)
    if amount is None:
        raise InvalidInput(f"Ange {factor.label.lower()}.", field=key)
    row = db.session.get(EvaluationFactor, str(factor)) or EvaluationFactor(key=str(factor))
    before = row.value
    row.value = amount
    db.session.add(row)
    db.session.flush()
    audit.record(db.session, actor, "evaluation.factor", "evaluation_factor", str(factor),
                 {"before": None if before is None else str(before), "after": str(amount)})
    return amount


def save_price(actor: User, *, item: str, valid_from: date | None, valid_to: date | None,
               price: str | Decimal) -> IneraPrice:
    require_role(actor, *EDITORS)
    try:
        kind = PriceItem(item)
    except ValueError:
        raise InvalidInput("Välj vad priset gäller.", field="item") from None
    if valid_from is None or valid_to is None or valid_from > valid_to:
        raise InvalidInput("Ange giltighetsperiod med från-datum före till-datum.", field="valid_from")
    amount = rules.parse_amount(price, "Pris", "price")
    if amount is None:
        raise InvalidInput("Ange pris.", field="price")
    overlapping = db.session.scalar(select(IneraPrice.id).where(
        IneraPrice.item == str(kind), IneraPrice.valid_from <= valid_to, IneraPrice.valid_to >= valid_from))
    if overlapping:
        raise InvalidInput(f"Det finns redan ett pris för {kind.label.lower()} under en del av perioden.",
                           field="valid_from")
    row = IneraPrice(item=str(kind), valid_from=valid_from, valid_to=valid_to, price=amount)
    db.session.add(row)
    db.session.flush()
    audit.record(db.session, actor, "inera_price.create", "inera_price", row.id,
                 {"item": str(kind), "valid_from": valid_from.isoformat(), "valid_to": valid_to.isoformat(),
                  "price": str(amount)})
    return row


def price_list() -> list[IneraPrice]:
    return list(db.session.scalars(select(IneraPrice).order_by(IneraPrice.valid_from, IneraPrice.item)))


def price_on(day: date) -> dict[PriceItem, Decimal]:
    rows = db.session.scalars(select(IneraPrice).where(IneraPrice.valid_from <= day, IneraPrice.valid_to >= day))
    return {PriceItem(r.item): r.price for r in rows}


def add_observation(actor: User, *, category: str, text: str, desk_id: int | None) -> Observation:
    require_role(actor, Role.EVALUATOR, Role.CARD_ADMIN, Role.RA_OFFICER, Role.ADMIN)
    try:
        kind = ObservationCategory(category)
    except ValueError:
        raise InvalidInput("Välj kategori.", field="category") from None
    if desk_id is not None and db.session.get(Desk, desk_id) is None:
        raise InvalidInput("Kortutlämningen finns inte.", field="desk_id")
    row = Observation(category=str(kind), desk_id=desk_id, created_by_id=actor.id,
                      text=free_text(text, "Iakttagelse", where="iakttagelsen", max_length=4000))
    db.session.add(row)
    db.session.flush()
    audit.record(db.session, actor, "evaluation.observation", "observation", row.id,
                 {"category": row.category, "desk_id": desk_id})
    return row


def observations() -> list[Observation]:
    return list(db.session.scalars(select(Observation).order_by(Observation.created_at.desc(), Observation.id)))


def save_risk(actor: User, risk_id: int | None, *, area: str, title: str, likelihood: int, consequence: int,
              mitigation: str = "", owner: str = "") -> Risk:
    require_role(actor, *EDITORS)
    try:
        kind = RiskArea(area)
    except ValueError:
        raise InvalidInput("Välj område.", field="area") from None
    if not (isinstance(likelihood, int) and isinstance(consequence, int)
            and 1 <= likelihood <= 4 and 1 <= consequence <= 4):
        raise InvalidInput("Sannolikhet och konsekvens anges 1–4.", field="likelihood")
    row = db.session.get(Risk, risk_id) if risk_id else Risk()
    if row is None:
        raise NotFound("Risken finns inte.")
    row.area, row.likelihood, row.consequence = str(kind), likelihood, consequence
    row.title = free_text(title, "Risk", where="risken", max_length=200)
    row.mitigation = free_text(mitigation, "Åtgärd", where="åtgärden", max_length=4000, required=False)
    row.owner = free_text(owner, "Ansvarig", where="fältet Ansvarig", max_length=200, required=False)
    row.updated_at = utcnow()
    db.session.add(row)
    db.session.flush()
    audit.record(db.session, actor, "evaluation.risk", "risk", row.id,
                 {"area": row.area, "title": row.title, "likelihood": likelihood, "consequence": consequence})
    return row


def risks() -> list[Risk]:
    return list(db.session.scalars(select(Risk).order_by((Risk.likelihood * Risk.consequence).desc(), Risk.id)))
