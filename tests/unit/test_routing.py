"""Authoring routes render their answers with orjson themselves (api.routing): the status and
headers a handler sets on FastAPI's Response parameter reach the answer, as FastAPI's own
rendering would carry them."""

import asyncio
import inspect

import orjson
from fastapi import Response

from spanledger.api.routing import _SUB_RESPONSE, _rendered_by_orjson


def test_the_status_and_headers_a_handler_sets_are_in_its_rendered_answer():
    def handler(name: str, response: Response) -> dict:
        response.status_code = 201
        response.headers["ETag"] = '"3"'
        return {"name": name, "labels": [1, 2]}

    wrapped = _rendered_by_orjson(handler, status_code=None)
    assert list(inspect.signature(wrapped).parameters) == ["name", "response"]  # FastAPI fills `response`
    sub = Response()
    sub.status_code = None
    answer = wrapped(name="d", response=sub)
    assert answer.status_code == 201 and answer.headers["etag"] == '"3"'
    assert orjson.loads(answer.body) == {"name": "d", "labels": [1, 2]}
    assert answer.headers["content-type"] == "application/json"


def test_a_handler_without_a_response_parameter_gets_the_route_s_status():
    async def handler(name: str) -> dict:
        return {"name": name}

    wrapped = _rendered_by_orjson(handler, status_code=202)
    assert _SUB_RESPONSE in inspect.signature(wrapped).parameters  # asked for, on the handler's behalf
    sub = Response()
    sub.status_code = None
    answer = asyncio.run(wrapped(name="d", **{_SUB_RESPONSE: sub}))
    assert answer.status_code == 202 and orjson.loads(answer.body) == {"name": "d"}


def test_a_response_the_handler_built_is_answered_as_it_is():
    built = Response(status_code=204)

    def handler() -> Response:
        return built

    sub = Response()
    assert _rendered_by_orjson(handler, status_code=None)(**{_SUB_RESPONSE: sub}) is built
