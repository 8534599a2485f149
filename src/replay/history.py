"""A project and its documents as they stood at a log position, rebuilt from the event store.

Each aggregate is rebuilt at its version as of that position by the repository (from its
latest snapshot at or before that version, then its events), so a document of 10,000 events
costs at most 100 of them to replay. Which documents a project had is found in the log's
DocumentAdded and DocumentDeleted events. Nothing here reads the read model.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

import orjson
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder

from spanledger.domain import ids
from spanledger.domain.application import Spanledger
from spanledger.domain.document import Document
from spanledger.domain.errors import InvalidArgument, NotFound
from spanledger.domain.project import Project
from spanledger.replay.positions import head, notifications, position_at, version_at

A = TypeVar("A", bound=Aggregate)
_MEMBERSHIP = [Document.Created.TOPIC, Document.Deleted.TOPIC]


def resolve(recorder: ApplicationRecorder, at_position: int | None, as_of: datetime | None) -> int:
    """The log position a request means: `atPosition` as given (not beyond the log's last
    position), or the last position recorded at or before `asOf` (not a time to come)."""
    if at_position is not None and as_of is not None:
        raise InvalidArgument("Give atPosition or asOf, not both.", "asOf")
    last = head(recorder)
    if at_position is not None:
        if at_position > last:
            raise InvalidArgument(f"atPosition {at_position} is beyond the log's last position, {last}.",
                                  "atPosition")
        return at_position
    assert as_of is not None
    moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    if moment > now:
        raise InvalidArgument(f"asOf is in the future (the server's time is {now.isoformat()}).", "asOf")
    return position_at(recorder, moment)


class History:
    """Past states of one application's aggregates; `snapshots=False` replays every event
    from the first (the benchmark's baseline, and a check that snapshots change nothing)."""

    def __init__(self, app: Spanledger, *, snapshots: bool = True):
        self.app = app
        self.snapshots = snapshots

    def at_version(self, aggregate_id: UUID, version: int, cls: type[A]) -> A | None:
        if self.snapshots:
            aggregate = self.app.repository.get(aggregate_id, version=version)
        else:
            aggregate = None
            for event in self.app.events.get(aggregate_id, lte=version):
                aggregate = event.mutate(aggregate)
        return aggregate if isinstance(aggregate, cls) else None

    def at_position(self, aggregate_id: UUID, position: int, cls: type[A]) -> A | None:
        """The aggregate as of `position`; None where it had no event yet (or is another type)."""
        version = version_at(self.app.recorder, aggregate_id, position)
        return None if version is None else self.at_version(aggregate_id, version, cls)

    def project(self, resource_id: UUID, name: str, position: int) -> Project:
        project = self.at_position(ids.project_id(resource_id, name), position, Project)
        if project is None or project.deleted:
            raise NotFound(f"Project {name!r} did not exist at log position {position}.", "projectName")
        return project

    def document(self, resource_id: UUID, project_name: str, name: str, position: int) -> tuple[Project, Document]:
        project = self.project(resource_id, project_name, position)
        document = self.at_position(ids.document_id(project.id, project.incarnation, name), position, Document)
        if document is None or document.deleted:
            raise NotFound(f"Document {name!r} did not exist in project {project_name!r} at log position "
                           f"{position}.", "documentName")
        return project, document

    def document_ids(self, project: Project, position: int) -> dict[str, UUID]:
        """The project's documents as of `position` (the project as it was then), by name."""
        live: dict[str, UUID] = {}
        pid = str(project.id)
        for notification in notifications(self.app.recorder, position, _MEMBERSHIP):
            data = orjson.loads(notification.state)
            if data["project_id"] != pid:
                continue
            if notification.topic == Document.Created.TOPIC:
                if data["incarnation"] == project.incarnation:
                    live[data["document"]] = notification.originator_id
            elif live.get(data["document"]) == notification.originator_id:
                del live[data["document"]]
        return dict(sorted(live.items()))

    def documents(self, project: Project, document_ids: list[UUID], position: int) -> list[Document]:
        found = (self.at_position(i, position, Document) for i in document_ids)
        return [d for d in found if d is not None and not d.deleted]

    def label_counts(self, project: Project, position: int) -> dict[str, Counter[str]]:
        """Per entity type of the project then, its live labels per dataset then."""
        counts: dict[str, Counter[str]] = {name: Counter() for name in sorted(project.entities)}
        for document in self.documents(project, list(self.document_ids(project, position).values()), position):
            for label in document.live_labels(project).values():
                counts[label["entity"]][document.dataset] += 1
        return counts

