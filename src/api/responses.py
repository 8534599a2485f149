"""Response helpers: orjson rendering, Azure's time format, absolute links."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse


class JsonResponse(JSONResponse):
    # orjson is part of the stack; FastAPI's own ORJSONResponse is deprecated.
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def azure_time(value: str | datetime | None) -> str | None:
    """Azure's timestamps: UTC to the second, 'Z' suffix (its clients parse exactly this)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value[:19] + "Z"


def precise_time(value: str) -> str:
    """Event times with their microseconds (the audit log orders by them)."""
    return value.replace("+00:00", "Z")


def absolute_url(request: Request, path: str, **query: Any) -> str:
    """Azure's clients follow Operation-Location and nextLink only when they are absolute.
    They start with the configured public URL, never with the request's Host header: a forged
    Host would make a client send its key elsewhere.

    `path` must already be quoted (see `segment`)."""
    base = request.app.state.container.settings.base_url
    return base + path + ("?" + urlencode(query) if query else "")


def segment(name: str) -> str:
    return quote(name, safe="")


def finished_job(job_id: str, at: str, retention: timedelta) -> dict[str, Any]:
    """Azure's job state for an operation that finished within its request (`at`, ISO 8601)."""
    created = datetime.fromisoformat(at)
    return {"jobId": job_id, "createdDateTime": azure_time(created), "lastUpdatedDateTime": azure_time(created),
            "expirationDateTime": azure_time(created + retention), "status": "succeeded",
            "warnings": [], "errors": []}
