"""The authoring routes' request handling: guarded input (api.guard), JSON read with orjson.

The standard library's parser accepts what the event store's orjson cannot write back (lone
surrogates, NaN and Infinity), which would turn into a 500 or into state a replay does not
reproduce. orjson refuses them while parsing, so they get a 400 like any malformed JSON
(its error is a json.JSONDecodeError, which FastAPI already answers as such).

Answers are rendered with orjson by the handler itself (`_rendered_by_orjson`): FastAPI would
first walk them with `jsonable_encoder`, a quarter of the event loop's time on a label write.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute

from spanledger.api import guard
from spanledger.api.deps import authenticate, check_api_version
from spanledger.api.responses import JsonResponse
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
        if isinstance(kwargs.get("response_class"), DefaultPlaceholder | None) and response_model is None:
            endpoint = _rendered_by_orjson(endpoint, kwargs.get("status_code"))
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


_SUB_RESPONSE = "_spanledger_response"


def _rendered_by_orjson(endpoint: Callable[..., Any], status_code: int | None) -> Callable[..., Any]:
    """The endpoint, answering what it returns as a JsonResponse that carries the status and
    headers the handler set on FastAPI's `Response` parameter (which FastAPI would merge)."""
    signature = inspect.signature(endpoint, eval_str=True)
    own = next((p.name for p in signature.parameters.values() if p.annotation is Response), None)
    parameters = list(signature.parameters.values())
    if own is None:  # FastAPI hands one Response object to every parameter that asks for it
        parameters.append(inspect.Parameter(_SUB_RESPONSE, inspect.Parameter.KEYWORD_ONLY, annotation=Response))
    name = own or _SUB_RESPONSE

    def render(content: Any, sub_response: Response) -> Response:
        if isinstance(content, Response):
            return content
        rendered = JsonResponse(content, status_code=sub_response.status_code or status_code or 200)
        rendered.headers.raw.extend(sub_response.headers.raw)
        return rendered

    if inspect.iscoroutinefunction(endpoint):
        @functools.wraps(endpoint)
        async def wrapper(*args: Any, **kwargs: Any) -> Response:
            sub_response = kwargs[name] if own else kwargs.pop(name)
            return render(await endpoint(*args, **kwargs), sub_response)
    else:
        @functools.wraps(endpoint)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            sub_response = kwargs[name] if own else kwargs.pop(name)
            return render(endpoint(*args, **kwargs), sub_response)

    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return wrapper


def authoring_router(prefix: str = BASE) -> APIRouter:
    """A router for routes under Azure's authoring path: api-version required, orjson bodies,
    and the refusals every such route can answer documented with Azure's error body."""
    return APIRouter(prefix=prefix, route_class=JsonRoute, dependencies=[Depends(check_api_version)],
                     responses=ERROR_RESPONSES)
