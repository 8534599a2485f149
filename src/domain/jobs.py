"""What long-running jobs share (training, auto-labeling): Azure's job states, and leases.

A worker holds a job for a while (its lease) and renews it as it goes; a job whose lease ran
out lost its worker and can be claimed by another.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from spanledger.domain.errors import Conflict

NOT_STARTED, RUNNING, SUCCEEDED, FAILED, CANCELLING, CANCELLED = (
    "notStarted", "running", "succeeded", "failed", "cancelling", "cancelled")
ENDED = {SUCCEEDED, FAILED, CANCELLED}
MAX_ATTEMPTS = 3  # a job that no worker finished this many times fails rather than loop


def claimable(status: str, lease_expires: str | None, now: datetime) -> bool:
    """Not started yet, or its worker's lease ran out (the worker died)."""
    if status == NOT_STARTED:
        return True
    return status in (RUNNING, CANCELLING) and lease_expires is not None and datetime.fromisoformat(lease_expires) <= now


class LeasedJob:
    """The life of a job aggregate that workers hold by lease: claim (or give up after
    MAX_ATTEMPTS), check who holds it, fail, cancel. Mixed into an Aggregate that has the
    events Claimed, Failed, CancelRequested and Cancelled and a `_trigger(event, actor, **kw)`."""

    KIND = "Job"  # for messages: "Training job", "Auto-labeling job"
    id: Any
    status: str
    attempt: int
    worker: str | None
    lease_expires: str | None
    cancel_requested: bool

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    def claimable(self, now: datetime) -> bool:
        return claimable(self.status, self.lease_expires, now)

    def claim(self, worker: str, now: datetime, lease: timedelta) -> bool:
        """Takes the job for a new attempt; after MAX_ATTEMPTS ends it as failed instead
        (answers whether it was taken)."""
        if not self.claimable(now):
            raise Conflict(f"{self.KIND} {self.id} is {self.status} and held by {self.worker}.", "jobId")
        if self.attempt >= MAX_ATTEMPTS:
            self._trigger(self.Failed, f"worker:{worker}",
                          reason=f"No worker finished the job in {MAX_ATTEMPTS} attempts.")
            return False
        self._trigger(self.Claimed, f"worker:{worker}", attempt=self.attempt + 1, worker=worker,
                      lease_expires=(now + lease).isoformat())
        return True

    def check_holder(self, attempt: int) -> None:
        if attempt != self.attempt or self.ended:
            raise Conflict(f"Attempt {attempt} no longer holds {self.KIND.lower()} {self.id}.", "jobId")

    def fail(self, attempt: int, reason: str) -> None:
        self.check_holder(attempt)
        self._trigger(self.Failed, f"worker:{self.worker}", reason=reason)

    def cancel(self, actor: str, now: datetime) -> None:
        """Cancels at once a job nobody runs (not started, or its worker's lease ran out);
        asks the worker running one to stop."""
        if self.ended:
            raise Conflict(f"{self.KIND} {self.id} has already ended ({self.status}).", "jobId")
        if self.claimable(now):
            self._trigger(self.Cancelled, actor)
        elif not self.cancel_requested:
            self._trigger(self.CancelRequested, actor)

    def acknowledge_cancel(self, attempt: int) -> None:
        self.check_holder(attempt)
        self._trigger(self.Cancelled, f"worker:{self.worker}")
