"""Group commit: saves that arrive while another is being written are written together.

Much of a save's cost is per transaction (on PostgreSQL the round trips, the recorder's
table lock, the commit), not per event: sixteen documents' labels saved in one transaction
cost half as much each as in sixteen, on either backend (bench/group_saves.py). So
concurrent writers share transactions, as databases share log flushes: a save that finds
nobody writing writes itself; saves arriving meanwhile queue, and the oldest of them then
writes the queue (up to `max_events` events) in one transaction, and so on. A lone writer
pays a lock and nothing else.

Each save stays all or nothing, and each caller hears only of its own: a batch is one
transaction; when the store refuses it for a conflict (one of its aggregates was written by
someone else first), nothing of it was written, and each save is written again on its own,
so that only the conflicting one fails. A large save (an import) is written on its own at
once, beside any batch: sharing its transaction would gain little and tie small writes to its
fate (and its seconds).
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

    __slots__ = ("aggregates", "done", "error", "events", "leads", "recordings")

    def __init__(self, aggregates: Sequence[Any]):
        # Each aggregate once: the store collects an aggregate's events the first time it
        # meets it, and the recordings are handed back by counting them.
        self.aggregates = list({id(aggregate): aggregate for aggregate in aggregates}.values())
        self.events = [event for aggregate in self.aggregates for event in aggregate.pending_events]
        self.done = False
        self.leads = False  # its caller writes the next batch
        self.recordings: list[Any] = []
        self.error: BaseException | None = None

    def result(self) -> list[Any]:
        if self.error is not None:
            raise self.error
        return self.recordings


class GroupCommit:
    def __init__(self, save: Save, max_events: int = 1000):
        self._save = save
        self.max_events = max_events  # a batch's; a save this large is written on its own at once
        self._state = threading.Condition()
        self._queue: list[_Pending] = []
        self._writing = False  # a batch is being written, or its writer hands over to the queue's oldest
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
        if len(pending.events) >= self.max_events:
            self._write([pending])
            return pending.result()
        with self._state:
            self._queue.append(pending)
            while self._writing and not (pending.done or pending.leads):
                self._state.wait()
            if pending.done:  # written in another caller's batch
                return pending.result()
            # Nobody was writing (the queue held only this save), or the last writer handed
            # over to this one, the queue's oldest: either way the batch taken starts with it.
            self._writing = True
            batch = self._take()
        try:
            self._write(batch)
        finally:
            with self._state:
                if self._queue:
                    self._queue[0].leads = True
                else:
                    self._writing = False
                self._state.notify_all()
        return pending.result()

    def _take(self) -> list[_Pending]:
        """Under `_state`: the oldest queued saves, up to `max_events` events (one at least)."""
        batch, events = [], 0
        while self._queue and (not batch or events + len(self._queue[0].events) <= self.max_events):
            events += len(self._queue[0].events)
            batch.append(self._queue.pop(0))
        return batch

    def _write(self, batch: list[_Pending]) -> None:
        """Every save of the batch ends written or with its own error; nothing is raised."""
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
            if not isinstance(error, Exception):  # an interrupt: the waiting callers are told, then it goes on
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
        self._written(len(batch))
        return True

    def _write_alone(self, pending: _Pending, *, collected: bool) -> None:
        """`collected`: a refused batch took the events from the aggregates; they are given again."""
        given = [*pending.events, *pending.aggregates] if collected else pending.aggregates
        try:
            pending.recordings = self._save(*given)
        except Exception as error:
            pending.error = error
        else:
            self._written(1)
        pending.done = True

    def _written(self, saves: int) -> None:
        for listener in self.on_batch:
            listener(saves)
