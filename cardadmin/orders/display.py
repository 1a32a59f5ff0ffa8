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
}

WARN_DAYS = 60  # cards waiting at the desk are flagged; at the configured UNCOLLECTED_DAYS they are due for revocation


def days_since(moment: datetime | None) -> int | None:
    return None if moment is None else max((utcnow() - moment).days, 0)


def _label(table: dict[Any, str], value: Any) -> str:
    return table.get(value, str(value or ""))


def _data(raw: str) -> str:
    """The audit row's data as 'key: value' pairs (already scrubbed of personal identity numbers)."""
    try:
        values = json.loads(raw or "{}")
    except ValueError:
        return raw
    return "; ".join(f"{k}: {v}" for k, v in values.items() if v not in (None, "", [], {}))


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

    @bp.app_context_processor
    def _collection_days() -> dict[str, Any]:
        return {"REVOKE_DAYS": current_app.config["UNCOLLECTED_DAYS"]}
