"""A project's or one document's events up to a log position, each with the state after it.

The log is read in position order (only project and document events, filtered by topic in
the store), and each event of the project or its documents is applied through the
aggregates' own handlers, as in domain.training_set; every life of a deleted and re-created
project or document is shown. A debugging tool: it reads the log from its start.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import Aggregate

from spanledger.domain import ids
from spanledger.domain.application import Spanledger
from spanledger.domain.document import Document
from spanledger.domain.offsets import OffsetMap, StringIndexType
from spanledger.domain.project import Project
from spanledger.replay.positions import notifications

_TOPICS = sorted({
    member.TOPIC for aggregate in (Project, Document) for name, member in vars(aggregate).items()
    if isinstance(member, type) and issubclass(member, Aggregate.Event) and name != "Event"
})


@dataclass(frozen=True)
class Step:
    position: int
    version: int
    event: str  # the event's topic, e.g. LabelAdded
    actor: str
    timestamp: str
    document: str | None  # None: an event of the project itself
    state: dict[str, Any]  # of the aggregate the event changed, after it

    def as_json(self) -> dict[str, Any]:
        return {"position": self.position, "version": self.version, "event": self.event, "actor": self.actor,
                "timestamp": self.timestamp, "document": self.document, "state": self.state}


def project_state(project: Project | None) -> dict[str, Any]:
    if project is None:
        return {"exists": False}
    return {"exists": not project.deleted, "name": project.name, "version": project.version,
            "incarnation": project.incarnation, "language": project.fields.get("language"),
            "overlapPolicy": project.fields.get("overlap_policy"), "entities": sorted(project.entities)}


def document_state(project: Project | None, document: Document, unit: StringIndexType) -> dict[str, Any]:
    """Live labels and every suggestion with its state, offsets in `unit`, each with its text."""
    if document.deleted or project is None:
        return {"exists": False, "name": document.name, "version": document.version}
    offsets = OffsetMap(document.text)

    def span(item: dict[str, Any]) -> dict[str, Any]:
        offset, length = offsets.span_from_code_points(item["offset"], item["length"], unit)
        return {"category": item["entity"], "offset": offset, "length": length,
                "text": document.text[item["offset"]:item["offset"] + item["length"]]}

    def order(item: tuple[str, dict[str, Any]]) -> tuple[int, int, int]:
        return item[1]["offset"], item[1]["length"], int(item[0][1:])

    live_entities = project.entities
    suggestions = {i: s for i, s in document.suggestions.items() if live_entities.get(s["entity"]) == s["entity_id"]}
    return {
        "exists": True, "name": document.name, "version": document.version, "dataset": document.dataset,
        "labels": {i: span(label) for i, label in sorted(document.live_labels(project).items(), key=order)},
        "suggestions": {i: {**span(s), "state": s["state"], "confidence": s["confidence"],
                            "modelLabel": s["model_label"], "jobId": s["job_id"]}
                        for i, s in sorted(suggestions.items(), key=order)},
    }


class Replay:
    """Follows the log up to `up_to` for one project (and, if `document` is named, reports
    only that document's events); `states()` is the whole picture at any point on the way."""

    def __init__(self, app: Spanledger, resource_id: UUID, project_name: str, document: str | None = None,
                 unit: StringIndexType = StringIndexType.UTF16):
        self.app, self.unit, self.document = app, unit, document
        self.project_id = ids.project_id(resource_id, project_name)
        self.project: Project | None = None
        self.documents: dict[UUID, Document] = {}

    def steps(self, up_to: int, after: int = 0) -> Iterator[Step]:
        """Applies the events after `after` up to `up_to` (continuing where the last call
        stopped), yielding each with the state after it."""
        pid = str(self.project_id)
        for notification in notifications(self.app.recorder, up_to, _TOPICS, after):
            ours = notification.originator_id == self.project_id
            if not ours:
                head = orjson.loads(notification.state)
                if head.get("project_id") != pid or (self.document is not None and head["document"] != self.document):
                    continue
            event = self.app.mapper.to_domain_event(notification)
            if ours:
                self.project = event.mutate(self.project)
                if self.document is not None:
                    continue
                state, name = project_state(self.project), None
            else:
                document = self.documents[event.originator_id] = event.mutate(self.documents.get(event.originator_id))
                state, name = document_state(self._project_of(document), document, self.unit), document.name
            yield Step(notification.id, notification.originator_version, notification.topic, event.actor,
                       event.timestamp.isoformat(), name, state)

    def _project_of(self, document: Document) -> Project | None:
        """The project, if the document belongs to its life as it stands."""
        project = self.project
        live = project is not None and not project.deleted and project.incarnation == document.incarnation
        return project if live else None

    def state(self) -> dict[str, Any]:
        """The project (or the one document) as the events so far leave it."""
        documents = {}
        for document in self.documents.values():
            state = document_state(self._project_of(document), document, self.unit)
            if state["exists"]:
                documents[document.name] = state
        if self.document is not None:
            return {"document": documents.get(self.document, {"exists": False})}
        return {"project": project_state(self.project), "documents": dict(sorted(documents.items()))}
