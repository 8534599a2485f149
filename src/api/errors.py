"""Errors in Azure's shape: {"error": {"code", "message", "target", "details"}}.

Every refusal is a 4xx naming the offending field; a 500 only ever means a bug.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from spanledger.api.responses import JsonResponse
from spanledger.domain import errors as domain

log = logging.getLogger(__name__)

_STATUS = {
    domain.InvalidArgument: 400,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.PreconditionFailed: 412,
    domain.QuotaExceeded: 403,  # as Azure answers a spent quota
    domain.IdempotencyKeyReused: 422,  # as payment APIs answer it
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, target: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.target = status, code, message, target
        self.headers = headers


def error_response(status: int, code: str, message: str, target: str | None = None,
                   details: list[Any] | None = None, headers: dict[str, str] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if target:
        body["target"] = target
    if details:
        body["details"] = details
    return JsonResponse({"error": body}, status_code=status, headers=headers)


def _target(loc: tuple[Any, ...]) -> str:
    """('body', 'documents', 0, 'text') -> 'documents[0].text'; the query/header/path prefix goes."""
    target = ""
    for part in loc[1:]:
        target += f"[{part}]" if isinstance(part, int) else (f".{part}" if target else str(part))
    return target or ("body" if loc and loc[0] == "body" else str(loc[0]) if loc else "")


def _message(error: dict[str, Any], target: str) -> str:
    kind = error.get("type", "")
    if kind == "json_invalid":
        return f"The body is not valid JSON: {error.get('ctx', {}).get('error', 'decode error')}."
    if kind == "extra_forbidden":
        return f"Unknown field '{target}'."
    if kind == "missing":
        return f"'{target}' is required."
    if target == "body" and isinstance(error.get("input"), bytes):
        return "Send a JSON body with Content-Type: application/json."
    return f"'{target}': {error.get('msg', 'invalid value')}."


def _allowed(request: Request) -> list[str]:
    """Every method some route takes at this path (Starlette names one route's only), from
    the OpenAPI document's paths, which list every route."""
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        if compile_path(template)[0].fullmatch(request.url.path):
            methods |= {m.upper() for m in operations}
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(domain.DomainError)
    async def _domain(_: Request, exc: domain.DomainError) -> JsonResponse:
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
        return error_response(status, exc.code, exc.message, exc.target, exc.details)

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JsonResponse:
        return error_response(exc.status, exc.code, exc.message, exc.target, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JsonResponse:
        problems = exc.errors()
        first = problems[0]
        target = _target(tuple(first.get("loc", ())))
        if first.get("type") == "json_invalid":
            target = "body"
        details = [
            {"code": "InvalidArgument", "message": _message(p, t), "target": t}
            for p in problems[1:]
            for t in [_target(tuple(p.get("loc", ())))]
        ]
        return error_response(400, "InvalidArgument", _message(first, target), target, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JsonResponse:
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "InvalidRequest")
        message = "No such route." if exc.status_code == 404 else str(exc.detail)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(_allowed(request))}
        return error_response(exc.status_code, code, message, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JsonResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "InternalServerError", "An unexpected error occurred; see the server log.")
