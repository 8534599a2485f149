"""The audit log: one row per event, saying when, who, what, and on which resource, project,
document, job and model.

Many events name their project but not its resource, a job's later events do not repeat its
model, and a decision on a suggestion does not repeat the suggestion's job and model. The
projection remembers those facts (audit_refs) as the events that state them go by, so that
each row can be filtered by resource, job and model without a join.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select

from spanledger.domain.offsets import OffsetMap
from spanledger.projections.bulk import insert_rows
from spanledger.projections.runner import Event
from spanledger.projections.tables import audit_events, audit_refs

# The Project aggregate's own events; every other project-scoped event names its project.
_PROJECT_TOPICS = {"ProjectCreated", "ProjectUpdated", "ProjectDeleted", "EntityAdded", "EntityRemoved",
                   "ProjectImported", "ProjectExported", "ModelDeployed", "DeploymentDeleted", "DeploymentsSwapped"}
_RESOURCE_TOPICS = {"ResourceCreated", "ApiKeyIssued", "ApiKeyRevoked"}
# Events of a job aggregate: the job is the aggregate itself.
_JOB_TOPICS = {
    "AutoLabelJobStarted", "AutoLabelJobClaimed", "AutoLabelJobProgressed", "AutoLabelJobCancelRequested",
    "AutoLabelJobCancelled", "AutoLabelJobFailed", "AutoLabelJobCompleted",
    "TrainingRequested", "TrainingStarted", "TrainingProgressed", "TrainingCancelRequested", "TrainingCancelled",
    "TrainingFailed", "TrainingCompleted",
}
# Decisions on a suggestion, which name the suggestion only.
_DECISION_TOPICS = {"AutoLabelRejected", "AutoLabelSuperseded", "AutoLabelDecisionUndone"}


def _project_id(event: Event) -> str | None:
    return event.aggregate_id if event.topic in _PROJECT_TOPICS else event.data.get("project_id")


def _payload(event: Event) -> str:
    """The event as recorded; a document's text is in the log, the audit says how long it was."""
    if event.topic != "DocumentAdded":
        return event.state.decode()
    data = dict(event.data)
    data["characters"] = len(data.pop("text"))
    return orjson.dumps(data).decode()


def _astral(event: Event) -> list[int] | None:
    text = event.data.get("text") if event.topic == "DocumentAdded" else None
    return OffsetMap.astral_of(text) or None if text else None


def _job_id(event: Event) -> str | None:
    if event.topic in _JOB_TOPICS:
        return event.aggregate_id
    return event.data.get("job_id") or event.data.get("training_job_id")


def _suggestion_ref(event: Event) -> str:
    return f"s:{event.aggregate_id}:{event.data['suggestion_id']}"


def _refs_stated(event: Event) -> Iterable[tuple[str, dict[str, Any]]]:
    """The facts this event states for later events: (ref, fields)."""
    data = event.data
    if event.topic == "ProjectCreated":
        yield f"p:{event.aggregate_id}", {"resource_id": data["resource_id"], "project_name": data["name"]}
    elif event.topic in ("AutoLabelJobStarted", "TrainingRequested"):
        yield f"j:{event.aggregate_id}", {"model_label": data["model_label"]}
    elif event.topic == "AutoLabelSuggested":
        yield _suggestion_ref(event), {"job_id": data["job_id"], "model_label": data["model_label"]}


def _refs_needed(event: Event) -> Iterable[str]:
    if (project_id := _project_id(event)) is not None:
        yield f"p:{project_id}"
    if event.topic in _DECISION_TOPICS:
        yield _suggestion_ref(event)
    elif (job_id := _job_id(event)) is not None and "model_label" not in event.data:
        yield f"j:{job_id}"


# Built once: building it cost more than running it (see labeling.py).
_REFS = select(audit_refs).where(audit_refs.c.ref.in_(bindparam("refs", expanding=True)))


class AuditProjection:
    name = "audit"
    tables = (audit_events, audit_refs)

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        known = self._refs(conn, events)
        rows = []
        refs = dict(known)
        for e in events:
            # What the log states up to this event only: a batch's later events must not inform
            # its earlier ones (a job's QuotaReserved precedes its start), or batch cuts would matter.
            for ref, fields in _refs_stated(e):
                refs.setdefault(ref, fields)
            rows.append(self._row(e, refs))
        insert_rows(conn, audit_events, _COLUMNS, rows)

    def _refs(self, conn: Connection, events: Sequence[Event]) -> dict[str, dict[str, Any]]:
        """The facts the batch's events need that earlier batches stated (read once per batch);
        those the batch states itself are stored for later batches."""
        stated: dict[str, dict[str, Any]] = {}
        needed: set[str] = set()
        for event in events:
            needed.update(_refs_needed(event))
            for ref, fields in _refs_stated(event):
                stated.setdefault(ref, fields)
        known: dict[str, dict[str, Any]] = {}
        wanted = sorted(needed | set(stated))
        for start in range(0, len(wanted), 500):  # bounded IN lists
            for row in conn.execute(_REFS, {"refs": wanted[start:start + 500]}):
                known[row.ref] = row._asdict()
        # A project created again, or a job id seen twice, states what is already known.
        new = [(ref, f.get("resource_id"), f.get("project_name"), f.get("job_id"), f.get("model_label"))
               for ref, f in stated.items() if ref not in known]
        insert_rows(conn, audit_refs, ("ref", "resource_id", "project_name", "job_id", "model_label"), new)
        return known

    @staticmethod
    def _row(e: Event, refs: dict[str, dict[str, Any]]) -> tuple[Any, ...]:
        data = e.data
        project_id = _project_id(e)
        project = refs.get(f"p:{project_id}", {}) if project_id else {}
        resource_id = (e.aggregate_id if e.topic in _RESOURCE_TOPICS
                       else data.get("resource_id") or project.get("resource_id"))
        job_id, model_label = _job_id(e), data.get("model_label")
        if e.topic in _DECISION_TOPICS:
            suggestion = refs.get(_suggestion_ref(e), {})
            job_id, model_label = suggestion.get("job_id"), suggestion.get("model_label")
        elif job_id is not None and model_label is None:
            model_label = refs.get(f"j:{job_id}", {}).get("model_label")
        astral = _astral(e)
        return (
            e.position, data["timestamp"], data.get("actor", ""), e.topic, e.aggregate_id, e.version,
            project_id, data.get("document"), _payload(e), orjson.dumps(astral).decode() if astral else None,
            resource_id, data.get("name") if e.topic == "ProjectCreated" else project.get("project_name"),
            job_id, model_label,
        )


_COLUMNS = ("position", "occurred_at", "actor", "event_type", "aggregate_id", "aggregate_version",
            "project_id", "document_name", "payload", "astral", "resource_id", "project_name", "job_id",
            "model_label")
