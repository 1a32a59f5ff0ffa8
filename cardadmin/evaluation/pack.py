"""The evaluation pack: benefits (economic, quantitative, qualitative), costs, financing-model inputs, risks.

One builder feeds the page, the printable summary and the XLSX download, so they cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cardadmin.evaluation import figures
from cardadmin.evaluation.costs import CostRow, inera_costs
from cardadmin.evaluation.models import OBSERVATION_LABELS, Factor, Observation, Risk
from cardadmin.evaluation.settings import factors, observations, risks
from cardadmin.timelog.money import Reimbursement, reimbursement, to_ore


@dataclass
class Pack:
    year: int | None
    sites: list[figures.Site]
    combined: figures.Site
    activities: list[str]
    factors: dict[Factor, Decimal]
    reimbursement_by_period: list[Reimbursement]
    reimbursement_by_served: list[Reimbursement]
    costs: list[CostRow]
    observations: list[Observation]
    risks: list[Risk]

    @property
    def reimbursement_total(self) -> Decimal:
        return to_ore(sum((r.exact for r in self.reimbursement_by_period), Decimal(0)) / 6000)

    @property
    def inera_total(self) -> Decimal:
        return sum((c.total for c in self.costs), Decimal(0))

    @property
    def km(self) -> Decimal:
        return self.combined.total.km

    @property
    def travel_cost_avoided(self) -> Decimal:
        return to_ore(self.km * self.factors[Factor.COST_PER_KM])

    @property
    def travel_hours_avoided(self) -> Decimal:
        speed = self.factors[Factor.TRAVEL_KMH]
        return to_ore(self.km / speed) if speed else Decimal(0)

    @property
    def staff_time_avoided_value(self) -> Decimal:
        return to_ore(self.travel_hours_avoided * self.factors[Factor.COST_PER_STAFF_HOUR])

    @property
    def co2_kg(self) -> Decimal:
        return to_ore(self.km * self.factors[Factor.CO2_KG_PER_KM])

    @property
    def net_benefit(self) -> Decimal:
        """Travel cost and staff time avoided, less the reimbursement paid for the desks' time."""
        return self.travel_cost_avoided + self.staff_time_avoided_value - self.reimbursement_total

    def observations_by_category(self) -> dict[str, list[Observation]]:
        grouped: dict[str, list[Observation]] = defaultdict(list)
        for obs in self.observations:
            grouped[OBSERVATION_LABELS.get(obs.category, obs.category)].append(obs)  # type: ignore[call-overload]
        return dict(grouped)

    def cost_per_card_by_site(self) -> list[tuple[str, int, Decimal, Decimal, Decimal | None]]:
        """(site, cards handed over, reimbursement, Inera cost, cost per card) per pilot site."""
        out = []
        for site in self.sites:
            ids = {p.id for p in site.periods}
            paid = to_ore(sum((r.exact for r in self.reimbursement_by_period if r.period_id in ids), Decimal(0))
                          / 6000)
            inera = sum((c.total for c in self.costs if c.period_id in ids), Decimal(0))
            cards = site.total.handed_over
            out.append((site.name, cards, paid, inera, to_ore((paid + inera) / cards) if cards else None))
        return out

    def cost_per_card_by_organisation(self) -> list[tuple[str, int, Decimal, Decimal, Decimal | None]]:
        """(organisation served, cards produced, staff time paid for it, Inera cost, cost per card)."""
        staff: dict[str, Decimal] = defaultdict(Decimal)
        for r in self.reimbursement_by_served:  # one row per municipality that served the organisation
            staff[r.key] += r.exact
        cards: dict[str, int] = defaultdict(int)
        inera: dict[str, Decimal] = defaultdict(Decimal)
        for c in self.costs:
            cards[c.organisation] += c.cards
            inera[c.organisation] += c.total
        out = []
        for name in sorted(set(staff) | set(cards)):
            paid = to_ore(staff.get(name, Decimal(0)) / 6000)
            n = cards.get(name, 0)
            out.append((name, n, paid, inera.get(name, Decimal(0)),
                        to_ore((paid + inera.get(name, Decimal(0))) / n) if n else None))
        return out


def build(year: int | None) -> Pack:
    sites, combined = figures.dashboard(year)
    periods = [p for s in sites for p in s.periods]  # the chosen year's: every figure below is limited to them
    period_ids = [p.id for p in periods]
    return Pack(
        year=year, sites=sites, combined=combined, activities=figures.activity_names(sites), factors=factors(),
        reimbursement_by_period=reimbursement("period", period_ids=period_ids),
        reimbursement_by_served=reimbursement("served", period_ids=period_ids), costs=inera_costs(periods),
        observations=observations(), risks=risks(),
    )


# ---------------------------------------------------------------- sheets of the XLSX download


# Decimals shown on the page per kind of figure (the XLSX keeps the numbers as they are).
KR, HOURS, WHOLE = 2, 1, 0


def summary_items(pack: Pack) -> list[tuple[str, Any, int | None]]:
    """(label, value, decimals on the page; None: as many as the value has). A value of None is not known."""
    t = pack.combined.total
    return [
        ("Pilotorter", ", ".join(s.name for s in pack.sites), None),
        ("Beställningar", t.orders, None),
        ("Utlämnade kort", t.handed_over, None),
        ("Ledtid beställning→utlämning, median (timmar)", t.median_lead, HOURS),
        ("Ledtid beställning→utlämning, p90 (timmar)", t.p90_lead, HOURS),
        ("Rapporterad tid (timmar)", t.hours, HOURS),
        ("Minuter per utlämnat kort", t.minutes_per_card, WHOLE),
        ("Undvikna resor", t.journeys, None),
        ("Undvikna km", t.km, WHOLE),
        ("Koldioxid undviken (kg)", pack.co2_kg, WHOLE),
        ("Supportärenden utanför kontorstid", t.support_out_of_hours, None),
        ("Ersättning till kommunerna (kr, godkänd tid)", pack.reimbursement_total, KR),
        ("Inera-kostnader (kr)", pack.inera_total, KR),
        ("Undvikna resekostnader (kr)", pack.travel_cost_avoided, KR),
        ("Undviken restid (timmar)", pack.travel_hours_avoided, HOURS),
        ("Värde av undviken restid (kr)", pack.staff_time_avoided_value, KR),
        ("Nettonytta (kr): resekostnad + restid − ersättning", pack.net_benefit, KR),
        *((f"Antagande: {factor.label}", value, None) for factor, value in pack.factors.items()),
    ]


def summary_rows(pack: Pack) -> Iterator[list[Any]]:
    for label, value, _decimals in summary_items(pack):
        yield [label, _blank(value)]


WEEK_HEADER = ["Pilotort", "Vecka", "Beställningar", "Utlämnade kort", "Ledtid median (h)", "Ledtid p90 (h)",
               "Timmar", "Minuter per kort", "Undvikna resor", "Undvikna km", "Supportärenden utanför kontorstid"]


def week_rows(pack: Pack) -> Iterator[list[Any]]:
    for site in [*pack.sites, pack.combined]:
        for week, f in site.weeks.items():
            yield [site.name, figures.week_label(week), f.orders, f.handed_over, _blank(f.median_lead),
                   _blank(f.p90_lead), f.hours, _blank(f.minutes_per_card), f.journeys, f.km, f.support_out_of_hours]


def activity_rows(pack: Pack) -> Iterator[list[Any]]:
    for name in pack.activities:
        yield [name, *[round(s.total.minutes_by_activity.get(name, 0) / 60, 2) for s in pack.sites],
               round(pack.combined.total.minutes_by_activity.get(name, 0) / 60, 2)]


ORG_HEADER = ["Organisation (betjänad)", "Producerade kort", "Ersatt tid (kr)", "Inera-kostnad (kr)",
              "Kostnad per kort (kr)"]


def organisation_rows(pack: Pack) -> Iterator[list[Any]]:
    for name, cards, paid, inera, per_card in pack.cost_per_card_by_organisation():
        yield [name, cards, paid, inera, _blank(per_card)]


def _blank(value: Any) -> Any:
    return "" if value is None else value
