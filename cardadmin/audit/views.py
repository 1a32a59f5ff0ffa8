"""The audit search page (RA officers see their organisation's rows; admins see all)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from cardadmin.audit.service import AuditQuery, search
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.roles import Role
from cardadmin.security import allow
from cardadmin.timefmt import local_day_end, local_day_start
from cardadmin.web import date_arg, int_arg

bp = Blueprint("audit", __name__, url_prefix="/logg")

TARGET_TYPES = [
    ("", "Alla"), ("order", "Beställning"), ("card", "Kort"), ("person", "Person"), ("user", "Användare"),
    ("organisation", "Organisation"), ("unit", "Enhet"), ("desk", "Kortutlämning"), ("pilot_period", "Pilotperiod"),
]


def _date_arg(name: str, label: str, errors: list[str]) -> date | None:
    try:
        return date_arg(name, label)
    except InvalidInput as exc:
        errors.append(exc.message)
        return None


def _next_page_url(before: int) -> str:
    params = {k: v for k, v in request.args.items() if k != "before"}
    return url_for("audit.search", **params, before=before)


@bp.route("/", endpoint="search")
@allow(Role.RA_OFFICER, Role.ADMIN)
def search_page() -> Any:
    errors: list[str] = []
    since, until = _date_arg("from", "Från datum", errors), _date_arg("to", "Till datum", errors)
    scope = None if current_user.has_role(Role.ADMIN) else current_user.organisation_id
    query = AuditQuery(
        target_type=request.args.get("target_type") or None,
        target_id=request.args.get("target_id", "").strip()[:64] or None,
        actor=request.args.get("actor", "").strip()[:64] or None,
        since=local_day_start(since) if since else None,
        until=local_day_end(until) if until else None,
        organisation_id=scope if scope is not None else None,
        before_seq=int_arg("before"),
    )
    if scope is None and not current_user.has_role(Role.ADMIN):
        rows: list[Any] = []  # an RA officer without an organisation sees nothing
    else:
        rows = search(db.session, query, limit=50)
    status = 400 if errors else 200
    return render_template(
        "audit/search.html", rows=rows, errors=errors, target_types=TARGET_TYPES, args=request.args,
        next_url=_next_page_url(rows[-1].seq) if len(rows) == 50 else None,
    ), status

