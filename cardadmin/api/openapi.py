"""Build the OpenAPI 3.1 document from the registered operations."""

from __future__ import annotations

import re
from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
}


def object_schema(*required: str) -> dict[str, Any]:
    return {"type": "object", "required": list(required)}


def openapi_path(rule: str) -> str:
    """Flask's '/orders/<int:order_id>' → OpenAPI's '/orders/{order_id}'."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def build_document(operations: list[Any], prefix: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        path = openapi_path(prefix + op.rule)
        parameters = list(op.parameters)
        for name in re.findall(r"{([a-z_]+)}", path):
            parameters.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
        responses: dict[str, Any] = {
            "200": {"description": "OK", "content": {"application/json": {"schema": op.response_schema or {}}}},
        }
        for status in ("400", "401", "403", "404", "409"):
            responses[status] = {"$ref": "#/components/responses/Error"}
        entry: dict[str, Any] = {
            "operationId": op.endpoint, "summary": op.summary, "parameters": parameters, "responses": responses,
            "security": [] if op.roles is None else [{"bearer": []}],
            "x-roles": None if op.roles is None else sorted(str(r) for r in op.roles),
        }
        if op.description:
            entry["description"] = op.description
        if op.request_schema is not None:
            entry["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": op.request_schema}}}
        paths.setdefault(path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cardadmin API",
            "version": "1",
            "description": "Kortadministration för SITHS-kort. Autentisera med 'Authorization: Bearer <API-nyckel>'.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA},
            "responses": {"Error": {"description": "Fel", "content": {"application/json": {"schema": ERROR_SCHEMA}}}},
        },
    }
