"""Every event saved while a request is being served records the request that wrote it.

Each such event records `request_id` (and `acting_for`, when the request named someone in
X-Acting-For) beside its own fields: stamped on the events as they are handed to the store,
in the thread that serves the request, since the group commit (domain.group_commit) may
write them from another request's thread. Done once here rather than in every event class;
the domain knows nothing of requests. Events written outside a request (workers, the CLI)
record neither. The extra fields come back, when events are read, as attributes no event
class reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spanledger.observability.request_context import current_request


def stamp_request(events: Sequence[Any]) -> None:
    """Adds the current request's metadata to the events' recorded state."""
    context = current_request.get()
    if context is None:
        return
    metadata = context.event_metadata()
    for event in events:
        vars(event).update(metadata)  # what the store's mapper records (frozen dataclasses)
