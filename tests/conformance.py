"""Every answer the HTTP tests get, checked against the OpenAPI document the server serves:
its status code documented for the operation, its body in the documented shape (the shapes
forbid undocumented fields). The routes build plain dicts, so this is what keeps them and
their description together, in every test that talks HTTP, not only in the fuzzer's."""

from __future__ import annotations

import functools

import httpx
import schemathesis
from schemathesis.core.transport import Response

# FastAPI's own answer to a method no route has; not an operation's.
_NOT_AN_OPERATION = {405}


@functools.cache
def _schema(openapi_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(openapi_url)


def check(response: httpx.Response) -> None:
    """Raises AssertionError (or schemathesis's failure) naming what the answer broke."""
    if response.status_code in _NOT_AN_OPERATION:
        return
    request = response.request
    schema = _schema(str(request.url.copy_with(path="/openapi.json", query=None)))
    operation = schema.find_operation_by_path(request.method, request.url.path)
    if operation is None:
        return  # a path no route serves (its 404 is the router's)
    response.read()
    documented = operation.responses.find_by_status_code(response.status_code)
    assert documented is not None, (
        f"{request.method} {operation.path} answered {response.status_code}, which its OpenAPI entry does not list: "
        f"{response.text[:300]}")
    if not isinstance(request.stream, httpx.ByteStream):
        return  # a streamed upload: its status is checked; schemathesis cannot show its body
    operation.validate_response(Response.from_any(response))
