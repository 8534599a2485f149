"""What long-running jobs share (training, auto-labeling): Azure's job states, and leases.

A worker holds a job for a while (its lease) and renews it as it goes; a job whose lease ran
out lost its worker and can be claimed by another.
"""

from __future__ import annotations

from datetime import datetime

NOT_STARTED, RUNNING, SUCCEEDED, FAILED, CANCELLING, CANCELLED = (
    "notStarted", "running", "succeeded", "failed", "cancelling", "cancelled")
ENDED = {SUCCEEDED, FAILED, CANCELLED}
MAX_ATTEMPTS = 3  # a job that no worker finished this many times fails rather than loop


def claimable(status: str, lease_expires: str | None, now: datetime) -> bool:
    """Not started yet, or its worker's lease ran out (the worker died)."""
    if status == NOT_STARTED:
        return True
    return status in (RUNNING, CANCELLING) and lease_expires is not None and datetime.fromisoformat(lease_expires) <= now
