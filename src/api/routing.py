"""The authoring routes' request handling: guarded input (api.guard), JSON read with orjson.

The standard library's parser accepts what the event store's orjson cannot write back (lone
surrogates, NaN and Infinity), which would turn into a 500 or into state a replay does not
reproduce. orjson refuses them while parsing, so they get a 400 like any malformed JSON
(its error is a json.JSONDecodeError, which FastAPI already answers as such).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute

from spanledger.api import guard
from spanledger.api.deps import authenticate, check_api_version
from spanledger.api.schemas import ERROR_RESPONSES

BASE = "/language/authoring/analyze-text/projects"


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class JsonRoute(APIRoute):
    """Guarded input, orjson bodies; answers are rendered as the handlers build them. Their
    shapes are documented with `responses` models (api.response_bodies), not validated on
    the way out: the tests check the answers against the served document instead."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *, response_model: Any = None, **kwargs: Any) -> None:
        if isinstance(response_model, DefaultPlaceholder):
            response_model = None
        super().__init__(path, endpoint, response_model=response_model, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            request = OrjsonRequest(request.scope, request.receive)
            guard.check_raw_path(request)
            guard.check_path_params(request)
            guard.check_query(request)
            await authenticate(request)
            await guard.read_body(request, request.app.state.container.settings.max_body_bytes)
            return await handler(request)

        return guarded


def authoring_router(prefix: str = BASE) -> APIRouter:
    """A router for routes under Azure's authoring path: api-version required, orjson bodies,
    and the refusals every such route can answer documented with Azure's error body."""
    return APIRouter(prefix=prefix, route_class=JsonRoute, dependencies=[Depends(check_api_version)],
                     responses=ERROR_RESPONSES)
