"""Token authentication and the route registry the OpenAPI document is built from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, current_app, g, request
from werkzeug.exceptions import UnsupportedMediaType

from cardadmin.accounts.service import api_token_for
from cardadmin.errors import Forbidden, InvalidInput, Unauthorized
from cardadmin.roles import Role
from cardadmin.security import PUBLIC, access_of, allow, public

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    roles: frozenset[Role] | None  # None: public
    parameters: list[dict[str, Any]] = field(default_factory=list)
    request_schema: dict[str, Any] | None = None
    response_schema: dict[str, Any] | None = None
    description: str = ""


OPERATIONS: list[Operation] = []


def operation(
    rule: str,
    *,
    summary: str,
    roles: tuple[Role, ...] | None,
    method: str = "GET",
    parameters: list[dict[str, Any]] | None = None,
    request_schema: dict[str, Any] | None = None,
    response_schema: dict[str, Any] | None = None,
    description: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an API route with its access rule and its OpenAPI description in one place."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view = public(view) if roles is None else allow(*roles)(view)
        api_bp.add_url_rule(rule, view_func=view, methods=[method])
        OPERATIONS.append(
            Operation(
                rule, method, view.__name__, summary, None if roles is None else frozenset(roles),
                parameters or [], request_schema, response_schema, description,
            )
        )
        return view

    return decorate


MAX_JSON_DEPTH = 16  # no request of this API nests deeper than a few levels


def _depth(value: Any, level: int = 1) -> int:
    """How deep ``value`` nests, counted only as far as one level past the limit."""
    if level > MAX_JSON_DEPTH or not isinstance(value, dict | list):
        return level
    children = value.values() if isinstance(value, dict) else value
    return max((_depth(child, level + 1) for child in children), default=level)


def json_body() -> dict[str, Any]:
    if not request.is_json:
        raise UnsupportedMediaType()
    too_deep = InvalidInput(f"JSON-innehållet är för djupt nästlat (högst {MAX_JSON_DEPTH} nivåer).")
    try:
        body = request.get_json(silent=False)  # malformed JSON → 400 through the JSON error handler
    except RecursionError:
        raise too_deep from None  # deeper than Python's parser goes
    if _depth(body) > MAX_JSON_DEPTH:
        raise too_deep
    if not isinstance(body, dict):
        raise InvalidInput("Begärans innehåll ska vara ett JSON-objekt.")
    return body


# What a desk-agent token may reach: who it is and the desk's verification calls, nothing else.
DESK_AGENT_RULES = ("/api/v1/me", "/api/v1/desk/")


def in_scope(scope: str, rule: str) -> bool:
    return scope == "all" or (scope == "desk_agent" and rule.startswith(DESK_AGENT_RULES))


@api_bp.before_request
def _authenticate() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or access_of(view) == PUBLIC:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    row = api_token_for(token.strip()) if scheme.lower() == "bearer" else None
    if row is None:
        raise Unauthorized("Giltig API-nyckel saknas (Authorization: Bearer …).")
    if not in_scope(row.scope, request.url_rule.rule if request.url_rule else ""):
        raise Forbidden("API-nyckeln får bara användas av kortläsaragenten.")
    user = row.user
    allowed = access_of(view)
    if not isinstance(allowed, frozenset) or not user.has_role(*allowed):
        raise Forbidden("API-nyckelns användare saknar behörighet för den här åtgärden.")
    g.api_user = user


@api_bp.after_request
def _unauthorized_header(response: Any) -> Any:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cardadmin"'
    return response
