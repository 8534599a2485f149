"""Keeps a job's lease alive from a thread of its own, so a long step of the job (a training
epoch, a large batch) never lets the lease run out while the worker is still at it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from spanledger.domain.errors import Conflict

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Calls `renew(progress)` every `every` seconds until stopped, with the progress the job
    last set. `renew` answers whether the job's user asked to cancel it; a Conflict from it
    means the lease is lost (another worker took the job over), and renewing stops."""

    def __init__(self, renew: Callable[[int], bool], every: float):
        self._renew, self._every = renew, every
        self.progress = 0
        self.lost = threading.Event()
        self.cancel_requested = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def renew_now(self) -> None:
        try:
            if self._renew(self.progress):
                self.cancel_requested.set()
        except Conflict:
            self.lost.set()
        except Exception:  # a passing database error: the next renewal may well succeed
            log.exception("renewing a job's lease failed")

    def _loop(self) -> None:
        while not self._stop.wait(self._every) and not self.lost.is_set():
            self.renew_now()
