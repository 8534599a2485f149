"""Log lines as JSON objects, one a line (SPANLEDGER_LOG_FORMAT=json), or as text.

Every line emitted while a request is served carries its request id, whichever logger wrote
it; the API's line per request adds method, route, path, status and duration.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

import orjson

from spanledger.observability.request_context import current_request_id

LogFormat = Literal["json", "text"]
# What the API's request line adds (api.request_middleware), in this order.
REQUEST_FIELDS = ("method", "route", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None) or current_request_id()
        return f"{line} [request {request_id}]" if request_id else line


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure(log_format: LogFormat) -> None:
    """Formats the process's console logging, uvicorn's included, in `log_format`.

    Called once the server has started: uvicorn sets up its own loggers after the command
    line has set up the root logger. Only plain console handlers are changed: a file's, or a
    test runner's, are left as they are. uvicorn's access line is silenced: the API logs each
    request, with more.
    """
    chosen = formatter(log_format)
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            if type(handler) is logging.StreamHandler:
                handler.setFormatter(chosen)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
