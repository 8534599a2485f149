"""Where a log position or a moment falls: in the log, and in one aggregate's history.

The recorders answer "the events of aggregate X" and "the notifications from position P",
not "X's last version at or before P"; that question is one indexed query on the events
table (its primary key is (originator_id, originator_version), and the position is SQLite's
rowid or PostgreSQL's notification_id), asked here of the recorder's own connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier


def head(recorder: ApplicationRecorder) -> int:
    """The log's last position (0 when it is empty)."""
    return recorder.max_notification_id() or 0


def version_at(recorder: ApplicationRecorder, aggregate_id: UUID, position: int) -> int | None:
    """The aggregate's version after the log's events up to `position`; None if it had no
    event yet."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        statement = (f"SELECT originator_version FROM {recorder.events_table_name} "  # noqa: S608 (a table name)
                     "WHERE originator_id = ? AND rowid <= ? ORDER BY originator_version DESC LIMIT 1")
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (aggregate_id.hex, position))
            row = cursor.fetchone()
        return None if row is None else row[0]
    if isinstance(recorder, PostgresApplicationRecorder):
        statement = _BINARY_SEARCH.format(schema=Identifier(recorder.datastore.schema),
                                          table=Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(statement, {"id": aggregate_id, "position": position})
            row = cursor.fetchone()
        return row["lo"] or None
    raise TypeError(f"No position lookup for {type(recorder).__name__}.")


# PostgreSQL's primary-key index holds no notification_id, so scanning an aggregate's versions
# back from the newest fetched a table row for each (3 ms from 10,000 versions back). Versions
# run 1..n without gaps and, the log's writers being serialised by a table lock, in the order
# of their positions: a binary search over versions, one index lookup a step, in one statement.
_BINARY_SEARCH = SQL("""
WITH RECURSIVE search(lo, hi) AS (
    SELECT 0::bigint, (SELECT max(originator_version) FROM {schema}.{table} WHERE originator_id = %(id)s)
  UNION ALL
    SELECT CASE WHEN e.notification_id <= %(position)s THEN (s.lo + s.hi + 1) / 2 ELSE s.lo END,
           CASE WHEN e.notification_id <= %(position)s THEN s.hi ELSE (s.lo + s.hi + 1) / 2 - 1 END
    FROM search s JOIN {schema}.{table} e
      ON e.originator_id = %(id)s AND e.originator_version = (s.lo + s.hi + 1) / 2
    WHERE s.lo < s.hi
)
SELECT lo FROM search WHERE lo >= coalesce(hi, 0)
""")


def _timestamp(notification: Any) -> datetime:
    # Payloads are JSON-native (domain.transcoding): the timestamp is an RFC 3339 string.
    return datetime.fromisoformat(orjson.loads(notification.state)["timestamp"])


def position_at(recorder: ApplicationRecorder, moment: datetime) -> int:
    """The last log position whose event was recorded at or before `moment` (0 if none was).

    A binary search over positions, reading one event per step. Positions follow commit
    order and timestamps are taken when a command decided, so two writes committed within
    milliseconds of each other may straddle `moment` in either order; one aggregate's events
    never do (it is saved with optimistic concurrency).
    """
    low, high = 0, head(recorder)  # the answer lies in [low, high]; `low` is known to qualify
    while low < high:
        middle = (low + high + 1) // 2
        found = recorder.select_notifications(middle, 1, stop=high)
        if not found:  # a gap (PostgreSQL skips ids of rolled-back inserts) up to `high`
            high = middle - 1
        elif _timestamp(found[0]) <= moment:
            low = found[0].id
        else:
            high = middle - 1
    return low


def notifications(recorder: ApplicationRecorder, up_to: int, topics: list[str], after: int = 0,
                  batch: int = 5000) -> Iterator[Any]:
    """The log's notifications of these topics after `after` up to `up_to`, in order, read in batches."""
    while True:
        found = recorder.select_notifications(after, batch, stop=up_to, topics=topics, inclusive_of_start=False)
        yield from found
        if len(found) < batch:
            return
        after = found[-1].id
