"""What the job workers share: a thread that claims the next job from the read model and
runs it, woken when the read model moves (see Follower.on_applied) or at the next poll."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any
from uuid import uuid4

log = logging.getLogger(__name__)

ENDED = frozenset({"succeeded", "failed", "cancelled", "partiallyCompleted"})


def worker_name() -> str:
    """host:pid:random, short enough for the read model's worker column."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid4().hex[:6]}"


class JobWorker(ABC):
    kind = "job"

    def __init__(self, poll_seconds: float):
        self.poll_seconds = poll_seconds
        self.name = worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()  # new jobs may be in the read model
        self._thread: threading.Thread | None = None
        # Told (kind, status, seconds) when an attempt of this worker's ended its job (metrics).
        self.on_ended: list[Callable[[str, str, float], None]] = []

    @abstractmethod
    def claim_next(self) -> Any: ...

    @abstractmethod
    def run(self, job: Any) -> None: ...

    @abstractmethod
    def status_of(self, job: Any) -> str | None:
        """The job's status as recorded now (after `run`)."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"{self.kind}-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60) -> None:
        """Stops soon; a job in progress is left to its lease (another worker, or the next
        start, takes it up)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def wake(self) -> None:
        """The read model moved on: look for work now rather than at the next poll."""
        self._wake.set()

    def _report_end(self, job: Any, seconds: float) -> None:
        """Reports an attempt that ended its job; one left to its lease (lost, or the worker
        stopping) is not an end."""
        if not self.on_ended:
            return
        status = self.status_of(job)
        if status in ENDED:
            for listener in self.on_ended:
                listener(self.kind, status, seconds)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                job = self.claim_next()
                if job is not None:
                    started = time.monotonic()
                    self.run(job)
                    self._report_end(job, time.monotonic() - started)
                    continue
            except Exception:
                log.exception("%s worker step failed", self.kind)
            self._wake.wait(self.poll_seconds)
