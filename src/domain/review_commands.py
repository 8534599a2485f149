"""Reviewing auto-labels (mixed into Spanledger): accept or reject one suggestion, all of a
document's, take decisions back. Saving several decisions with label edits at once is
`save_labels`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from spanledger.domain.errors import InvalidArgument, PreconditionFailed

if TYPE_CHECKING:
    from spanledger.domain.application import Spanledger
    from spanledger.domain.document import Document
    from spanledger.domain.project import Project

MAX_UNDO = 100


@dataclass(frozen=True)
class SuggestionMatch:
    """Which pending suggestions: of an entity, a job, a model, a confidence range."""

    entity: str | None = None
    job: str | None = None
    model: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None

    def matches(self, s: dict[str, Any]) -> bool:
        return ((self.entity is None or s["entity"] == self.entity)
                and (self.job is None or s["job_id"] == self.job)
                and (self.model is None or s["model_label"] == self.model)
                and (self.min_confidence is None or s["confidence"] >= self.min_confidence)
                and (self.max_confidence is None or s["confidence"] <= self.max_confidence))


@dataclass(frozen=True)
class Reviewed:
    labels: list[str]  # labels that accepted suggestions became
    suggestions: list[str]  # the suggestions decided (or made pending again, by an undo)
    version: int
    position: int | None


class ReviewCommands:
    def _reviewing(self: Spanledger, resource_id: UUID, project_name: str, name: str,
                   if_match: int | None) -> tuple[Project, Document]:
        project, document = self.get_document(resource_id, project_name, name)
        if if_match is not None and if_match != document.version:
            raise PreconditionFailed(
                f"Document {name!r} is at version {document.version}, not {if_match}; reload it.", "If-Match")
        return project, document

    def accept_suggestion(self: Spanledger, resource_id: UUID, project_name: str, name: str, suggestion_id: str,
                          actor: str, if_match: int | None = None) -> Reviewed:
        project, document = self._reviewing(resource_id, project_name, name, if_match)
        label_id = document.accept(project, suggestion_id, actor)
        return Reviewed([label_id], [suggestion_id], document.version, self._save(document))

    def reject_suggestion(self: Spanledger, resource_id: UUID, project_name: str, name: str, suggestion_id: str,
                          actor: str, if_match: int | None = None) -> Reviewed:
        project, document = self._reviewing(resource_id, project_name, name, if_match)
        document.reject(project, suggestion_id, actor)
        return Reviewed([], [suggestion_id], document.version, self._save(document))

    def accept_all_suggestions(self: Spanledger, resource_id: UUID, project_name: str, name: str, actor: str,
                               if_match: int | None = None) -> Reviewed:
        project, document = self._reviewing(resource_id, project_name, name, if_match)
        pending = sorted(document.pending_suggestions(project))
        labels = document.accept_all(project, actor)
        decided = [i for i in pending if document.suggestions[i]["state"] == "accepted"]
        return Reviewed(labels, decided, document.version, self._save(document))

    def reject_all_suggestions(self: Spanledger, resource_id: UUID, project_name: str, name: str, actor: str,
                               if_match: int | None = None) -> Reviewed:
        project, document = self._reviewing(resource_id, project_name, name, if_match)
        pending = sorted(document.pending_suggestions(project))
        document.reject_all(project, actor)
        return Reviewed([], pending, document.version, self._save(document))

    def undo_review(self: Spanledger, resource_id: UUID, project_name: str, name: str, count: int, actor: str,
                    if_match: int | None = None) -> Reviewed:
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_UNDO:
            raise InvalidArgument(f"count must be a whole number from 1 to {MAX_UNDO}.", "count")
        project, document = self._reviewing(resource_id, project_name, name, if_match)
        undone = document.undo(project, count, actor)
        return Reviewed([], undone, document.version, self._save(document))

    def review_matching(self: Spanledger, resource_id: UUID, project_name: str, name: str, decision: str,
                        match: SuggestionMatch, actor: str) -> Reviewed:
        """Accepts or rejects the document's pending suggestions that match, in text order
        (one an earlier acceptance covered is superseded rather than accepted)."""
        project, document = self._reviewing(resource_id, project_name, name, None)
        chosen = sorted((i for i, s in document.pending_suggestions(project).items() if match.matches(s)),
                        key=lambda i: (document.suggestions[i]["offset"], -document.suggestions[i]["length"]))
        labels, decided = [], []
        for suggestion_id in chosen:
            if document.suggestions[suggestion_id]["state"] != "pending":
                continue
            if decision == "accept":
                labels.append(document.accept(project, suggestion_id, actor))
            else:
                document.reject(project, suggestion_id, actor)
            decided.append(suggestion_id)
        return Reviewed(labels, decided, document.version, self._save(document))
