"""The training views: training jobs with their state, and the trained models.

Few events (a job makes tens), so each is applied with plain statements. Jobs of a
project's earlier incarnation are dead, as documents are (see labeling.py); this projection
keeps its own record of incarnations rather than read another projection's tables, whose
rows within a batch may already be ahead of the event at hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from spanledger.projections.runner import Event
from spanledger.projections.tables import models, training_jobs, training_projects


class TrainingProjection:
    name = "training"
    tables = (training_projects, training_jobs, models)

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        for event in events:
            handler = _HANDLERS.get(event.topic)
            if handler is not None:
                handler(conn, event)


def _job(conn: Connection, e: Event, **values: Any) -> None:
    conn.execute(update(training_jobs).where(training_jobs.c.job_id == e.aggregate_id)
                 .values(updated_at=e.data["timestamp"], **values))


def _live_project(conn: Connection, project_id: str, incarnation: int) -> bool:
    found = conn.scalar(select(training_projects.c.incarnation).where(training_projects.c.project_id == project_id))
    return found == incarnation


def _project_created(conn: Connection, e: Event) -> None:
    conn.execute(delete(training_projects).where(training_projects.c.project_id == e.aggregate_id))
    conn.execute(insert(training_projects).values(project_id=e.aggregate_id, incarnation=e.version))


def _requested(conn: Connection, e: Event) -> None:
    d = e.data
    if not _live_project(conn, d["project_id"], d["incarnation"]):
        return
    conn.execute(insert(training_jobs).values(
        job_id=e.aggregate_id, project_id=d["project_id"], sequence=d["sequence"], model_label=d["model_label"],
        training_config_version=d["training_config_version"], evaluation=d["evaluation"],
        log_position=d["log_position"], status="notStarted", percent=0, attempt=0, warnings=d["warnings"],
        errors=[], created_at=d["timestamp"], updated_at=d["timestamp"],
    ))


def _started(conn: Connection, e: Event) -> None:
    d = e.data
    row = conn.execute(select(training_jobs.c.status).where(training_jobs.c.job_id == e.aggregate_id)).first()
    if row is None:
        return
    _job(conn, e, status="cancelling" if row.status == "cancelling" else "running", attempt=d["attempt"],
         worker=d["worker"], lease_expires=d["lease_expires"], percent=0, started_at=d["timestamp"])


def _progressed(conn: Connection, e: Event) -> None:
    _job(conn, e, percent=e.data["percent"], lease_expires=e.data["lease_expires"])


def _cancel_requested(conn: Connection, e: Event) -> None:
    _job(conn, e, status="cancelling")


def _ended(status: str) -> Callable[[Connection, Event], None]:
    def handler(conn: Connection, e: Event) -> None:
        errors = [{"code": "TrainingFailed", "message": e.data["reason"]}] if "reason" in e.data else []
        values: dict[str, Any] = {"status": status, "ended_at": e.data["timestamp"], "lease_expires": None}
        if errors:
            values["errors"] = errors
        if status == "succeeded":
            values["percent"] = 100
        _job(conn, e, **values)
    return handler


def _model_trained(conn: Connection, e: Event) -> None:
    d = e.data
    job = conn.execute(select(training_jobs.c.project_id).where(training_jobs.c.job_id == d["job_id"])).first()
    if job is None:
        return  # a job of a deleted project
    key = (models.c.project_id == d["project_id"]) & (models.c.label == d["model_label"])
    conn.execute(delete(models).where(key))
    conn.execute(insert(models).values(
        project_id=d["project_id"], label=d["model_label"], job_id=d["job_id"], artifact=d["artifact"],
        evaluation_artifact=d["evaluation_artifact"], fingerprint=d["fingerprint"],
        log_position=d["log_position"], duration_seconds=d["duration_seconds"], recipe=d["recipe"],
        training_config_version=d["training_config_version"], evaluation=d["evaluation"], metrics=d["metrics"],
        entity_types=d["entity_types"], trained_at=d["timestamp"],
    ))


def _model_deleted(conn: Connection, e: Event) -> None:
    d = e.data
    conn.execute(delete(models).where((models.c.project_id == d["project_id"]) & (models.c.label == d["model_label"])))


def _project_deleted(conn: Connection, e: Event) -> None:
    for table in (training_jobs, models, training_projects):
        conn.execute(delete(table).where(table.c.project_id == e.aggregate_id))


_HANDLERS: dict[str, Callable[[Connection, Event], None]] = {
    "TrainingRequested": _requested,
    "TrainingStarted": _started,
    "TrainingProgressed": _progressed,
    "TrainingCancelRequested": _cancel_requested,
    "TrainingCancelled": _ended("cancelled"),
    "TrainingFailed": _ended("failed"),
    "TrainingCompleted": _ended("succeeded"),
    "ModelTrained": _model_trained,
    "ModelDeleted": _model_deleted,
    "ProjectCreated": _project_created,
    "ProjectDeleted": _project_deleted,
}
