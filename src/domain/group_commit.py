"""Group commit: saves that arrive while another is being written are written together.

Much of a save's cost is per transaction (on PostgreSQL the round trips, the recorder's
table lock, the commit), not per event: sixteen documents' labels saved in one transaction
cost half as much each as in sixteen, on either backend (bench/group_saves.py). So
concurrent writers share transactions, as databases share log flushes: the first save to
find nobody writing writes its own events and those of every save queued by then; saves
arriving meanwhile wait, and the first of them to wake writes them all. A lone writer pays a
lock and nothing else.

Each save stays all or nothing. A batch is one transaction; when it is refused for a
conflict (one of its aggregates was written by someone else first), nothing of it was
written, and each save is written again on its own, so that only the conflicting one fails.
A large save (an import) is written on its own at once, beside any batch: sharing its
transaction would gain little and tie small writes to its fate (and its seconds).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import RecordConflictError

# Application.save: aggregates (or events) in, one recording per event out, in order.
Save = Callable[..., list[Any]]


class _Pending:
    """One caller's save: its aggregates, and their pending events (kept to write them again
    on their own should the batch be refused: saving collects them from the aggregates)."""

    __slots__ = ("aggregates", "done", "error", "events", "recordings")

    def __init__(self, aggregates: Sequence[Any]):
        self.aggregates = list(aggregates)
        self.events = [event for aggregate in aggregates for event in aggregate.pending_events]
        self.done = False
        self.recordings: list[Any] = []
        self.error: BaseException | None = None

    def result(self) -> list[Any]:
        if self.error is not None:
            raise self.error
        return self.recordings


class GroupCommit:
    def __init__(self, save: Save, alone_from_events: int = 1000):
        self._save = save
        self.alone_from_events = alone_from_events
        self._state = threading.Condition()
        self._queue: list[_Pending] = []
        self._writing = False
        # Told how many saves each transaction wrote (metrics, tests).
        self.on_batch: list[Callable[[int], None]] = []

    @property
    def waiting(self) -> int:
        """Saves queued behind the one being written."""
        with self._state:
            return len(self._queue)

    def save(self, aggregates: Sequence[Any]) -> list[Any]:
        """Writes the aggregates' pending events; answers their recordings, or raises what the
        store raised for them (RecordConflictError: someone else wrote one of the aggregates
        first)."""
        pending = _Pending(aggregates)
        if len(pending.events) >= self.alone_from_events:
            self._write([pending])
            return pending.result()
        with self._state:
            self._queue.append(pending)
            while self._writing and not pending.done:
                self._state.wait()
            if pending.done:  # written in another caller's batch
                return pending.result()
            self._writing = True
            batch, self._queue = self._queue, []
        try:
            self._write(batch)
        finally:
            with self._state:
                self._writing = False
                self._state.notify_all()
        return pending.result()

    def _write(self, batch: list[_Pending]) -> None:
        for listener in self.on_batch:
            listener(len(batch))
        try:
            if len(batch) == 1:
                self._write_alone(batch[0], collected=False)
            elif not self._write_together(batch):
                for pending in batch:
                    self._write_alone(pending, collected=True)
        except BaseException as error:  # the store failed otherwise: every save not written hears of it
            for pending in batch:
                if not pending.done:
                    pending.error, pending.done = error, True
            raise

    def _write_together(self, batch: list[_Pending]) -> bool:
        """One transaction for the batch; False if it was refused for a conflict (nothing of
        it written)."""
        try:
            # Aggregates only: the store takes their events in this order (and would check
            # events given to it one by one against a protocol, slowly).
            recordings = self._save(*[aggregate for pending in batch for aggregate in pending.aggregates])
        except RecordConflictError:
            return False
        at = 0
        for pending in batch:
            pending.recordings, at = recordings[at:at + len(pending.events)], at + len(pending.events)
            pending.done = True
        return True

    def _write_alone(self, pending: _Pending, *, collected: bool) -> None:
        """`collected`: a refused batch took the events from the aggregates; they are given again."""
        given = [*pending.events, *pending.aggregates] if collected else pending.aggregates
        try:
            pending.recordings = self._save(*given)
        except RecordConflictError as error:
            pending.error = error
        pending.done = True
