"""The log's PostgreSQL recorder, with a save's statements sent one at a time.

eventsourcing 9.5 sends a save's LOCK TABLE, NOTIFY and INSERT ... FROM unnest(events) in
one psycopg pipeline. A large save (a project import: 10,000 documents make 110,000 events)
hung there in about half the attempts from ~30,000 events on: the server waited for the rest
of the INSERT (wait event ClientRead) and the client never sent it, as in psycopg issue #685.
One statement at a time, in one transaction, the same save of 30,000 events takes ~2 s; the
table lock still makes the order of notification ids the order of commits, which the
projections rely on (eventsourcing's db-functions mode, which also avoids the pipeline, takes
no such lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry


class UnpipelinedApplicationRecorder(PostgresApplicationRecorder):
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return None
            self._insert_stored_events(curs, stored_events, **kwargs)  # lock, notify, insert
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
