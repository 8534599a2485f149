"""What every authoring request passes before its route runs, checked once, where input enters.

In this order, so that a refused request costs as little as possible:
1. the raw path: an encoded '/' (%2F) inside a segment is refused, since the path is decoded
   before routing (`documents/d1%2Fevents` would otherwise reach d1's events);
2. path parameters (names and ids), by the rules every name shares (domain.rules.name_problem);
3. query parameters: no control characters (NUL above all: PostgreSQL text cannot hold it);
4. the API key, before a byte of the body is read;
5. the body: at most `max_body_bytes` (413 from its Content-Length, or while it streams in),
   and no NUL in any JSON string or key.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import orjson
from fastapi import Request

from spanledger.api.errors import ApiError
from spanledger.domain.rules import name_problem

JSON_TYPES = ("application/json", "application/merge-patch+json")


def check_raw_path(request: Request) -> None:
    raw: bytes = request.scope.get("raw_path") or b""
    for segment in raw.split(b"/"):
        if b"%2f" in segment.lower():
            raise ApiError(400, "InvalidArgument", "A path segment may not hold an encoded '/' (%2F).", "path")


def check_path_params(request: Request) -> None:
    for name, value in request.path_params.items():
        problem = name_problem(value)
        if problem:
            raise ApiError(400, "InvalidArgument", f"The path's {name} {problem}.", name)


def check_query(request: Request) -> None:
    for name, value in request.query_params.multi_items():
        if any(unicodedata.category(c) == "Cc" for c in name + value):
            raise ApiError(400, "InvalidArgument", f"Query parameter {name!r} holds a control character.",
                           name if name.isprintable() else "query")


def _nul_at(value: Any, path: str) -> str | None:
    """Where a NUL character is in parsed JSON, as the errors name fields ('documents[0].name')."""
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if "\x00" in key:
                return path or "body"
            found = _nul_at(item, where)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_at(item, f"{path}[{i}]")
            if found:
                return found
    return None


async def read_body(request: Request, limit: int) -> None:
    """Reads the body (then cached on the request) if it is within `limit` bytes, and refuses
    JSON that holds a NUL; JSON that does not parse is left to the route's own 400."""
    too_large = ApiError(413, "RequestEntityTooLarge", f"The body is over the limit of {limit:,} bytes.", "body")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # Starlette's own cache: the route reads it from here
    if not body or not request.headers.get("content-type", "").startswith(JSON_TYPES):
        return
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return
    request._json = parsed
    # JSON can only write a NUL as the escape \u0000 (raw control characters do not parse):
    # without one, there is no tree to walk.
    where = _nul_at(parsed, "") if b"\\u0000" in body else None
    if where:
        raise ApiError(400, "InvalidArgument", "The value contains a NUL character (U+0000).", where)
