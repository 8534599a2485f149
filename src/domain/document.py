"""The Document aggregate: its text, its dataset, its user labels and the auto-label
suggestions models made on it.

Offsets here are Python string indexes (code points); the API converts other units at the edge.
Every event names its project and document so the log reads on its own (audit, replay).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Any
from uuid import UUID
from weakref import finalize

from eventsourcing.domain import Aggregate

from spanledger.domain.aggregate import Recreatable, recreate, snapshot_class
from spanledger.domain.errors import Conflict, InvalidArgument, NotFound
from spanledger.domain.project import Project
from spanledger.domain.rules import (
    MAX_LABEL_CHARACTERS,
    MAX_LABELS_PER_DOCUMENT,
    check_dataset,
    check_document_text,
    check_language,
)

PENDING, ACCEPTED, REJECTED, SUPERSEDED, DISCARDED = "pending", "accepted", "rejected", "superseded", "discarded"


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
            doc.decisions = []  # suggestion ids accepted or rejected, latest last (see undo)
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
        # Why, when a user did not remove it alone: "entityRemoved" (its entity type was deleted).
        cause: str | None = None

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
                "state": PENDING,
            }
            doc.next_suggestion += 1

    class AutoLabelAccepted(Event):
        """The suggestion becomes a user label (it then behaves exactly as one)."""

        TOPIC = "AutoLabelAccepted"
        suggestion_id: str
        label_id: str
        entity: str
        entity_id: str
        offset: int
        length: int
        model_label: str
        job_id: str

        def apply(self, doc: Document) -> None:
            suggestion = doc.suggestions[self.suggestion_id]
            suggestion["state"], suggestion["label_id"] = ACCEPTED, self.label_id
            doc.labels[self.label_id] = {
                "entity": self.entity, "entity_id": self.entity_id, "offset": self.offset, "length": self.length,
                "origin": {"suggestion_id": self.suggestion_id, "job_id": self.job_id, "model_label": self.model_label},
            }
            doc.next_label += 1
            doc.decisions.append(self.suggestion_id)

    class AutoLabelRejected(Event):
        """v2 names the model, job and entity id the rejected suggestion came from, as an
        acceptance does, so that the log reads on its own; a v1 event (stored without a
        class_version) named the suggestion and its span only: they read as None."""

        TOPIC = "AutoLabelRejected"
        class_version = 2
        suggestion_id: str
        entity: str
        offset: int
        length: int
        entity_id: str | None
        model_label: str | None
        job_id: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(entity_id=None, model_label=None, job_id=None)

        def apply(self, doc: Document) -> None:
            doc.suggestions[self.suggestion_id]["state"] = REJECTED
            doc.decisions.append(self.suggestion_id)

    class AutoLabelSuperseded(Event):
        """A user label now covers the suggestion's place: it is no longer shown or counted."""

        TOPIC = "AutoLabelSuperseded"
        suggestion_id: str
        label_id: str

        def apply(self, doc: Document) -> None:
            doc.suggestions[self.suggestion_id]["state"] = SUPERSEDED

    class AutoLabelDecisionUndone(Event):
        """The last decision on the document taken back: the suggestion is pending again, and
        the label its acceptance made (if the user has not removed it since) is gone."""

        TOPIC = "AutoLabelDecisionUndone"
        suggestion_id: str
        decision: str
        label_id: str | None

        def apply(self, doc: Document) -> None:
            suggestion = doc.suggestions[self.suggestion_id]
            suggestion["state"] = PENDING
            suggestion.pop("label_id", None)
            if self.label_id is not None:
                doc.labels.pop(self.label_id, None)
            doc.decisions.pop()

    class AutoLabelDiscarded(Event):
        """Suggestions still pending when a training started: dropped, never trained on."""

        TOPIC = "AutoLabelDiscarded"
        suggestion_ids: list[str]
        training_job_id: str
        reason: str

        def apply(self, doc: Document) -> None:
            for suggestion_id in self.suggestion_ids:
                doc.suggestions[suggestion_id]["state"] = DISCARDED

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
        # (pending, accepted, rejected, superseded or discarded) and, once accepted, "label_id"
        self.suggestions: dict[str, dict[str, Any]]
        self.decisions: list[str]
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
        _SPANS.pop(id(self), None)
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
        if event_class in (self.LabelRemoved, self.AutoLabelDecisionUndone, self.Deleted):
            _SPANS.pop(id(self), None)  # labels went: the index is rebuilt when next needed

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

    def _spans(self, project: Project) -> LabelSpans:
        """The live labels as a span index, built once per loaded document (and project state)."""
        key = tuple(project.entities.items())
        spans = _SPANS.get(id(self))
        if spans is None or spans.key != key:
            if spans is None:
                finalize(self, _SPANS.pop, id(self), None)
            spans = _SPANS[id(self)] = LabelSpans(key, self.live_labels(project))
        return spans

    def _check_label(self, project: Project, entity: str, offset: int, length: int, prefix: str) -> str:
        """The entity's id, if a label of it may go there; else the error, naming the field.
        O(log n) in the document's labels (a save of n labels is O(n log n))."""
        entity_id = project.entity_id(entity, prefix + "category")
        if not 1 <= length <= MAX_LABEL_CHARACTERS:
            raise InvalidArgument(
                f"A label must be 1-{MAX_LABEL_CHARACTERS} characters long, not {length}.", prefix + "length"
            )
        if offset < 0 or offset + length > len(self.text):
            raise InvalidArgument("The label does not lie inside the text.", prefix + "offset")
        spans = self._spans(project)
        same = spans.same.get((offset, length, entity))
        if same:
            raise Conflict(f"The same label already exists as {same}.", prefix + "offset")
        other = None if project.overlap_allowed else spans.overlapping(offset, offset + length)
        if other:
            raise Conflict(
                f"The label overlaps label {other} ({self.labels[other]['entity']}); "
                "the project's overlap policy rejects overlapping labels.",
                prefix + "offset",
            )
        if len(spans) >= MAX_LABELS_PER_DOCUMENT:
            raise Conflict(f"Document {self.name!r} holds {len(spans)} labels, the most a document may hold.",
                           prefix + "offset")
        return entity_id

    def add_label(
        self, project: Project, entity: str, offset: int, length: int, actor: str, target: str = ""
    ) -> str:
        entity_id = self._check_label(project, entity, offset, length, f"{target}." if target else "")
        label_id = f"L{self.next_label}"
        self._trigger(
            self.LabelAdded, actor, label_id=label_id, entity=entity, entity_id=entity_id,
            offset=offset, length=length,
        )
        self._spans(project).add(label_id, entity, offset, length)
        self._supersede(project, label_id, actor)
        return label_id

    def remove_label(self, project: Project, label_id: str, actor: str, target: str = "labelId") -> None:
        label = self.labels.get(label_id)
        if label is None or project.entities.get(label["entity"]) != label["entity_id"]:
            raise NotFound(f"Document {self.name!r} has no label {label_id!r}.", target)
        self._trigger(
            self.LabelRemoved, actor, label_id=label_id, entity=label["entity"], entity_id=label["entity_id"],
            offset=label["offset"], length=label["length"],
        )

    def remove_entity_labels(self, project: Project, entity: str, actor: str) -> bool:
        """Records the removal of each label of an entity type about to be deleted (the
        removal names the deletion as its cause); answers whether there were any."""
        entity_id = project.entities.get(entity)
        doomed = [(k, v) for k, v in self.labels.items() if v["entity"] == entity and v["entity_id"] == entity_id]
        for label_id, label in doomed:
            self._trigger(self.LabelRemoved, actor, label_id=label_id, entity=entity, entity_id=entity_id,
                          offset=label["offset"], length=label["length"], cause="entityRemoved")
        return bool(doomed)

    def suggest(self, project: Project, entity: str, offset: int, length: int, confidence: float,
                model_label: str, job_id: str, actor: str) -> str | None:
        """Records a model's suggestion, unless a user label already covers the place (the
        user label wins: any overlapping one, or only one of the same entity where the
        project allows overlaps), the entity is gone, or the same span is already pending.
        Answers the suggestion's id, or None when it was not recorded."""
        entity_id = project.entities.get(entity)
        if entity_id is None or length < 1 or offset < 0 or offset + length > len(self.text):
            return None
        if any(_blocks(project, label, entity, offset, length) for label in self.live_labels(project).values()):
            return None
        for other in self.pending_suggestions(project).values():
            if other["offset"] == offset and other["length"] == length and other["entity_id"] == entity_id:
                return None
        suggestion_id = f"S{self.next_suggestion}"
        self._trigger(
            self.AutoLabelSuggested, actor, suggestion_id=suggestion_id, entity=entity, entity_id=entity_id,
            offset=offset, length=length, confidence=round(confidence, 4), model_label=model_label, job_id=job_id,
        )
        return suggestion_id

    # -- review -------------------------------------------------------------------------

    def pending_suggestions(self, project: Project) -> dict[str, dict[str, Any]]:
        """Pending suggestions whose entity type still exists (one of a removed type is dead,
        as its labels are)."""
        entities = project.entities
        return {
            suggestion_id: s for suggestion_id, s in self.suggestions.items()
            if s["state"] == PENDING and entities.get(s["entity"]) == s["entity_id"]
        }

    def _pending(self, project: Project, suggestion_id: str, target: str) -> dict[str, Any]:
        suggestion = self.suggestions.get(suggestion_id)
        if suggestion is None or project.entities.get(suggestion["entity"]) != suggestion["entity_id"]:
            raise NotFound(f"Document {self.name!r} has no suggestion {suggestion_id!r}.", target)
        if suggestion["state"] != PENDING:
            raise Conflict(f"Suggestion {suggestion_id} is {suggestion['state']}, not pending.", target)
        return suggestion

    def _supersede(self, project: Project, label_id: str, actor: str) -> None:
        """The pending suggestions the label now covers give way to it (the user label wins)."""
        if not self.suggestions:  # most documents, and every one being imported
            return
        label = self.labels[label_id]
        for suggestion_id, s in self.pending_suggestions(project).items():
            if _blocks(project, label, s["entity"], s["offset"], s["length"]):
                self._trigger(self.AutoLabelSuperseded, actor, suggestion_id=suggestion_id, label_id=label_id)

    def accept(self, project: Project, suggestion_id: str, actor: str, target: str = "suggestionId") -> str:
        """Makes the suggestion a user label; refused, not merged, where a label is in the way."""
        s = self._pending(project, suggestion_id, target)
        entity_id = self._check_label(project, s["entity"], s["offset"], s["length"], f"{target}.")
        label_id = f"L{self.next_label}"
        self._trigger(self.AutoLabelAccepted, actor, suggestion_id=suggestion_id, label_id=label_id,
                      entity=s["entity"], entity_id=entity_id, offset=s["offset"], length=s["length"],
                      model_label=s["model_label"], job_id=s["job_id"])
        self._spans(project).add(label_id, s["entity"], s["offset"], s["length"])
        self._supersede(project, label_id, actor)
        return label_id

    def reject(self, project: Project, suggestion_id: str, actor: str, target: str = "suggestionId") -> None:
        s = self._pending(project, suggestion_id, target)
        self._trigger(self.AutoLabelRejected, actor, suggestion_id=suggestion_id, entity=s["entity"],
                      offset=s["offset"], length=s["length"], entity_id=s["entity_id"], model_label=s["model_label"],
                      job_id=s["job_id"])

    def accept_all(self, project: Project, actor: str) -> list[str]:
        """Accepts every pending suggestion, in text order; one that an earlier acceptance
        covered is superseded by it rather than accepted. Answers the new label ids."""
        added = []
        for suggestion_id in sorted(self.pending_suggestions(project),
                                    key=lambda i: (self.suggestions[i]["offset"], -self.suggestions[i]["length"])):
            if self.suggestions[suggestion_id]["state"] == PENDING:
                added.append(self.accept(project, suggestion_id, actor))
        return added

    def reject_all(self, project: Project, actor: str) -> int:
        pending = list(self.pending_suggestions(project))
        for suggestion_id in pending:
            self.reject(project, suggestion_id, actor)
        return len(pending)

    def undo(self, project: Project, count: int, actor: str) -> list[str]:
        """Takes back the last `count` decisions (by new events: the log is never edited);
        answers the suggestion ids now pending again."""
        if not self.decisions:
            raise Conflict(f"Document {self.name!r} has no review decision to undo.", "count")
        undone = []
        for suggestion_id in self.decisions[::-1][:count]:
            s = self.suggestions[suggestion_id]
            label_id = s.get("label_id")
            live = label_id if label_id in self.live_labels(project) else None
            self._trigger(self.AutoLabelDecisionUndone, actor, suggestion_id=suggestion_id, decision=s["state"],
                          label_id=live)
            undone.append(suggestion_id)
            blocking = next((i for i, label in self.live_labels(project).items()
                             if _blocks(project, label, s["entity"], s["offset"], s["length"])), None)
            if blocking is not None:  # a user label covers it now: it cannot be pending there
                self._trigger(self.AutoLabelSuperseded, actor, suggestion_id=suggestion_id, label_id=blocking)
        return undone

    def discard_pending(self, project: Project, training_job_id: str, actor: str) -> int:
        pending = sorted(self.pending_suggestions(project))
        if pending:
            self._trigger(self.AutoLabelDiscarded, actor, suggestion_ids=pending, training_job_id=training_job_id,
                          reason="Still pending when a training started: not trained on, dropped.")
        return len(pending)


def _blocks(project: Project, label: dict[str, Any], entity: str, offset: int, length: int) -> bool:
    """Whether a user label keeps a suggestion from a place: any overlapping label, or where
    the project allows overlaps, only one of the same entity."""
    overlaps = offset < label["offset"] + label["length"] and label["offset"] < offset + length
    return overlaps and (not project.overlap_allowed or label["entity"] == entity)


class LabelSpans:
    """A document's live labels sorted by offset, for checking a new label in O(log n) rather
    than against every label. Kept beside a loaded document (never in its state, so never in
    a snapshot); a command that removes labels drops it and the next check rebuilds it."""

    def __init__(self, key: tuple[Any, ...], live: dict[str, dict[str, Any]]):
        self.key = key  # the project's entities it was built for
        self.by_start = sorted((v["offset"], v["offset"] + v["length"], k) for k, v in live.items())
        self.same = {(v["offset"], v["length"], v["entity"]): k for k, v in live.items()}

    def __len__(self) -> int:
        return len(self.by_start)

    def overlapping(self, start: int, end: int) -> str | None:
        """A label overlapping [start, end), among labels that do not overlap each other (the
        reject policy keeps them so): their ends rise with their starts, so the search stops
        only needs the last label that starts before `end`."""
        i = bisect_left(self.by_start, (end,))  # the first label starting at or after `end`
        if i == 0:
            return None
        _, other_end, label_id = self.by_start[i - 1]
        return label_id if other_end > start else None

    def add(self, label_id: str, entity: str, offset: int, length: int) -> None:
        insort(self.by_start, (offset, offset + length, label_id))
        self.same[(offset, length, entity)] = label_id


# By the document object's id, dropped when the object goes (aggregates are not hashable).
_SPANS: dict[int, LabelSpans] = {}
