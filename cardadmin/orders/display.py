"""Swedish labels and small display helpers shared by the order, desk, card and person pages."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app

from cardadmin.db import utcnow
from cardadmin.orders.models import (
    DOCUMENT_LABELS,
    ORDER_TYPE_LABELS,
    REVOCATION_LABELS,
    SUPPORT_CHANNEL_LABELS,
    SUPPORT_KIND_LABELS,
)
from cardadmin.orders.states import STATUS_LABELS
from cardadmin.web import IdPath

ACTION_LABELS = {
    "order.create": "Beställning registrerad",
    "order.approve": "Godkänd av RA",
    "order.reject": "Avslagen av RA",
    "order.cancel": "Makulerad",
    "order.in_production": "Tillverkning startad",
    "order.at_desk": "Kortet finns att hämta",
    "order.hand_over": "Utlämning med identitetskontroll",
    "order.activate": "Mottagaren har kvitterat – kortet aktivt",
    "order.revoke": "Spärrat",
    "order.expire": "Utgånget",
    "card.register": "Kortnummer registrerat",
    "card.hand_over": "Utlämnat",
    "card.activate": "Aktivt",
    "card.verify": "Kortverifiering i läsaren (se ok och failed_checks)",
    "card.revoke": "Spärrat",
    "card.expire": "Utgånget",
    "revocation.delete": "Spärruppgift gallrad",
    "person.create": "Person registrerad",
    "person.update": "Personuppgifter ändrade",
    "support_case.create": "Supportärende",
    "support_case.resolve": "Supportärende löst",
    "user.create": "Användare skapad",
    "user.update": "Användare ändrad",
    "user.login": "Inloggning",
    "user.logout": "Utloggning",
    "user.password_set": "Lösenord satt",
    "api_token.create": "API-nyckel skapad",
    "api_token.revoke": "API-nyckel återkallad",
    "organisation.create": "Organisation skapad",
    "organisation.update": "Organisation ändrad",
    "desk.create": "Kortutlämning skapad",
    "desk.update": "Kortutlämning ändrad",
    "unit.create": "Enhet skapad",
    "unit.update": "Enhet ändrad",
    "unit.delete": "Enhet borttagen",
    "pilot_period.create": "Pilotperiod skapad",
    "pilot_period.update": "Pilotperiod ändrad",
    "hsa.person.units": "HSA-post: enheter ändrade",
    "hsa.person.remove": "HSA-post borttagen",
    "hsa.person.restore": "HSA-post återställd",
    "time_entry.create": "Tidspost registrerad",
    "time_entry.update": "Tidspost ändrad",
    "time_entry.delete": "Tidspost borttagen",
    "time_entry.export": "Tid exporterad",
    "timesheet.submit": "Tidrapport inskickad",
    "timesheet.approve": "Tidrapport godkänd",
    "timesheet.reopen": "Tidrapport öppnad igen",
    "activity.create": "Aktivitet skapad",
    "activity.update": "Aktivitet ändrad",
    "hourly_rate.save": "Timkostnad sparad",
    "journey_distance.save": "Reseavstånd sparat",
    "inera_price.create": "Inera-pris sparat",
    "evaluation.factor": "Antagande ändrat",
    "evaluation.observation": "Iakttagelse",
    "evaluation.risk": "Risk",
}

WARN_DAYS = 60  # cards waiting at the desk are flagged; at the configured UNCOLLECTED_DAYS they are due for revocation


def days_since(moment: datetime | None) -> int | None:
    return None if moment is None else max((utcnow() - moment).days, 0)


def _label(table: dict[Any, str], value: Any) -> str:
    return table.get(value, str(value or ""))


# How the facts an audit row carries read on the history tables: Swedish names, and values a person
# understands (labels instead of codes, ja/nej, dates without clock time). A key not listed is shown as it
# is, so nothing recorded is hidden.
_FIELDS = {
    "card_number": "kortnummer", "card_id": "kort", "order_id": "beställning", "person_id": "person",
    "desk_id": "kortutlämning", "organisation_id": "organisation", "unit_id": "enhet", "unit_ids": "enheter",
    "status": "status", "order_type": "typ", "reason": "orsak", "requested_by": "begärd av",
    "expires_on": "giltigt till", "retain_until": "sparas till", "hsa_id": "HSA-id", "given_name": "förnamn",
    "surname": "efternamn", "mail": "e-post", "telephone": "telefon", "title": "titel",
    "personnummer": "personnummer", "protected_identity": "skyddad identitet", "start_date": "från",
    "end_date": "till", "replaces_card_id": "ersätter kort", "revocation_id": "spärruppgift", "kind": "ärende",
    "channel": "kanal", "out_of_hours": "utanför kontorstid", "minutes_spent": "minuter",
    "added_minutes": "tillagda minuter", "resolved": "löst", "comment": "kommentar", "ok": "godkänd",
    "failed_checks": "kontroller som inte gick igenom", "source": "källa", "reader": "läsare",
    "verification_id": "verifiering", "username": "användarnamn", "full_name": "namn", "roles": "roller",
    "desk_ids": "kortutlämningar", "active": "aktiv", "locked": "låst",
}
_VALUES: dict[str, dict[Any, str]] = {
    "status": STATUS_LABELS, "order_type": ORDER_TYPE_LABELS, "reason": REVOCATION_LABELS,
    "kind": SUPPORT_KIND_LABELS, "channel": SUPPORT_CHANNEL_LABELS,
}
_SKIP = {"auth_cert_serial", "auth_cert_sha256", "sign_cert_serial", "sign_cert_sha256", "error"}


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, list):  # a list of values, or a change [before, after]: each value read on its own
        return ", ".join(_value(key, v) for v in value)
    if isinstance(value, dict):
        return "(" + ", ".join(f"{_FIELDS.get(k, k)} {_value(k, v)}" for k, v in value.items()) + ")"
    if key in _VALUES:
        return _label(_VALUES[key], value)
    if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and value[10:11] == "T":
        return value[:10]  # an ISO timestamp: the date says enough here
    return str(value)


def _identity(check: dict[str, Any]) -> str:
    if check.get("method") == "witness":
        return f"vittnesförfarande, vittne {check.get('witness_name')} ({check.get('witness_hsa_id')})"
    document = _label(DOCUMENT_LABELS, check.get("document_type"))
    return (f"{document} …{check.get('document_number_last4')}, giltig till {check.get('document_valid_until')}")


def _data(raw: str) -> str:
    """The audit row's data as Swedish 'name: value' pairs (already scrubbed of personal identity numbers)."""
    try:
        values = json.loads(raw or "{}")
    except ValueError:
        return raw
    if not isinstance(values, dict):
        return raw
    parts = []
    for key, value in values.items():
        if value in (None, "", [], {}) or key in _SKIP:
            continue
        if key == "identity" and isinstance(value, dict):
            parts.append(f"identitet: {_identity(value)}")
        else:
            parts.append(f"{_FIELDS.get(key, key)}: {_value(key, value)}")
    return "; ".join(parts)


def merged_history(card_events: list[Any], order_events: list[Any]) -> list[Any]:
    """A card's history beside its order's, oldest first, each act once: a hand-over, activation or
    revocation is logged on the order and on the card in one transaction; the order's row is kept."""
    on_order = {(e.action.split(".", 1)[1], e.actor_id, e.at.replace(microsecond=0)) for e in order_events}
    kept = [e for e in card_events
            if (e.action.split(".", 1)[-1], e.actor_id, e.at.replace(microsecond=0)) not in on_order]
    return sorted(kept + order_events, key=lambda e: e.seq)


def register_filters(bp: Blueprint) -> None:
    bp.add_app_template_filter(lambda s: _label(STATUS_LABELS, s), "status_label")
    bp.add_app_template_filter(lambda s: _label(ORDER_TYPE_LABELS, s), "order_type_label")
    bp.add_app_template_filter(lambda s: _label(DOCUMENT_LABELS, s), "document_label")
    bp.add_app_template_filter(lambda s: _label(REVOCATION_LABELS, s), "revocation_label")
    bp.add_app_template_filter(lambda s: _label(ACTION_LABELS, s), "action_label")
    bp.add_app_template_filter(lambda s: _label(SUPPORT_KIND_LABELS, s), "support_kind_label")
    bp.add_app_template_filter(lambda s: _label(SUPPORT_CHANNEL_LABELS, s), "support_channel_label")
    bp.add_app_template_filter(_data, "audit_data")
    bp.add_app_template_filter(days_since, "days_since")
    bp.add_app_template_global(WARN_DAYS, "WARN_DAYS")
    bp.add_app_template_global(IdPath, "id_path")

    @bp.app_context_processor
    def _collection_days() -> dict[str, Any]:
        return {"REVOKE_DAYS": current_app.config["UNCOLLECTED_DAYS"]}
