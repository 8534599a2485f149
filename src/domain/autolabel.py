"""The AutoLabelJob aggregate: a trained model suggesting labels on a project's documents,
paid for from the resource's monthly text-record quota.

The job records exactly which documents it covers and what each costs. A worker claims it
with a lease and works through the documents in order; each batch's suggestions (events of
the documents) and the job's progress are saved in one transaction, so a worker that dies
leaves a job that the next one resumes at the first document not done, with nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from spanledger.domain.aggregate import snapshot_class
from spanledger.domain.errors import InvalidArgument
from spanledger.domain.jobs import (
    CANCELLED,
    CANCELLING,
    FAILED,
    NOT_STARTED,
    RUNNING,
    SUCCEEDED,
    LeasedJob,
)


def check_min_confidence(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidArgument("minConfidence must be a number from 0 to 1.", "minConfidence")
    return float(value)


def choose_entities(model_label: str, known: list[str], project: dict[str, str],
                    asked: list[str] | None) -> list[str]:
    """The entities a job suggests: those asked for (each known to the model and in the
    project), or by default all the model knows that the project still has."""
    if asked is None:
        chosen = sorted(set(known) & set(project))
        if not chosen:
            raise InvalidArgument(f"The project no longer has any entity model {model_label!r} knows.", "entities")
        return chosen
    if not asked:
        raise InvalidArgument("Give at least one entity, or leave entities out for all the model knows.", "entities")
    for i, name in enumerate(asked):
        if name not in known:
            raise InvalidArgument(f"Model {model_label!r} does not know entity {name!r}; it knows "
                                  f"{', '.join(sorted(known))}.", f"entities[{i}]")
        if name not in project:
            raise InvalidArgument(f"The project has no entity {name!r}.", f"entities[{i}]")
        if name in asked[:i]:
            raise InvalidArgument(f"Entity {name!r} appears twice.", f"entities[{i}]")
    return sorted(asked)


class AutoLabelJob(LeasedJob, Aggregate):
    TOPIC = "AutoLabelJob"
    KIND = "Auto-labeling job"

    class Event(Aggregate.Event):
        actor: str
        project_id: str

    class Created(Event, Aggregate.Created):
        TOPIC = "AutoLabelJobStarted"
        resource_id: str
        incarnation: int
        model_label: str
        model_job_id: str  # the training that made the model: the model as it was at the start
        artifact: str
        entities: list[str]
        documents: list[list[Any]]  # [name, text records], in the order they are worked through
        text_records: int
        month: str  # of the quota ledger that holds the reservation
        min_confidence: float
        idempotency_key: str | None
        # A digest of the request that started it: a retry with the same key must match it.
        request_digest: str | None = None

        def apply(self, job: AutoLabelJob) -> None:
            job.request_digest = getattr(self, "request_digest", None)  # absent from older events
            for field in ("project_id", "resource_id", "incarnation", "model_label", "model_job_id", "artifact",
                          "idempotency_key",
                          "entities", "documents", "text_records", "month", "min_confidence"):
                setattr(job, field, getattr(self, field))
            job.status, job.attempt, job.worker, job.lease_expires = NOT_STARTED, 0, None, None
            job.documents_done = job.suggestions = job.records_processed = 0
            job.cancel_requested, job.reason = False, None

    class Claimed(Event):
        TOPIC = "AutoLabelJobClaimed"
        attempt: int
        worker: str
        lease_expires: str

        def apply(self, job: AutoLabelJob) -> None:
            job.status = CANCELLING if job.cancel_requested else RUNNING
            job.attempt, job.worker, job.lease_expires = self.attempt, self.worker, self.lease_expires

    class Progressed(Event):
        """A batch of documents done (its suggestions are saved with this), lease renewed."""

        TOPIC = "AutoLabelJobProgressed"
        attempt: int
        documents_done: int
        suggestions: int
        records_processed: int
        lease_expires: str

        def apply(self, job: AutoLabelJob) -> None:
            job.documents_done, job.suggestions = self.documents_done, self.suggestions
            job.records_processed, job.lease_expires = self.records_processed, self.lease_expires

    class CancelRequested(Event):
        TOPIC = "AutoLabelJobCancelRequested"

        def apply(self, job: AutoLabelJob) -> None:
            job.cancel_requested, job.status = True, CANCELLING

    class Cancelled(Event):
        TOPIC = "AutoLabelJobCancelled"

        def apply(self, job: AutoLabelJob) -> None:
            job.status = CANCELLED

    class Failed(Event):
        TOPIC = "AutoLabelJobFailed"
        reason: str

        def apply(self, job: AutoLabelJob) -> None:
            job.status, job.reason = FAILED, self.reason

    class Completed(Event):
        TOPIC = "AutoLabelJobCompleted"

        def apply(self, job: AutoLabelJob) -> None:
            job.status = SUCCEEDED

    Snapshot = snapshot_class("AutoLabelJobSnapshot")

    def __init__(self) -> None:
        self.project_id: str
        self.resource_id: str
        self.incarnation: int
        self.model_label: str
        self.artifact: str
        self.entities: list[str]
        self.documents: list[list[Any]]
        self.idempotency_key: str | None
        self.request_digest: str | None
        self.text_records: int
        self.month: str
        self.min_confidence: float
        self.status: str
        self.attempt: int
        self.worker: str | None
        self.lease_expires: str | None
        self.documents_done: int
        self.suggestions: int
        self.records_processed: int
        self.cancel_requested: bool
        self.reason: str | None

    @classmethod
    def start(cls, job_id: UUID, **fields: Any) -> AutoLabelJob:
        return cls._create(cls.Created, id=job_id, **fields)

    def _trigger(self, event_class: type[AutoLabelJob.Event], actor: str, **kwargs: Any) -> None:
        self.trigger_event(event_class, actor=actor, project_id=self.project_id, **kwargs)

    def progress(self, attempt: int, documents: int, suggestions: int, records: int, now: datetime,
                 lease: timedelta) -> None:
        """`documents` more done, with `suggestions` recorded and `records` processed."""
        self.check_holder(attempt)
        self._trigger(self.Progressed, f"worker:{self.worker}", attempt=attempt,
                      documents_done=self.documents_done + documents, suggestions=self.suggestions + suggestions,
                      records_processed=self.records_processed + records, lease_expires=(now + lease).isoformat())

    def complete(self, attempt: int) -> None:
        self.check_holder(attempt)
        self._trigger(self.Completed, f"worker:{self.worker}")
