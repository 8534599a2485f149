"""The OpenAPI document, corrected to what the API answers.

FastAPI documents a 422 for every route with parameters; spanledger answers bad input with a
400 in Azure's error body (api.errors), which the authoring routers document. Writes can
meet a conflict (409), bodies can be too large (413), and routes that take If-Match a stale
version (412): added here from each operation's method and parameters, so the document
cannot drift from the routes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
_CONFLICT = {"description": "A conflict with the current state (a rule, or a concurrent write).", "content": _ERROR}
_STALE = {"description": "`If-Match` names another version than the current one.", "content": _ERROR}
_TOO_LARGE = {"description": "The body is over the configured limit (SPANLEDGER_MAX_BODY_BYTES).", "content": _ERROR}


def truthful_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            responses = operation["responses"]
            if "401" not in responses:
                continue  # not an authoring route (health)
            if "HTTPValidationError" in str(responses.get("422")):
                del responses["422"]  # FastAPI's; a route's own 422 (IdempotencyKeyReused) stays
            if method != "get":
                responses.setdefault("409", _CONFLICT)
            if method in ("post", "put", "patch"):
                responses.setdefault("413", _TOO_LARGE)
            if any(p["name"] == "If-Match" for p in operation.get("parameters", [])):
                responses.setdefault("412", _STALE)
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    app.openapi_schema = schema
    return schema
