"""What the job workers share: a thread that claims the next job from the read model and
runs it, woken when the read model moves (see Follower.on_applied) or at the next poll."""

from __future__ import annotations

import logging
import os
import socket
import threading
from abc import ABC, abstractmethod
from typing import Any
from uuid import uuid4

log = logging.getLogger(__name__)


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

    @abstractmethod
    def claim_next(self) -> Any: ...

    @abstractmethod
    def run(self, job: Any) -> None: ...

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

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                job = self.claim_next()
                if job is not None:
                    self.run(job)
                    continue
            except Exception:
                log.exception("%s worker step failed", self.kind)
            self._wake.wait(self.poll_seconds)
