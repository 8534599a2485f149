"""Routes that read JSON bodies with orjson.

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
from fastapi.routing import APIRoute

from api.deps import check_api_version

BASE = "/language/authoring/analyze-text/projects"


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class JsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_orjson(request: Request) -> Response:
            return await handler(OrjsonRequest(request.scope, request.receive))

        return with_orjson


def authoring_router(prefix: str = BASE) -> APIRouter:
    """A router for routes under Azure's authoring path: api-version required, orjson bodies."""
    return APIRouter(prefix=prefix, route_class=JsonRoute, dependencies=[Depends(check_api_version)])
