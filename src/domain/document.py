"""The Document aggregate: its text, its dataset, its user labels and the auto-label
suggestions models made on it.

Offsets here are Python string indexes (code points); the API converts other units at the edge.
Every event names its project and document so the log reads on its own (audit, replay).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.aggregate import Recreatable, recreate, snapshot_class
from domain.errors import Conflict, InvalidArgument, NotFound
from domain.project import Project
from domain.rules import MAX_LABEL_CHARACTERS, check_dataset, check_document_text, check_language


class Document(Aggregate):
    TOPIC = "Document"

    class Event(Aggregate.Event):
        actor: str
        project_id: str
        document: str

    class Created(Event, Recreatable):
        TOPIC = "DocumentAdded"
        # The project's incarnation: a document added while its project was being deleted
        # belongs to no live project, and the projections know it by this.
        incarnation: int
        text: str
        language: str
        dataset: str

        def apply(self, doc: Document) -> None:
            doc.project_id = self.project_id
            doc.incarnation = self.incarnation
            doc.name = self.document
            doc.text = self.text
            doc.language = self.language
            doc.dataset = self.dataset
            doc.labels = {}
            doc.suggestions = {}
            # Label and suggestion ids are never reused, not even across a deletion and re-adding.
            doc.next_label = getattr(doc, "next_label", 1)
            doc.next_suggestion = getattr(doc, "next_suggestion", 1)
            doc.deleted = False

    class DatasetChanged(Event):
        TOPIC = "DocumentDatasetChanged"
        dataset: str

        def apply(self, doc: Document) -> None:
            doc.dataset = self.dataset

    class Deleted(Event):
        TOPIC = "DocumentDeleted"

        def apply(self, doc: Document) -> None:
            doc.deleted = True
            doc.labels = {}
            doc.suggestions = {}

    class LabelAdded(Event):
        TOPIC = "LabelAdded"
        label_id: str
        entity: str
        entity_id: str
        offset: int
        length: int

        def apply(self, doc: Document) -> None:
            doc.labels[self.label_id] = {
                "entity": self.entity,
                "entity_id": self.entity_id,
                "offset": self.offset,
                "length": self.length,
            }
            doc.next_label += 1

    class LabelRemoved(Event):
        # Names what was removed, so the log (and the audit) reads without a lookup.
        TOPIC = "LabelRemoved"
        label_id: str
        entity: str
        entity_id: str
        offset: int
        length: int

        def apply(self, doc: Document) -> None:
            del doc.labels[self.label_id]

    class AutoLabelSuggested(Event):
        TOPIC = "AutoLabelSuggested"
        suggestion_id: str
        entity: str
        entity_id: str
        offset: int
        length: int
        confidence: float
        model_label: str
        job_id: str

        def apply(self, doc: Document) -> None:
            doc.suggestions[self.suggestion_id] = {
                "entity": self.entity, "entity_id": self.entity_id, "offset": self.offset, "length": self.length,
                "confidence": self.confidence, "model_label": self.model_label, "job_id": self.job_id,
                "state": "pending",
            }
            doc.next_suggestion += 1

    Snapshot = snapshot_class("DocumentSnapshot")

    def __init__(self) -> None:
        self.project_id: str
        self.name: str
        self.text: str
        self.language: str
        self.dataset: str
        # label id -> {"entity", "entity_id", "offset", "length"}; see live_labels().
        self.labels: dict[str, dict[str, Any]]
        # suggestion id -> the label's fields, "confidence", "model_label", "job_id", "state"
        self.suggestions: dict[str, dict[str, Any]]
        self.next_label: int
        self.next_suggestion: int
        self.deleted: bool

    @classmethod
    def add(
        cls, document_id: UUID, project: Project, name: str, text: str,
        language: str | None, dataset: str, actor: str,
    ) -> Document:
        return cls._create(cls.Created, id=document_id, **cls._added(project, name, text, language, dataset, actor))

    def readd(self, project: Project, text: str, language: str | None, dataset: str, actor: str) -> None:
        assert self.deleted, "only a deleted document can be added again"
        recreate(self, self.Created, **self._added(project, self.name, text, language, dataset, actor))

    @staticmethod
    def _added(project: Project, name: str, text: str, language: str | None, dataset: str, actor: str) -> dict[str, Any]:
        return {
            "project_id": str(project.id),
            "incarnation": project.incarnation,
            "document": name,
            "text": check_document_text(text),
            "language": check_language(language) if language else project.fields["language"],
            "dataset": check_dataset(dataset),
            "actor": actor,
        }

    def same_content(self, text: str, language: str | None, dataset: str) -> bool:
        return self.text == text and self.dataset == dataset and (language is None or self.language == language.lower())

    def _trigger(self, event_class: type[Document.Event], actor: str, **kwargs: Any) -> None:
        self.trigger_event(event_class, actor=actor, project_id=self.project_id, document=self.name, **kwargs)

    def change_dataset(self, dataset: str, actor: str) -> bool:
        check_dataset(dataset)
        if dataset == self.dataset:
            return False
        self._trigger(self.DatasetChanged, actor, dataset=dataset)
        return True

    def delete(self, actor: str) -> None:
        self._trigger(self.Deleted, actor)

    def live_labels(self, project: Project) -> dict[str, dict[str, Any]]:
        """The labels whose entity type still exists (removing an entity removes its labels)."""
        entities = project.entities
        return {
            label_id: label
            for label_id, label in self.labels.items()
            if entities.get(label["entity"]) == label["entity_id"]
        }

    def add_label(
        self, project: Project, entity: str, offset: int, length: int, actor: str, target: str = ""
    ) -> str:
        prefix = f"{target}." if target else ""
        entity_id = project.entity_id(entity, prefix + "category")
        if not 1 <= length <= MAX_LABEL_CHARACTERS:
            raise InvalidArgument(
                f"A label must be 1-{MAX_LABEL_CHARACTERS} characters long, not {length}.", prefix + "length"
            )
        if offset < 0 or offset + length > len(self.text):
            raise InvalidArgument("The label does not lie inside the text.", prefix + "offset")
        end = offset + length
        for label_id, other in self.live_labels(project).items():
            other_end = other["offset"] + other["length"]
            if other["offset"] == offset and other["length"] == length and other["entity"] == entity:
                raise Conflict(f"The same label already exists as {label_id}.", prefix + "offset")
            if offset < other_end and other["offset"] < end and not project.overlap_allowed:
                raise Conflict(
                    f"The label overlaps label {label_id} ({other['entity']}); "
                    "the project's overlap policy rejects overlapping labels.",
                    prefix + "offset",
                )
        label_id = f"L{self.next_label}"
        self._trigger(
            self.LabelAdded, actor, label_id=label_id, entity=entity, entity_id=entity_id,
            offset=offset, length=length,
        )
        return label_id

    def remove_label(self, project: Project, label_id: str, actor: str, target: str = "labelId") -> None:
        if label_id not in self.live_labels(project):
            raise NotFound(f"Document {self.name!r} has no label {label_id!r}.", target)
        label = self.labels[label_id]
        self._trigger(
            self.LabelRemoved, actor, label_id=label_id, entity=label["entity"], entity_id=label["entity_id"],
            offset=label["offset"], length=label["length"],
        )

    def suggest(self, project: Project, entity: str, offset: int, length: int, confidence: float,
                model_label: str, job_id: str, actor: str) -> str | None:
        """Records a model's suggestion, unless a user label already covers the place (the
        user label wins: any overlapping one, or only one of the same entity where the
        project allows overlaps), the entity is gone, or the same span is already pending.
        Answers the suggestion's id, or None when it was not recorded."""
        entity_id = project.entities.get(entity)
        if entity_id is None or length < 1 or offset < 0 or offset + length > len(self.text):
            return None
        end = offset + length
        for label in self.live_labels(project).values():
            overlaps = offset < label["offset"] + label["length"] and label["offset"] < end
            if overlaps and (not project.overlap_allowed or label["entity"] == entity):
                return None
        for other in self.suggestions.values():  # (one of a removed entity type is dead, as labels are)
            if (other["state"] == "pending" and other["offset"] == offset and other["length"] == length
                    and other["entity_id"] == entity_id):
                return None
        suggestion_id = f"S{self.next_suggestion}"
        self._trigger(
            self.AutoLabelSuggested, actor, suggestion_id=suggestion_id, entity=entity, entity_id=entity_id,
            offset=offset, length=length, confidence=round(confidence, 4), model_label=model_label, job_id=job_id,
        )
        return suggestion_id
