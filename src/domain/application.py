"""The command side: load the aggregate, let it decide, save, answer the log position.

Every command returns the log position of the last event it wrote (None when it changed
nothing), so a client can read its own write from the projections.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError
from eventsourcing.utils import get_topic

from spanledger.domain import ids
from spanledger.domain.autolabel import AutoLabelJob
from spanledger.domain.autolabel_commands import AutoLabelCommands
from spanledger.domain.deployment_commands import DeploymentCommands
from spanledger.domain.document import Document
from spanledger.domain.errors import ConcurrentModification, Conflict, InvalidArgument, NotFound, PreconditionFailed
from spanledger.domain.group_commit import GroupCommit
from spanledger.domain.offsets import OffsetMap, StringIndexType
from spanledger.domain.prediction import PredictionCommands, PredictionJob
from spanledger.domain.project import Project
from spanledger.domain.project_file_commands import ProjectFileCommands
from spanledger.domain.quota import QuotaLedger
from spanledger.domain.resource import DEFAULT_MONTHLY_TEXT_RECORDS, Resource
from spanledger.domain.review_commands import ReviewCommands
from spanledger.domain.rules import check_document_capacity, check_document_name, check_project_name
from spanledger.domain.training import Model, TrainingJob
from spanledger.domain.training_commands import TrainingCommands
from spanledger.domain.transcoding import OrjsonTranscoder

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

@dataclass(frozen=True)
class LabelStatistics:
    entities: dict[str, dict[str, int]]  # entity -> dataset -> labels
    labeled_documents: dict[str, int]  # dataset -> documents with at least one label


class Views(Protocol):
    """What commands ask the read model (bootstrap wires it). Answers may lag the log a
    little, so commands use them for soft limits, hints and early refusals only."""

    def count_documents(self, project_id: UUID) -> int: ...

    def overlapping_labels(self, project_id: UUID) -> list[tuple[str, str, str]]: ...

    def documents_with_entity(self, project_id: UUID, entity: str) -> list[str]: ...

    def label_statistics(self, project_id: UUID) -> LabelStatistics: ...

    def latest_training_sequence(self, project_id: UUID) -> int: ...


@dataclass(frozen=True)
class Principal:
    """Who is calling: the resource an API key belongs to, and the actor its events record."""

    resource_id: UUID
    key_id: str
    key_name: str | None = None

    @property
    def actor(self) -> str:
        return f"key:{self.key_id} ({self.key_name})" if self.key_name else f"key:{self.key_id}"


@dataclass(frozen=True)
class LabelSpec:
    category: str
    offset: int
    length: int


@dataclass(frozen=True)
class NewDocument:
    name: str
    text: str
    language: str | None = None
    dataset: str = "Train"


@dataclass(frozen=True)
class LabelsSaved:
    added: list[str]
    version: int
    position: int | None
    accepted: list[str] = field(default_factory=list)  # the labels accepted suggestions became


class Spanledger(TrainingCommands, AutoLabelCommands, ReviewCommands, ProjectFileCommands, DeploymentCommands,
                 PredictionCommands, Application[UUID]):
    name = "spanledger"
    env: ClassVar[dict[str, str]] = {
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "AGGREGATE_CACHE_MAXSIZE": "2000",
    }
    snapshotting_intervals: ClassVar[dict[type[Aggregate], int]] = {
        Document: 100,
        Project: 100,
        Resource: 100,
        TrainingJob: 100,
        Model: 100,
        AutoLabelJob: 100,
        QuotaLedger: 100,
        PredictionJob: 100,
    }

    def __init__(self, env: dict[str, str] | None = None):
        super().__init__(env)
        # Wired by the bootstrap: the read model's answers; listeners hear of saves, and of
        # the events of a save before it is written (in the saving thread: the group commit
        # may write them from another).
        self.views: Views | None = None
        self.on_saved: list[Callable[[int], None]] = []
        self.on_saving: list[Callable[[list[Any]], None]] = []
        self.commits = GroupCommit(self.save)

    # -- plumbing -------------------------------------------------------------------------

    def _save(self, *aggregates: Aggregate) -> int | None:
        events = [event for aggregate in aggregates for event in aggregate.pending_events]
        if not events:
            return None
        for prepare in self.on_saving:
            prepare(events)
        try:
            recordings = self.commits.save(aggregates)
        except RecordConflictError:
            raise ConcurrentModification(
                "Another request changed the same object at the same time; nothing was saved. Retry.",
            ) from None
        position = recordings[-1].notification.id
        for listener in self.on_saved:
            listener(position)
        return position

    def _retrying(self, change: Callable[[], T], attempts: int = 5) -> T:
        """Runs a change again when someone else wrote the same aggregates first (a user's
        cancel while a worker reports progress, say): it is decided afresh on the reloaded
        aggregates each time, never merged."""
        for attempt in range(attempts - 1):
            try:
                return change()
            except ConcurrentModification:
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # let the other writer finish
        return change()

    def _get(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        """The aggregate of type `cls` with that id, if there is one (ids can come from
        clients: an id of another type of aggregate is simply not found)."""
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    # -- resources and keys ---------------------------------------------------------------

    def create_resource(
        self, name: str, actor: str, monthly_text_records: int = DEFAULT_MONTHLY_TEXT_RECORDS
    ) -> tuple[UUID, str, int | None]:
        """Creates a resource with its first API key; answers (resource id, the key, position)."""
        resource_id = ids.resource_id(name)
        if self._get(resource_id, Resource) is not None:
            raise Conflict(f"Resource {name!r} already exists.", "name")
        resource = Resource.create(resource_id, name, monthly_text_records, actor)
        key = self._issue_key(resource, actor)
        return resource_id, key, self._save(resource)

    def issue_api_key(self, resource_name: str, actor: str, name: str | None = None) -> tuple[str, int | None]:
        """A new key for the resource; `name` says who holds it (the audit shows it)."""
        resource = self.get_resource(ids.resource_id(resource_name))
        key = self._issue_key(resource, actor, name)
        return key, self._save(resource)

    def revoke_api_key(self, resource_name: str, key_id: str, actor: str) -> int | None:
        resource = self.get_resource(ids.resource_id(resource_name))
        resource.revoke_key(key_id, actor)
        return self._save(resource)

    @staticmethod
    def _issue_key(resource: Resource, actor: str, name: str | None = None) -> str:
        # The key names its resource, so checking it needs no lookup table.
        key_id = secrets.token_hex(4)
        key = f"sl-{resource.id.hex}-{key_id}-{secrets.token_urlsafe(24)}"
        resource.issue_key(key_id, key, actor, name)
        return key

    def has_resource(self, name: str) -> bool:
        return self._get(ids.resource_id(name), Resource) is not None

    def get_resource(self, resource_id: UUID) -> Resource:
        resource = self._get(resource_id, Resource)
        if resource is None:
            raise NotFound("No such resource.", "resource")
        return resource

    def authenticate(self, key: str) -> Principal | None:
        parts = key.split("-")
        if len(parts) < 4 or parts[0] != "sl":
            return None
        try:
            resource_id = UUID(hex=parts[1])
        except ValueError:
            return None
        resource = self._get(resource_id, Resource)
        key_id = resource.key_id_for(key) if resource else None
        return Principal(resource_id, key_id, resource.key_name(key_id)) if key_id else None

    # -- projects and entities ------------------------------------------------------------

    def put_project(
        self, resource_id: UUID, name: str, fields: dict[str, Any], actor: str
    ) -> tuple[bool, int | None]:
        """Creates the project, or merges `fields` into it; answers (created, position)."""
        check_project_name(name)
        project_id = ids.project_id(resource_id, name)
        project = self._get(project_id, Project)
        if project is None:
            project = Project.create(project_id, resource_id, name, fields, actor)
            created = True
        elif project.deleted:
            project.recreate(fields, actor)
            created = True
        else:
            if fields.get("overlap_policy") == "reject" and project.overlap_allowed and self.views is not None:
                self._check_no_overlaps(project_id)
            project.update(fields, actor)
            created = False
        return created, self._save(project)

    def _check_no_overlaps(self, project_id: UUID) -> None:
        """Switching to the reject policy would leave overlapping labels it forbids: refused
        while the read model shows any (labels still on their way to it can slip past)."""
        overlaps = self.views.overlapping_labels(project_id)
        if overlaps:
            pairs = ", ".join(f"{a} and {b} in {name!r}" for name, a, b in overlaps)
            raise Conflict(f"Labels overlap ({pairs}); remove the overlaps before rejecting them.", "overlapPolicy")

    def get_project(self, resource_id: UUID, name: str) -> Project:
        project = self._get(ids.project_id(resource_id, name), Project)
        if project is None or project.deleted:
            raise NotFound(f"Project {name!r} was not found.", "projectName")
        return project

    def delete_project(self, resource_id: UUID, name: str, actor: str) -> tuple[str, int | None]:
        project = self.get_project(resource_id, name)
        job_id = str(uuid4())
        project.delete(job_id, actor)
        return job_id, self._save(project)

    def put_entity(self, resource_id: UUID, project_name: str, category: str, actor: str) -> tuple[bool, int | None]:
        project = self.get_project(resource_id, project_name)
        created = project.add_entity(category, actor)
        return created, self._save(project)

    def delete_entity(self, resource_id: UUID, project_name: str, category: str, actor: str) -> int | None:
        """Deletes an entity type and, in the same transaction, records on each document the
        removal of its labels of that type (found through the read model: a label still on its
        way there is left out of the record, though it is gone all the same)."""
        project = self.get_project(resource_id, project_name)
        project.entity_id(category)
        changed = []
        names = self.views.documents_with_entity(project.id, category) if self.views is not None else []
        for name in names:
            document = self._document(project, name)
            if document is not None and not document.deleted and document.remove_entity_labels(project, category, actor):
                changed.append(document)
        project.remove_entity(category, actor)
        return self._save(*changed, project)

    # -- documents ------------------------------------------------------------------------

    def _document(self, project: Project, name: str) -> Document | None:
        return self._get(ids.document_id(project.id, project.incarnation, name), Document)

    def get_document(self, resource_id: UUID, project_name: str, name: str) -> tuple[Project, Document]:
        project = self.get_project(resource_id, project_name)
        document = self._document(project, name)
        if document is None or document.deleted:
            raise NotFound(f"Document {name!r} was not found in project {project_name!r}.", "documentName")
        return project, document

    def add_documents(
        self, resource_id: UUID, project_name: str, documents: Sequence[NewDocument], actor: str,
        *, single: bool = False,
    ) -> tuple[list[bool], int | None]:
        """Adds documents all or nothing; answers (created flag per document, position).

        Re-sending a document with the same content changes nothing; a different document
        under an existing name is a conflict (delete it first). Error targets name the field
        of a single document (`text`) or of one in a batch (`documents[3].text`).
        """
        if not documents:
            raise InvalidArgument("Give at least one document.", "documents")
        project = self.get_project(resource_id, project_name)
        seen: set[str] = set()
        to_save: list[Document] = []
        created: list[bool] = []
        for i, new in enumerate(documents):
            where = "" if single else f"documents[{i}]."
            name_target = "documentName" if single else f"{where}name"
            check_document_name(new.name, name_target)
            if new.name in seen:
                raise InvalidArgument(f"Document {new.name!r} appears twice in the request.", name_target)
            seen.add(new.name)
            document = self._document(project, new.name)
            if document is not None and not document.deleted:
                if not document.same_content(new.text, new.language, new.dataset):
                    raise Conflict(
                        f"Document {new.name!r} already exists with other content; delete it first.",
                        name_target,
                    )
                created.append(False)
                continue
            try:
                if document is None:
                    document_id = ids.document_id(project.id, project.incarnation, new.name)
                    document = Document.add(
                        document_id, project, new.name, new.text, new.language, new.dataset, actor
                    )
                else:
                    document.readd(project, new.text, new.language, new.dataset, actor)
            except InvalidArgument as error:
                error.target = f"{where}{error.target}"
                raise
            to_save.append(document)
            created.append(True)
        if to_save and self.views is not None:
            check_document_capacity(self.views.count_documents(project.id), len(to_save))
        return created, self._save(*to_save)

    def change_dataset(self, resource_id: UUID, project_name: str, name: str, dataset: str, actor: str) -> int | None:
        _, document = self.get_document(resource_id, project_name, name)
        document.change_dataset(dataset, actor)
        return self._save(document)

    def delete_document(self, resource_id: UUID, project_name: str, name: str, actor: str) -> int | None:
        _, document = self.get_document(resource_id, project_name, name)
        document.delete(actor)
        return self._save(document)

    # -- labels ---------------------------------------------------------------------------

    def save_labels(
        self, resource_id: UUID, project_name: str, name: str, *, add: Sequence[LabelSpec] = (),
        remove: Sequence[str] = (), accept: Sequence[str] = (), reject: Sequence[str] = (),
        unit: StringIndexType = StringIndexType.UTF16, if_match: int | None = None, actor: str,
        single: bool = False,
    ) -> LabelsSaved:
        """Removes labels, rejects and accepts suggestions, then adds labels: one atomic write,
        guarded by an optional version.

        Error targets name the field of a single label (`offset`) or of one in a batch
        (`add[2].offset`, `remove[0]`, `accept[1]`).
        """
        for where, listed in (("remove", remove), ("reject", reject), ("accept", accept)):
            _check_unique(listed, where)
        project, document = self.get_document(resource_id, project_name, name)
        if if_match is not None and if_match != document.version:
            raise PreconditionFailed(
                f"Document {name!r} is at version {document.version}, not {if_match}; reload it.", "If-Match"
            )
        for i, label_id in enumerate(remove):
            document.remove_label(project, label_id, actor, "labelId" if single else f"remove[{i}]")
        for i, suggestion_id in enumerate(reject):
            document.reject(project, suggestion_id, actor, f"reject[{i}]")
        accepted = [document.accept(project, suggestion_id, actor, f"accept[{i}]")
                    for i, suggestion_id in enumerate(accept)]
        offsets = OffsetMap(document.text)
        added = []
        for i, spec in enumerate(add):
            where = "" if single else f"add[{i}]"
            offset, length = offsets.span_to_code_points(spec.offset, spec.length, unit, where)
            added.append(document.add_label(project, spec.category, offset, length, actor, where))
        return LabelsSaved(added, document.version, self._save(document), accepted)

    def label_view(self, resource_id: UUID, project_name: str, name: str) -> dict[str, dict[str, Any]]:
        """A document's current labels, by replaying its events (the projections' reference)."""
        project, document = self.get_document(resource_id, project_name, name)
        return document.live_labels(project)


def _check_unique(ids: Sequence[str], field: str) -> None:
    """The same id twice in one list is a client's mistake, not a missing label."""
    seen: set[str] = set()
    for i, item in enumerate(ids):
        if item in seen:
            raise InvalidArgument(f"{item!r} appears twice in {field}.", f"{field}[{i}]")
        seen.add(item)
