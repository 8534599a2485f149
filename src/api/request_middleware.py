"""Around every HTTP request: its id, its line in the log, and its metrics.

A plain ASGI middleware (not Starlette's BaseHTTPMiddleware, which would buffer streamed
answers and hide a client's disconnect from the route), placed outside every other one
(api.app.SpanledgerApi), so that even an unexpected error's 500 carries the id and is counted.
"""

from __future__ import annotations

import logging
import re
import time
from uuid import uuid4

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spanledger.observability.metrics import Metrics
from spanledger.observability.request_context import RequestContext, current_request

REQUEST_ID_HEADER = "X-Request-Id"
# An incoming id is kept if it looks like one (a UUID, a proxy's hex id, a tracing id);
# anything else is replaced, so that a log line or an event never holds a client's junk.
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")
# Probes and scrapes come every few seconds: logged at DEBUG, so they do not drown the rest.
_QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})

log = logging.getLogger("spanledger.api.requests")


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _WELL_FORMED_ID.fullmatch(given):
                return given
            break
    return uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's template ('/.../projects/{projectName}'), never the raw path:
    metric labels stay few whatever paths clients send. FastAPI's routes name themselves in
    the scope; Starlette's (/openapi.json, /docs, the mounted files) only their endpoint."""
    route = scope.get("route")
    endpoint = scope.get("endpoint")
    if route is None and endpoint is not None:
        routes = getattr(scope.get("router"), "routes", ())
        route = next((r for r in routes if endpoint in (getattr(r, "endpoint", None), getattr(r, "app", None))), None)
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


def _printable(path: str) -> str:
    """A decoded path can hold a newline (%0A): escaped, so that it cannot forge a text log line."""
    return path if path.isprintable() else repr(path)[1:-1]


class RequestMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token = current_request.set(RequestContext(request_id))
        started = time.perf_counter()
        status = 500  # unless an answer starts: an error raised before it is answered with a 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()),
                                                  (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route, method = route_template(scope), scope["method"]
            self.metrics.request_done(method, route, status, seconds)
            log.log(logging.DEBUG if route in _QUIET_ROUTES else logging.INFO,
                    "%s %s %d %.1fms", method, _printable(scope["path"]), status, seconds * 1000,
                    extra={"request_id": request_id, "method": method, "route": route, "path": scope["path"],
                           "status": status, "duration_ms": round(seconds * 1000, 3)})
            current_request.reset(token)
