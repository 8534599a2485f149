"""Keeps the read model following the log while the server runs.

Correctness comes from reading by position (see runner.py); the wake-ups only make it
prompt: a save in this process pokes the follower, PostgreSQL's NOTIFY (sent by the
eventsourcing recorder on every insert) wakes it for writes of other processes, and SQLite,
which has no notifications, is polled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from spanledger.projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


class Follower:
    """Applies the log to the read model in a background thread.

    Under write load it coalesces: after a batch it rests `coalesce_seconds`, or as long as
    that batch took if longer, before the next one, so that writes landing meanwhile are
    applied together (one transaction, one pass of each projection) instead of one
    transaction per write, each competing with the requests for the same cores (and, in
    Python, for the same interpreter lock); it rests `max_rest_seconds` at most. It applies
    at once when it has rested that long already, when a read waits for a position (`demand`: read-your-writes costs no extra
    delay), or when `backlog_events` events wait.
    """

    def __init__(self, runner: ProjectionRunner, idle_seconds: float = 0.2,
                 listen: Callable[[Any, threading.Event], None] | None = None,
                 coalesce_seconds: float = 0.05, max_rest_seconds: float = 0.5, backlog_events: int | None = None):
        self.runner = runner
        self.idle_seconds = idle_seconds
        self.coalesce_seconds = coalesce_seconds
        self.max_rest_seconds = max_rest_seconds
        self.backlog_events = backlog_events or runner.batch_size
        self._listen = listen
        self._state = threading.Condition()
        self._written: int | None = None  # a write landed (the highest position known) since the last batch
        self._demanded = False  # a read waits for the read model
        self._rest_until = float("-inf")  # no batch before this (monotonic), but on demand
        # The listener thread's wake-ups (NOTIFY from other processes' writes) count as writes.
        self._wake = _Wake(self.poke)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Told when the read model moved on: the workers look for new jobs there at once.
        self.on_applied: list[Callable[[], None]] = []
        runner.on_demand.append(self.demand)

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._follow, name="projections", daemon=True)]
        if self._listen is not None:
            self._threads.append(threading.Thread(
                target=self._listen, args=(self._wake, self._stop), name="projections-listen", daemon=True))
        for thread in self._threads:
            thread.start()

    def poke(self, position: int | None = None) -> None:
        """A write landed (in this process, with its position, or elsewhere)."""
        with self._state:
            self._written = max(self._written or 0, position or 0)
            self._state.notify()

    def demand(self, _position: int | None = None) -> None:
        """A read waits for the read model: apply now."""
        with self._state:
            self._demanded = True
            self._state.notify()

    def stop(self) -> None:
        self._stop.set()
        with self._state:
            self._state.notify()
        for thread in self._threads:
            thread.join(timeout=5)

    def _due(self) -> bool:
        """Under `_state`: waits until a batch is due; False when stopping."""
        idle_until = time.monotonic() + self.idle_seconds
        while not self._stop.is_set():
            now = time.monotonic()
            if self._demanded:
                return True
            if self._written is not None:
                due = self._rest_until
                if now >= due or self._written - self.runner.position() >= self.backlog_events:
                    return True
                self._state.wait(due - now)
                continue
            if now >= idle_until:  # nothing said: look anyway (SQLite: other processes' writes)
                return True
            self._state.wait(idle_until - now)
        return False

    def _follow(self) -> None:
        failures = 0
        while True:
            with self._state:
                if not self._due():
                    return
                self._demanded, self._written = False, None
            applied = False
            started = time.monotonic()
            try:
                # A batch shorter than the batch size reached the head as it was read: no need
                # to read again to find nothing (what landed since is in `_written`).
                while not self._stop.is_set():
                    count = self.runner.run_batch()
                    applied = applied or count > 0
                    if count < self.runner.batch_size:
                        break
                failures = 0
            except Exception:
                failures += 1
                log.exception("projection batch failed (attempt %d); retrying", failures)
                self.poke()  # try again after the pause, even without news
                self._stop.wait(min(0.1 * 2**failures, 5.0))
                continue
            finally:
                ended = time.monotonic()
                self._rest_until = ended + max(self.coalesce_seconds, min(ended - started, self.max_rest_seconds))
            if applied:
                for listener in self.on_applied:
                    listener()


class _Wake:
    """What the LISTEN thread sets: an Event's `set`, turned into a poke."""

    def __init__(self, poke: Callable[[], None]):
        self._poke = poke

    def set(self) -> None:
        self._poke()


def postgres_listener(conninfo: str, channel: str) -> Callable[[Any, threading.Event], None]:
    """LISTENs on the channel the eventsourcing recorder NOTIFYs after each insert."""

    def listen(wake: Any, stop: threading.Event) -> None:
        import psycopg

        while not stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f'LISTEN "{channel}"')
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            wake.set()
            except Exception:
                log.exception("LISTEN connection failed; polling until it is back")
                stop.wait(2.0)

    return listen
