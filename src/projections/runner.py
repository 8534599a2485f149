"""Applies the event log to the read-model tables, in batches.

Each projection's position is stored in the same transaction as the rows it produced, so no
event is applied twice or skipped, and a crashed runner resumes exactly where it stopped.
A batch first claims its positions with a compare-and-set update, which also makes two
runners on one read model safe: the slower one's batch is rolled back and retried. On
PostgreSQL, where every server and worker runs one, runners take turns besides (`_turn`), so
that none reads a batch another is applying.

Batching is the point: the stock eventsourcing runner commits once per event, about 100
times slower than reading the log (see bench/projection_catchup.py).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Connection, Dialect, Engine, Index, Table, bindparam, func, insert, inspect, select, update
from sqlalchemy.schema import CreateIndex, CreateTable

from spanledger.projections.tables import metadata, positions, schemas

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """One notification of the log, decoded: payloads are JSON-native, so no mapper is needed."""

    position: int
    topic: str
    aggregate_id: str
    version: int
    data: dict[str, Any]
    state: bytes  # the stored JSON, as recorded


class Projection(Protocol):
    name: str
    tables: Sequence[Table]

    def apply(self, conn: Connection, events: Sequence[Event]) -> None: ...


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def seconds_left(self) -> float:
        return (self.total - self.done) / self.rate if self.rate > 0 else 0.0


# The PostgreSQL advisory lock runners take turns with (see ProjectionRunner._turn).
APPLY_TURN_LOCK = 0x5370616E_0001  # "Span", 1

# From how many events on, filling empty views is done as a bulk load (see catch_up).
BULK_LOAD_EVENTS = 20_000

# A batch's statements, built once (building one cost more than running it).
_POSITIONS = select(positions.c.name, positions.c.position).where(
    positions.c.name.in_(bindparam("names", expanding=True)))
_CLAIM = (update(positions).where(positions.c.name == bindparam("projection"), positions.c.position == bindparam("old"))
          .values(position=bindparam("new")))
_TAKE_TURN = select(func.pg_advisory_xact_lock(APPLY_TURN_LOCK))


def schema_fingerprint(dialect: Dialect, tables: Sequence[Table]) -> str:
    """A digest of the tables' DDL (columns, types, constraints, indexes) as this database
    would create them."""
    ddl = []
    for table in sorted(tables, key=lambda t: t.name):
        ddl.append(str(CreateTable(table).compile(dialect=dialect)))
        ddl.extend(sorted(str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes))
    return hashlib.sha256("\n".join(ddl).encode()).hexdigest()


class PositionMoved(Exception):
    """Another runner applied this batch first."""


def decode(notifications: Sequence[Any]) -> list[Event]:
    return [
        Event(n.id, n.topic, str(n.originator_id), n.originator_version, orjson.loads(n.state), n.state)
        for n in notifications
    ]


class ProjectionRunner:
    def __init__(
        self,
        recorder: ApplicationRecorder,
        engine: Engine,
        projections: Sequence[Projection],
        batch_size: int = 2000,
    ):
        self.recorder = recorder
        self.engine = engine
        self.projections = list(projections)
        self.batch_size = batch_size
        self.bulk_load_events = BULK_LOAD_EVENTS
        # The last position to apply (None: the log's head): a replay up to a point (verify.py).
        self.until: int | None = None
        # The positions as this process last saw them. Only the applying thread and the
        # schema methods write it; readers wait on `_advanced` and poll the table.
        self._positions: dict[str, int] = {}
        self._advanced = threading.Condition()
        # Callbacks waiting for a position (reads on the event loop), woken together by the
        # batch that reaches it; and who to tell that a read is waiting (the follower, which
        # then applies at once instead of letting writes gather).
        self._waiters: dict[int, tuple[int, Callable[[], None]]] = {}
        self._next_waiter = 0
        self.on_demand: list[Callable[[int], None]] = []

    # -- schema ---------------------------------------------------------------------------

    def create_tables(self) -> list[str]:
        """Creates what is missing; a projection whose tables changed shape since they were
        built (a new column, say) is dropped with its position, so that catching up rebuilds
        it from the log: the read model is disposable, the log is the truth. Answers the
        names of the projections dropped so."""
        with self.engine.begin() as conn:
            metadata.create_all(conn, tables=[positions, schemas])
            stale = [p for p in self.projections if self._changed(conn, p)]
            for projection in stale:
                log.warning("projection %s: its tables changed shape; rebuilding it from the log", projection.name)
                metadata.drop_all(conn, tables=list(projection.tables))
                conn.execute(positions.delete().where(positions.c.name == projection.name))
            metadata.create_all(conn, tables=self._tables())
            self._create_indexes(conn)  # in case a bulk load was cut short (see catch_up)
            self._insert_missing_positions(conn)
            self._store_fingerprints(conn)
        self._refresh()
        return [p.name for p in stale]

    def _changed(self, conn: Connection, projection: Projection) -> bool:
        stored = conn.scalar(select(schemas.c.fingerprint).where(schemas.c.name == projection.name))
        if stored is not None:
            return stored != schema_fingerprint(conn.dialect, projection.tables)
        # Built before fingerprints were kept: changed if a table lacks a column or has one too many.
        inspector = inspect(conn)
        return any(
            inspector.has_table(table.name)
            and {c["name"] for c in inspector.get_columns(table.name)} != {c.name for c in table.columns}
            for table in projection.tables
        )

    def _store_fingerprints(self, conn: Connection) -> None:
        conn.execute(schemas.delete().where(schemas.c.name.in_(self._names())))
        conn.execute(insert(schemas), [
            {"name": p.name, "fingerprint": schema_fingerprint(conn.dialect, p.tables)} for p in self.projections])

    def _indexes(self) -> list[Index]:
        """Secondary indexes: not needed to apply events, only to query the views."""
        return [index for table in self._tables() for index in table.indexes if not index.unique]

    def _create_indexes(self, conn: Connection) -> None:
        for index in self._indexes():
            index.create(conn, checkfirst=True)

    def drop(self) -> None:
        """Drops every view and its position together (one transaction), then re-creates them empty."""
        with self.engine.begin() as conn:
            metadata.drop_all(conn, tables=self._tables())
            conn.execute(positions.delete().where(positions.c.name.in_(self._names())))
            metadata.create_all(conn, tables=self._tables())
            self._insert_missing_positions(conn)
            self._store_fingerprints(conn)
        self._refresh()

    def _tables(self) -> list[Table]:
        return [table for projection in self.projections for table in projection.tables]

    def _names(self) -> list[str]:
        return [projection.name for projection in self.projections]

    def _insert_missing_positions(self, conn: Connection) -> None:
        existing = set(conn.scalars(select(positions.c.name)))
        missing = [{"name": name, "position": 0} for name in self._names() if name not in existing]
        if missing:
            conn.execute(insert(positions), missing)

    # -- positions ------------------------------------------------------------------------

    def positions(self) -> dict[str, int]:
        """Each projection's position, as stored."""
        with self.engine.connect() as conn:
            return dict(conn.execute(_POSITIONS, {"names": self._names()}).all())

    def _refresh(self) -> dict[str, int]:
        current = self.positions()
        self._advance(current, replace=True)
        return current

    def _advance(self, new_positions: dict[str, int], *, replace: bool = False) -> None:
        """Committed positions, published to this process: waiting reads may go on."""
        with self._advanced:
            if replace:
                self._positions = new_positions
            else:
                self._positions.update(new_positions)
            self._advanced.notify_all()
            self._wake_waiters()

    def stored_position(self) -> int:
        """The log position every projection has reached, as stored (runners of every process)."""
        return min(self._refresh().get(name, 0) for name in self._names())

    def position(self) -> int:
        """The log position every projection has reached, as this process last saw it
        (no database read: fit for the event loop)."""
        current = self._positions
        return min(current.get(name, 0) for name in self._names())

    def wait_for(self, position: int, timeout: float) -> bool:
        """Waits until every projection has reached `position`; False if the timeout passed first.

        Wakes at once when this process applies a batch, and polls the positions table
        meanwhile for runners in other processes.
        """
        if self.position() >= position:
            return True
        self.demand(position)
        deadline = time.monotonic() + timeout
        pause = 0.002
        while True:
            stored = self.positions()  # runners in other processes
            if min(stored.get(name, 0) for name in self._names()) >= position:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._advanced:
                self._advanced.wait(min(pause, remaining))
            pause = min(pause * 2, 0.05)

    def demand(self, position: int) -> None:
        """A read waits for `position`: the follower should apply now rather than gather more."""
        for listener in self.on_demand:
            listener(position)

    def when_reached(self, position: int, callback: Callable[[], None]) -> int | None:
        """Calls `callback` (from the applying thread; keep it short) once every projection
        has reached `position`; answers a handle for `forget`, or None if it has already."""
        with self._advanced:
            if self.position() >= position:
                return None
            self._next_waiter += 1
            self._waiters[self._next_waiter] = (position, callback)
            return self._next_waiter

    def forget(self, handle: int | None) -> None:
        if handle is not None:
            with self._advanced:
                self._waiters.pop(handle, None)

    def _wake_waiters(self) -> None:
        """Under `_advanced`: every waiter whose position is reached, at once."""
        if not self._waiters:
            return
        reached = self.position()
        for handle, (position, callback) in list(self._waiters.items()):
            if position <= reached:
                del self._waiters[handle]
                try:
                    callback()
                except Exception:
                    log.exception("a read-model waiter failed")

    # -- applying -------------------------------------------------------------------------

    def read(self, after: int) -> list[Event]:
        return decode(self.recorder.select_notifications(start=after, limit=self.batch_size, stop=self.until,
                                                         inclusive_of_start=False))

    def run_batch(self) -> int:
        """Applies the next batch of events; answers how many notifications it read."""
        while True:
            try:
                with self.engine.begin() as conn:
                    current = self._turn(conn)
                    events = self.read(min(current[name] for name in self._names()))
                    if not events:
                        return 0
                    new_positions = self._apply(conn, events, current)
            except PositionMoved:
                self._refresh()  # another runner got there first: go on from its positions
                continue
            self._advance(new_positions)
            return len(events)

    def _turn(self, conn: Connection) -> dict[str, int]:
        """The positions to go on from, once it is this runner's turn.

        On PostgreSQL the runners of every process (servers, workers) take turns: each waits
        for a transaction-level advisory lock, held until it commits, and then reads the
        positions as stored. Without turns, every runner read and decoded each batch and all
        but one threw that work away at the compare-and-set in `_apply`. SQLite's read model
        belongs to one process; there the compare-and-set alone guards a second runner.
        """
        if conn.dialect.name != "postgresql":
            return self._positions or self._refresh()
        conn.execute(_TAKE_TURN)
        current = dict(conn.execute(_POSITIONS, {"names": self._names()}).all())
        self._advance(current, replace=True)  # what others committed: reads waiting for it may go on
        return current

    def _apply(self, conn: Connection, events: list[Event], current: dict[str, int]) -> dict[str, int]:
        """Applies `events` in the caller's transaction; answers the positions it reached."""
        last = events[-1].position
        new_positions = {}
        for projection in self.projections:
            old = current[projection.name]
            if old >= last:
                continue
            claimed = conn.execute(_CLAIM, {"projection": projection.name, "old": old, "new": last}).rowcount
            if claimed != 1:
                raise PositionMoved(projection.name)
            unseen = events if events[0].position > old else [e for e in events if e.position > old]
            projection.apply(conn, unseen)
            new_positions[projection.name] = last
        return new_positions

    def catch_up(self, progress: Callable[[Progress], None] | None = None) -> int:
        """Applies events until the log's current head; answers how many it applied.

        Filling empty views from a long log (a rebuild, a first start) is a bulk load: the
        secondary indexes are dropped first and built once at the end, which is much cheaper
        than updating them row by row. Unique constraints stay, so nothing goes unchecked.
        """
        head = self.until if self.until is not None else self.recorder.max_notification_id() or 0
        first = self.position()
        bulk = first == 0 and head >= self.bulk_load_events
        if bulk:
            with self.engine.begin() as conn:
                for index in self._indexes():
                    index.drop(conn, checkfirst=True)
        started = time.perf_counter()
        try:
            while self.position() < head and self.run_batch():
                if progress:
                    done = min(self.position(), head) - first
                    progress(Progress(done, head - first, time.perf_counter() - started))
        finally:
            if bulk:
                with self.engine.begin() as conn:
                    self._create_indexes(conn)
        return self.position() - first
