"""Who and which request a piece of work belongs to, for the events it writes and the log
lines it emits.

A contextvar, set per request by the API's middleware: it reaches the route and the threads
FastAPI runs sync routes in (anyio copies the context), where the events a request saves are
stamped with it (bootstrap.event_metadata), without being passed through every command.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class RequestContext:
    request_id: str
    # Who the caller says it acts for (X-Acting-For), once the key has been checked.
    acting_for: str | None = None

    def event_metadata(self) -> dict[str, str]:
        """What every event this request writes records about it."""
        metadata = {"request_id": self.request_id}
        if self.acting_for is not None:
            metadata["acting_for"] = self.acting_for
        return metadata


current_request: ContextVar[RequestContext | None] = ContextVar("spanledger_request", default=None)


def current_request_id() -> str | None:
    context = current_request.get()
    return context.request_id if context is not None else None
