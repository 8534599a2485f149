"""The QuotaLedger aggregate: one per resource and calendar month (UTC), the one place where
auto-labeling's text records are reserved, charged and refunded.

Reserving is a decision of this one aggregate, saved with optimistic concurrency: of two
starts that read the same ledger, one saves and the other retries on the new state, so the
quota holds exactly however many jobs start at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from spanledger.domain.aggregate import snapshot_class
from spanledger.domain.errors import QuotaExceeded


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


class QuotaLedger(Aggregate):
    TOPIC = "QuotaLedger"

    class Event(Aggregate.Event):
        actor: str
        resource_id: str  # every event names its ledger's resource and month: the log reads on its own
        month: str

    class Created(Event, Aggregate.Created):
        TOPIC = "QuotaLedgerOpened"

        def apply(self, ledger: QuotaLedger) -> None:
            ledger.resource_id, ledger.month = self.resource_id, self.month
            ledger.reserved = ledger.charged = ledger.refunded = 0
            ledger.jobs = {}

    class Reserved(Event):
        TOPIC = "QuotaReserved"
        job_id: str
        project_id: str
        text_records: int
        limit: int  # the resource's monthly limit the reservation was checked against

        def apply(self, ledger: QuotaLedger) -> None:
            ledger.reserved += self.text_records
            ledger.jobs[self.job_id] = {"project_id": self.project_id, "reserved": self.text_records,
                                        "settled": False}

    class Settled(Event):
        """A job's end: what it processed is charged, the rest of its reservation refunded."""

        TOPIC = "QuotaSettled"
        job_id: str
        project_id: str
        charged: int
        refunded: int

        def apply(self, ledger: QuotaLedger) -> None:
            ledger.charged += self.charged
            ledger.refunded += self.refunded
            ledger.jobs[self.job_id]["settled"] = True

    Snapshot = snapshot_class("QuotaLedgerSnapshot")

    def __init__(self) -> None:
        self.resource_id: str
        self.month: str
        self.reserved: int
        self.charged: int
        self.refunded: int
        self.jobs: dict[str, dict[str, Any]]

    @classmethod
    def open(cls, ledger_id: UUID, resource_id: UUID, month: str, actor: str) -> QuotaLedger:
        return cls._create(cls.Created, id=ledger_id, resource_id=str(resource_id), month=month, actor=actor)

    def _trigger(self, event_class: type[QuotaLedger.Event], **kwargs: Any) -> None:
        self.trigger_event(event_class, resource_id=self.resource_id, month=self.month, **kwargs)

    @property
    def used(self) -> int:
        """Charged, plus reserved by jobs not yet settled."""
        return self.reserved - self.refunded

    def remaining(self, limit: int) -> int:
        return max(limit - self.used, 0)

    def reserve(self, job_id: str, project_id: str, text_records: int, limit: int, actor: str) -> None:
        if job_id in self.jobs:
            return
        if text_records > self.remaining(limit):
            raise QuotaExceeded(
                f"The job needs {text_records} text records; {self.remaining(limit)} of this month's "
                f"{limit} remain ({self.month}, UTC).", "documents",
                details=[{"code": "QuotaExceeded", "message": "Text records needed and remaining.",
                          "needed": text_records, "remaining": self.remaining(limit), "limit": limit,
                          "month": self.month}],
            )
        self._trigger(self.Reserved, actor=actor, job_id=job_id, project_id=project_id,
                           text_records=text_records, limit=limit)

    def settle(self, job_id: str, charged: int, actor: str) -> None:
        """Charges `charged` of the job's reservation and refunds the rest (once per job)."""
        job = self.jobs[job_id]
        if job["settled"]:
            return
        charged = min(charged, job["reserved"])
        self._trigger(self.Settled, actor=actor, job_id=job_id, project_id=job["project_id"],
                           charged=charged, refunded=job["reserved"] - charged)
