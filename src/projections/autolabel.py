"""The auto-labeling jobs view. Jobs of a deleted project (or of an earlier incarnation of it)
are hidden from the API but kept for the workers, which end them and so settle their quota
reservations. This projection keeps its own record of incarnations, as the training view does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from spanledger.projections.runner import Event
from spanledger.projections.tables import autolabel_jobs, autolabel_projects


class AutoLabelProjection:
    name = "autolabel"
    tables = (autolabel_projects, autolabel_jobs)

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        for event in events:
            handler = _HANDLERS.get(event.topic)
            if handler is not None:
                handler(conn, event)


def _job(conn: Connection, e: Event, **values: Any) -> None:
    conn.execute(update(autolabel_jobs).where(autolabel_jobs.c.job_id == e.aggregate_id)
                 .values(updated_at=e.data["timestamp"], **values))


def _project_created(conn: Connection, e: Event) -> None:
    conn.execute(delete(autolabel_projects).where(autolabel_projects.c.project_id == e.aggregate_id))
    conn.execute(insert(autolabel_projects).values(project_id=e.aggregate_id, incarnation=e.version))


def _project_deleted(conn: Connection, e: Event) -> None:
    conn.execute(update(autolabel_jobs).where(autolabel_jobs.c.project_id == e.aggregate_id).values(live=False))
    conn.execute(delete(autolabel_projects).where(autolabel_projects.c.project_id == e.aggregate_id))


def _started(conn: Connection, e: Event) -> None:
    d = e.data
    live = conn.scalar(select(autolabel_projects.c.incarnation)
                       .where(autolabel_projects.c.project_id == d["project_id"]))
    conn.execute(insert(autolabel_jobs).values(
        job_id=e.aggregate_id, project_id=d["project_id"], live=live == d["incarnation"], model_label=d["model_label"], entities=d["entities"],
        documents=len(d["documents"]), text_records=d["text_records"], min_confidence=d["min_confidence"],
        status="notStarted", attempt=0, documents_done=0, suggestions=0, records_processed=0, errors=[],
        created_at=d["timestamp"], updated_at=d["timestamp"],
    ))


def _claimed(conn: Connection, e: Event) -> None:
    d = e.data
    status = conn.scalar(select(autolabel_jobs.c.status).where(autolabel_jobs.c.job_id == e.aggregate_id))
    if status is None:
        return
    values = {"started_at": d["timestamp"]} if status == "notStarted" else {}
    _job(conn, e, status="cancelling" if status == "cancelling" else "running", attempt=d["attempt"],
         worker=d["worker"], lease_expires=d["lease_expires"], **values)


def _progressed(conn: Connection, e: Event) -> None:
    d = e.data
    _job(conn, e, documents_done=d["documents_done"], suggestions=d["suggestions"],
         records_processed=d["records_processed"], lease_expires=d["lease_expires"])


def _ended(status: str) -> Callable[[Connection, Event], None]:
    def handler(conn: Connection, e: Event) -> None:
        values: dict[str, Any] = {"status": status, "ended_at": e.data["timestamp"], "lease_expires": None}
        if "reason" in e.data:
            values["errors"] = [{"code": "AutoLabelingFailed", "message": e.data["reason"]}]
        _job(conn, e, **values)
    return handler


_HANDLERS: dict[str, Callable[[Connection, Event], None]] = {
    "ProjectCreated": _project_created,
    "ProjectDeleted": _project_deleted,
    "AutoLabelJobStarted": _started,
    "AutoLabelJobClaimed": _claimed,
    "AutoLabelJobProgressed": _progressed,
    "AutoLabelJobCancelRequested": lambda conn, e: _job(conn, e, status="cancelling"),
    "AutoLabelJobCancelled": _ended("cancelled"),
    "AutoLabelJobFailed": _ended("failed"),
    "AutoLabelJobCompleted": _ended("succeeded"),
}
