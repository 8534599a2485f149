"""Keeps the read model following the log while the server runs.

Correctness comes from reading by position (see runner.py); the wake-ups only make it
prompt: a save in this process pokes the follower, PostgreSQL's NOTIFY (sent by the
eventsourcing recorder on every insert) wakes it for writes of other processes, and SQLite,
which has no notifications, is polled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from spanledger.projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


class Follower:
    def __init__(self, runner: ProjectionRunner, idle_seconds: float = 0.2,
                 listen: Callable[[threading.Event, threading.Event], None] | None = None):
        self.runner = runner
        self.idle_seconds = idle_seconds
        self._listen = listen
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Told when the read model moved on: the workers look for new jobs there at once.
        self.on_applied: list[Callable[[], None]] = []

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._follow, name="projections", daemon=True)]
        if self._listen is not None:
            self._threads.append(threading.Thread(
                target=self._listen, args=(self._wake, self._stop), name="projections-listen", daemon=True))
        for thread in self._threads:
            thread.start()

    def poke(self, _position: int | None = None) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _follow(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()
            applied = False
            try:
                while self.runner.run_batch() and not self._stop.is_set():
                    applied = True
                failures = 0
            except Exception:
                failures += 1
                log.exception("projection batch failed (attempt %d); retrying", failures)
                self._stop.wait(min(0.1 * 2**failures, 5.0))
                continue
            if applied:
                for listener in self.on_applied:
                    listener()
            self._wake.wait(self.idle_seconds)


def postgres_listener(conninfo: str, channel: str) -> Callable[[threading.Event, threading.Event], None]:
    """LISTENs on the channel the eventsourcing recorder NOTIFYs after each insert."""

    def listen(wake: threading.Event, stop: threading.Event) -> None:
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
