"""Prometheus metrics (no API key: a scraper has none; SPANLEDGER_METRICS_TOKEN can require one)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from spanledger.api.deps import ContainerDep
from spanledger.api.errors import ApiError
from spanledger.api.schemas import ErrorBody

router = APIRouter()

_TEXT = {"schema": {"type": "string"}}


@router.get("/metrics", response_class=Response, responses={
    200: {"description": "The metrics in Prometheus's text format, or OpenMetrics when the `Accept` header asks "
                         "for `application/openmetrics-text`.",
          "content": {"text/plain": _TEXT, "application/openmetrics-text": _TEXT}},
    401: {"model": ErrorBody, "description": "SPANLEDGER_METRICS_TOKEN is set and the request does not send it as "
                                             "`Authorization: Bearer TOKEN`."},
})
def metrics(request: Request, container: ContainerDep) -> Response:
    """Requests by route template and status, projection lag, jobs by kind and state, quota use by
    resource id, job durations, and the process's own figures. Names no project or document."""
    token = container.settings.metrics_token
    if token and not _bearer_is(request.headers.get("authorization", ""), token):
        raise ApiError(401, "Unauthorized", "Send the metrics token as Authorization: Bearer TOKEN.", "Authorization",
                       headers={"WWW-Authenticate": "Bearer"})
    body, content_type = container.metrics.exposition(request.headers.get("accept"))
    return Response(body, media_type=content_type)


def _bearer_is(authorization: str, token: str) -> bool:
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
