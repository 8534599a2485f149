"""The `atPosition` and `asOf` query parameters: a read of the state then, replayed from the
event store (package `replay`), instead of the read model's present."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query, Response

from spanledger.api.deps import MAX_INT, POSITION_HEADER
from spanledger.api.errors import ApiError
from spanledger.bootstrap import Container
from spanledger.replay.history import resolve

AtPosition = Annotated[int | None, Query(
    alias="atPosition", ge=0, le=MAX_INT,
    description="The state as of this log position (an X-Log-Position a write returned), replayed from the log; "
                "beyond the log's last position: 400.")]
AsOf = Annotated[str | None, Query(
    alias="asOf",
    description="The state as of this ISO 8601 time (UTC if no offset is given): after every event recorded at "
                "or before it, replayed from the log; a time to come: 400. Not with atPosition.")]


def parse_time(value: str, target: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError:
        raise ApiError(400, "InvalidArgument", f"{target} must be an ISO 8601 date-time.", target) from None
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00, which is before year 1 in UTC
        raise ApiError(400, "InvalidArgument", f"{target} is out of the range of dates.", target) from None


def position_of(container: Container, response: Response, at_position: int | None,
                      as_of: str | None) -> int | None:
    """The log position the request asks for (None: the present, from the read model); the
    answer names it in X-Log-Position, which matters most for asOf."""
    if at_position is None and as_of is None:
        return None
    moment = None if as_of is None else parse_time(as_of, "asOf")
    position = resolve(container.app.recorder, at_position, moment)
    response.headers[POSITION_HEADER] = str(position)
    return position
