"""The role-based navigation. A link is shown exactly when the gate would let the user through."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user

from cardadmin.security import roles_allowed

# The register pages an administrator sets up once and rarely visits: one menu entry, "Administration",
# whose page lists them (shown to whoever may open at least one of them).
ADMINISTRATION: list[tuple[str, str]] = [
    ("admin.users", "Användare"),
    ("admin.organisations", "Organisationer"),
    ("admin.desks", "Kortutlämningar"),
    ("timelog_admin.settings", "Tidsinställningar"),
]
ADMINISTRATION_HELP = {
    "admin.users": "konton, roller, organisation och kortutlämningar; lås och lås upp",
    "admin.organisations": "organisationer och deras enheter (HSA)",
    "admin.desks": "kortutlämningar, öppettider och pilotperioder",
    "timelog_admin.settings": "aktiviteter, timkostnad och antaganden för utvärderingen",
}

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
    ("admin.index", "Administration"),
    ("auth.account", "Mitt konto"),
]
_SECTION_OF = {endpoint: "admin.index" for endpoint, _label in ADMINISTRATION}


def links_for(user: Any, pages: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pages of `pages` the gate would let `user` open."""
    if not user.is_authenticated:
        return []
    items = []
    for endpoint, label in pages:
        view = current_app.view_functions.get(endpoint)
        if view is not None and user.roles & roles_allowed(view):
            items.append((endpoint, label))
    return items


def menu_for(user: Any) -> list[tuple[str, str]]:
    items = links_for(user, MENU)
    if ("admin.index", "Administration") in items and not links_for(user, ADMINISTRATION):
        items.remove(("admin.index", "Administration"))
    return items


def current_section(endpoint: str | None) -> str | None:
    """The menu entry a page belongs to (a register page is under Administration)."""
    return _SECTION_OF.get(endpoint or "", endpoint)


def init_app(app: Flask) -> None:
    @app.context_processor
    def _navigation() -> dict[str, Any]:
        return {"menu": menu_for(current_user), "menu_section": current_section(request.endpoint)}
