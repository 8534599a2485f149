"""The audit log: one row per event, saying when, who, what, and on which project/document."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import Connection

from domain.offsets import OffsetMap
from projections.bulk import insert_rows
from projections.runner import Event
from projections.tables import audit_events

# The Project aggregate's own events; every other project-scoped event names its project.
_PROJECT_TOPICS = {"ProjectCreated", "ProjectUpdated", "ProjectDeleted", "EntityAdded", "EntityRemoved",
                   "ProjectImported", "ProjectExported", "ModelDeployed", "DeploymentDeleted", "DeploymentsSwapped"}


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


class AuditProjection:
    name = "audit"
    tables = (audit_events,)

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        insert_rows(conn, audit_events, _COLUMNS, [
            (
                e.position, e.data["timestamp"], e.data.get("actor", ""), e.topic, e.aggregate_id, e.version,
                _project_id(e), e.data.get("document"), _payload(e),
                orjson.dumps(astral).decode() if (astral := _astral(e)) else None,
            )
            for e in events
        ])


_COLUMNS = ("position", "occurred_at", "actor", "event_type", "aggregate_id", "aggregate_version",
            "project_id", "document_name", "payload", "astral")
