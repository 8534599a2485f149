"""Training: the TrainingJob and Model aggregates.

A project's training jobs form a chain: job n+1 can only be created once job n has ended,
and its id derives from (project, incarnation, n), so the event store's optimistic
concurrency keeps one job at a time per project without a lock. A worker claims a job for a
lease and renews it as it goes; a job whose worker died is claimed again when the lease
runs out, and a worker that lost its lease can no longer write to the job (its version
moved), so exactly one ModelTrained results.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from spanledger.domain.aggregate import Recreatable, snapshot_class
from spanledger.domain.errors import Conflict, InvalidArgument
from spanledger.domain.jobs import (
    CANCELLED,
    CANCELLING,
    FAILED,
    NOT_STARTED,
    RUNNING,
    SUCCEEDED,
    LeasedJob,
)

TRAINING_SHARE = 90  # of a job's percent, the training part; the rest is evaluation
_MODEL_LABEL = re.compile(r"[A-Za-z0-9_.-]{1,50}")


def training_job_id(project_id: UUID, incarnation: int, sequence: int) -> UUID:
    return uuid5(project_id, f"training:{incarnation}:{sequence}")


def model_id(project_id: UUID, incarnation: int, label: str) -> UUID:
    return uuid5(project_id, f"model:{incarnation}:{label}")


def check_model_label(label: str) -> str:
    if not isinstance(label, str) or not _MODEL_LABEL.fullmatch(label) or label in (".", ".."):
        raise InvalidArgument(f"Model label {label!r} is invalid: use 1-50 letters, digits, '_', '.' or '-'.",
                              "modelLabel")
    return label


def check_evaluation_options(options: dict[str, Any]) -> dict[str, Any]:
    """Azure's evaluationOptions: a manual split (each document's dataset) or a percentage one."""
    kind = options.get("kind", "percentage")
    if kind == "manual":
        return {"kind": "manual"}
    if kind != "percentage":
        raise InvalidArgument("evaluationOptions.kind must be 'percentage' or 'manual'.", "evaluationOptions.kind")
    given = {field: options.get(field) for field in ("trainingSplitPercentage", "testingSplitPercentage")}
    for field, value in given.items():
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100):
            raise InvalidArgument(f"{field} must be a whole number from 0 to 100.", f"evaluationOptions.{field}")
    train, test = given["trainingSplitPercentage"], given["testingSplitPercentage"]
    if train is None:
        train = 80 if test is None else 100 - test
    if test is None:
        test = 100 - train
    if train + test != 100:
        raise InvalidArgument("trainingSplitPercentage and testingSplitPercentage must add up to 100.",
                              "evaluationOptions.testingSplitPercentage")
    if test == 0 or train == 0:
        raise InvalidArgument("Both the training and the testing split need documents.",
                              "evaluationOptions.testingSplitPercentage" if test == 0 else
                              "evaluationOptions.trainingSplitPercentage")
    return {"kind": "percentage", "trainingSplitPercentage": train, "testingSplitPercentage": test}


class TrainingJob(LeasedJob, Aggregate):
    TOPIC = "TrainingJob"
    KIND = "Training job"

    class Event(Aggregate.Event):
        actor: str
        project_id: str

    class Created(Event, Aggregate.Created):
        TOPIC = "TrainingRequested"
        incarnation: int
        sequence: int
        model_label: str
        training_config_version: str
        evaluation: dict[str, Any]
        log_position: int  # the training reads the log up to here
        recipe: dict[str, Any]  # by name and settings: each worker resolves its own files
        warnings: list[dict[str, str]]

        def apply(self, job: TrainingJob) -> None:
            job.project_id = self.project_id
            job.incarnation = self.incarnation
            job.sequence = self.sequence
            job.model_label = self.model_label
            job.training_config_version = self.training_config_version
            job.evaluation = self.evaluation
            job.log_position = self.log_position
            job.recipe = self.recipe
            job.warnings = list(self.warnings)
            job.status = NOT_STARTED
            job.attempt = 0
            job.worker = None
            job.lease_expires = None
            job.percent = 0
            job.cancel_requested = False
            job.reason = None

    class Claimed(Event):
        TOPIC = "TrainingStarted"
        attempt: int
        worker: str
        lease_expires: str

        def apply(self, job: TrainingJob) -> None:
            job.status = CANCELLING if job.cancel_requested else RUNNING
            job.attempt, job.worker, job.lease_expires = self.attempt, self.worker, self.lease_expires
            job.percent = 0

    class Progressed(Event):
        """Progress, and the worker's lease renewed."""

        TOPIC = "TrainingProgressed"
        attempt: int
        percent: int
        lease_expires: str

        def apply(self, job: TrainingJob) -> None:
            job.percent, job.lease_expires = self.percent, self.lease_expires

    class CancelRequested(Event):
        TOPIC = "TrainingCancelRequested"

        def apply(self, job: TrainingJob) -> None:
            job.cancel_requested = True
            job.status = CANCELLING

    class Cancelled(Event):
        TOPIC = "TrainingCancelled"

        def apply(self, job: TrainingJob) -> None:
            job.status = CANCELLED

    class Failed(Event):
        TOPIC = "TrainingFailed"
        reason: str

        def apply(self, job: TrainingJob) -> None:
            job.status, job.reason = FAILED, self.reason

    class Completed(Event):
        TOPIC = "TrainingCompleted"
        model_label: str

        def apply(self, job: TrainingJob) -> None:
            job.status, job.percent = SUCCEEDED, 100

    Snapshot = snapshot_class("TrainingJobSnapshot")

    def __init__(self) -> None:
        self.project_id: str
        self.model_label: str
        self.status: str
        self.attempt: int
        self.lease_expires: str | None
        self.cancel_requested: bool
        self.reason: str | None  # why it failed

    @classmethod
    def request(cls, job_id: UUID, **fields: Any) -> TrainingJob:
        return cls._create(cls.Created, id=job_id, **fields)

    def _trigger(self, event_class: type[TrainingJob.Event], actor: str, **kwargs: Any) -> None:
        self.trigger_event(event_class, actor=actor, project_id=self.project_id, **kwargs)

    def progress(self, attempt: int, percent: int, now: datetime, lease: timedelta) -> None:
        self.check_holder(attempt)
        self._trigger(self.Progressed, f"worker:{self.worker}", attempt=attempt, percent=max(0, min(percent, 99)),
                      lease_expires=(now + lease).isoformat())

    def complete(self, attempt: int) -> None:
        self.check_holder(attempt)
        if self.cancel_requested:  # the user's cancel wins over a training that just finished
            raise Conflict(f"Training job {self.id} was cancelled.", "jobId")
        self._trigger(self.Completed, f"worker:{self.worker}", model_label=self.model_label)


class Model(Aggregate):
    """A trained model under its label. Training again under the label replaces it."""

    TOPIC = "Model"

    class Event(Aggregate.Event):
        actor: str
        project_id: str
        model_label: str

    class Created(Event, Recreatable):
        TOPIC = "ModelTrained"
        job_id: str
        artifact: str  # digest of the model file
        evaluation_artifact: str  # digest of the per-document evaluation results
        fingerprint: str  # of the training set, as replaying the log up to log_position gives it
        log_position: int
        duration_seconds: float
        recipe: dict[str, Any]
        training_config_version: str
        evaluation: dict[str, Any]  # the options and how many documents each part had
        metrics: dict[str, Any]
        entity_types: list[str]  # what the model can predict

        def apply(self, model: Model) -> None:
            model.project_id = self.project_id
            model.label = self.model_label
            model.job_id = self.job_id
            model.artifact = self.artifact
            model.fingerprint = self.fingerprint
            model.log_position = self.log_position
            model.entity_types = self.entity_types
            model.metrics = self.metrics
            model.training_config_version = self.training_config_version
            model.deleted = False

    class Deleted(Event):
        TOPIC = "ModelDeleted"

        def apply(self, model: Model) -> None:
            model.deleted = True

    Snapshot = snapshot_class("ModelSnapshot")

    def __init__(self) -> None:
        self.label: str
        self.deleted: bool

    def delete(self, actor: str) -> None:
        self.trigger_event(self.Deleted, actor=actor, project_id=self.project_id, model_label=self.label)
