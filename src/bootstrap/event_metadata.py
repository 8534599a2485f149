"""The event store's transcoder, recording with each event the request that wrote it.

Every event saved while a request is being served records `request_id` (and `acting_for`,
when the request named someone in X-Acting-For) beside its own fields. Done once here, where
events are encoded, rather than in every event class; the domain knows nothing of requests.
Events written outside a request (workers, the CLI) record neither. Decoding is the plain
orjson transcoder's: the extra fields come back as attributes no event class reads.
"""

from __future__ import annotations

from typing import Any

from spanledger.domain.transcoding import OrjsonTranscoder
from spanledger.observability.request_context import current_request


class RequestMetadataTranscoder(OrjsonTranscoder):
    def encode(self, obj: Any) -> bytes:
        context = current_request.get()
        if context is not None and type(obj) is dict:
            obj = {**obj, **context.event_metadata()}
        return super().encode(obj)
