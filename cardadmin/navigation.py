"""The role-based navigation. A link is shown exactly when the gate would let the user through."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_login import current_user

from cardadmin.security import roles_allowed

# (endpoint, Swedish label); later capabilities add their pages here.
MENU: list[tuple[str, str]] = [
    ("auth.home", "Start"),
    ("orders.new_order", "Ny beställning"),
    ("orders.mine", "Mina beställningar"),
    ("orders.ra_queue", "Att godkänna"),
    ("desk_orders.queue", "Utlämning"),
    ("cards.search", "Sök kort"),
    ("support.cases", "Support"),
    ("hsa.search", "HSA-poster"),
    ("hsa.billing", "HSA-debitering"),
    ("timelog.week", "Min tid"),
    ("timelog.queue", "Attestera tid"),
    ("evaluation.dashboard", "Uppföljning"),
    ("evaluation.export_page", "Exportera tid"),
    ("audit.search", "Logg"),
    ("admin.users", "Användare"),
    ("admin.organisations", "Organisationer"),
    ("admin.desks", "Kortutlämningar"),
    ("timelog_admin.settings", "Tidsinställningar"),
    ("auth.account", "Mitt konto"),
]


def menu_for(user: Any) -> list[tuple[str, str]]:
    if not user.is_authenticated:
        return []
    items = []
    for endpoint, label in MENU:
        view = current_app.view_functions.get(endpoint)
        if view is not None and user.roles & roles_allowed(view):
            items.append((endpoint, label))
    return items


def init_app(app: Flask) -> None:
    @app.context_processor
    def _navigation() -> dict[str, Any]:
        return {"menu": menu_for(current_user)}
