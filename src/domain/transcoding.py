"""orjson transcoding of the event store.

Event payloads are JSON-native by design; the only other values eventsourcing itself puts in
our events are datetimes: each event's `timestamp`, and `_created_on`/`_modified_on` inside a
snapshot's state. orjson writes them as RFC 3339 strings, and this transcoder turns exactly
those back into datetimes (a bare orjson transcoder would hand them back as strings).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from eventsourcing.persistence import Transcoder

_SNAPSHOT_DATETIMES = ("_created_on", "_modified_on")


class OrjsonTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        obj = orjson.loads(data)
        timestamp = obj.get("timestamp")
        if type(timestamp) is str:
            obj["timestamp"] = datetime.fromisoformat(timestamp)
        state = obj.get("state")
        if type(state) is dict and "_created_on" in state:
            for key in _SNAPSHOT_DATETIMES:
                state[key] = datetime.fromisoformat(state[key])
        return obj
