"""Group commit: saves that arrive while another is being written are written together.

On PostgreSQL most of a save's cost is per transaction (round trips, the recorder's table
lock, the commit), not per event: sixteen documents' labels saved in one transaction cost
about half as much each as sixteen transactions (bench/README.md, "Group commit"). So
concurrent writers share transactions, as databases share log flushes: the first save to
find nobody writing writes its own events and those of every save queued by then; saves
arriving meanwhile wait, and the first of them to wake writes them all. A lone writer pays a
lock and nothing else.

Each save stays all or nothing. A batch is one transaction; when it is refused for a
conflict (one of its aggregates was written by someone else first), nothing of it was
written, and each save is written again on its own, so that only the conflicting one fails.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import RecordConflictError

# Application.save: events and aggregates in, one recording per event out, in order.
Save = Callable[..., list[Any]]


class _Pending:
    """One caller's save: its events (already collected from its aggregates) and the
    aggregates themselves (for the store's snapshots)."""

    __slots__ = ("aggregates", "done", "error", "events", "recordings")

    def __init__(self, events: Sequence[Any], aggregates: Sequence[Any]):
        self.events, self.aggregates = list(events), list(aggregates)
        self.done = False
        self.recordings: list[Any] = []
        self.error: BaseException | None = None

    def result(self) -> list[Any]:
        if self.error is not None:
            raise self.error
        return self.recordings


class GroupCommit:
    def __init__(self, save: Save):
        self._save = save
        self._state = threading.Condition()
        self._queue: list[_Pending] = []
        self._writing = False
        # How many transactions wrote how many saves, for tests and benchmarks.
        self.batch_sizes: dict[int, int] = {}

    @property
    def waiting(self) -> int:
        """Saves queued behind the one being written."""
        with self._state:
            return len(self._queue)

    def save(self, events: Sequence[Any], aggregates: Sequence[Any]) -> list[Any]:
        """Writes the events (collected from the aggregates); answers their recordings, or
        raises what the store raised for them (RecordConflictError: someone else wrote one of
        the aggregates first)."""
        pending = _Pending(events, aggregates)
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
        self.batch_sizes[len(batch)] = self.batch_sizes.get(len(batch), 0) + 1
        try:
            if len(batch) > 1:
                try:
                    recordings = self._save(*[e for p in batch for e in p.events],
                                            *[a for p in batch for a in p.aggregates])
                except RecordConflictError:
                    pass  # nothing of the batch was written: each on its own, below
                else:
                    at = 0
                    for p in batch:
                        p.recordings, at = recordings[at:at + len(p.events)], at + len(p.events)
                        p.done = True
                    return
            for p in batch:
                try:
                    p.recordings = self._save(*p.events, *p.aggregates)
                except RecordConflictError as error:
                    p.error = error
                p.done = True
        except BaseException as error:  # the store failed otherwise: every save not written hears of it
            for p in batch:
                if not p.done:
                    p.error, p.done = error, True
            raise
