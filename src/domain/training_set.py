"""The data a training job trains and tests on, found by replaying the log.

Replaying the project's events up to the job's log position, through the aggregates' own
event handlers, gives each document as it stood then, with its live labels: exactly what
the read model would have shown at that position, without depending on it. The same replay
answers the training-set route later, and its fingerprint must equal the one in ModelTrained.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, Mapper

from spanledger.domain.document import Document
from spanledger.domain.errors import InvalidArgument
from spanledger.domain.project import Project

# Every event of projects and documents: replaying an aggregate needs its whole stream.
_TOPICS = sorted({
    member.TOPIC for aggregate in (Project, Document) for name, member in vars(aggregate).items()
    if isinstance(member, type) and issubclass(member, Aggregate.Event) and name != "Event"
})
_BATCH = 5000


@dataclass(frozen=True)
class TrainingDocument:
    name: str
    text: str
    dataset: str
    labels: tuple[tuple[int, int, str], ...]  # (offset, length, entity), code points, sorted


@dataclass(frozen=True)
class Split:
    train: list[TrainingDocument]
    test: list[TrainingDocument]


def _events(recorder: ApplicationRecorder, mapper: Mapper, up_to: int) -> Iterator[Any]:
    after = 0
    while True:
        batch = recorder.select_notifications(after, _BATCH, stop=up_to, topics=_TOPICS, inclusive_of_start=False)
        if not batch:
            return
        for notification in batch:
            yield mapper.to_domain_event(notification)
        after = batch[-1].id


def replay_documents(recorder: ApplicationRecorder, mapper: Mapper, project_id: UUID, incarnation: int,
                     up_to: int) -> tuple[Project | None, list[Document]]:
    """The project and its live documents as of log position `up_to`, rebuilt from the log
    alone (no snapshots, no read model)."""
    project: Project | None = None
    documents: dict[UUID, Document] = {}
    pid = str(project_id)
    for event in _events(recorder, mapper, up_to):
        if event.originator_id == project_id:
            project = event.mutate(project)
        elif getattr(event, "project_id", None) == pid:
            if isinstance(event, Document.Created) and event.incarnation != incarnation:
                continue  # a document of another life of the project
            if event.originator_id in documents or isinstance(event, Document.Created):
                documents[event.originator_id] = event.mutate(documents.get(event.originator_id))
    if project is None or project.deleted or project.incarnation != incarnation:
        return None, []
    return project, [doc for doc in documents.values() if not doc.deleted]


def replay(recorder: ApplicationRecorder, mapper: Mapper, project_id: UUID, incarnation: int,
           up_to: int) -> list[TrainingDocument]:
    """The project's labeled documents as of log position `up_to`, sorted by name: user
    labels and accepted suggestions (which are user labels), never a pending suggestion."""
    project, documents = replay_documents(recorder, mapper, project_id, incarnation, up_to)
    result = []
    for doc in documents:
        labels = doc.live_labels(project)
        if labels:
            spans = tuple(sorted((label["offset"], label["length"], label["entity"]) for label in labels.values()))
            result.append(TrainingDocument(doc.name, doc.text, doc.dataset, spans))
    return sorted(result, key=lambda d: d.name)


def pending_suggestions(recorder: ApplicationRecorder, mapper: Mapper, project_id: UUID, incarnation: int,
                        up_to: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Per document name, its suggestions pending as of `up_to`: what a training started
    there drops."""
    project, documents = replay_documents(recorder, mapper, project_id, incarnation, up_to)
    return {doc.name: pending for doc in documents if (pending := doc.pending_suggestions(project))}


def fingerprint(documents: list[TrainingDocument]) -> str:
    """A digest of names, datasets, texts and labels: equal training sets, equal fingerprints."""
    canonical = [[d.name, d.dataset, hashlib.sha256(d.text.encode()).hexdigest(), [list(s) for s in d.labels]]
                 for d in documents]
    return hashlib.sha256(orjson.dumps(canonical)).hexdigest()


def split(documents: list[TrainingDocument], evaluation: dict[str, Any], seed: int) -> Split:
    """Manual: each document's dataset. Percentage: a shuffle with the given seed."""
    if evaluation["kind"] == "manual":
        parts = Split([d for d in documents if d.dataset == "Train"], [d for d in documents if d.dataset == "Test"])
    else:
        shuffled = list(documents)
        random.Random(seed).shuffle(shuffled)
        n_test = round(len(shuffled) * evaluation["testingSplitPercentage"] / 100)
        n_test = min(max(n_test, 1), len(shuffled) - 1)
        parts = Split(sorted(shuffled[n_test:], key=lambda d: d.name), sorted(shuffled[:n_test], key=lambda d: d.name))
    if not parts.train:
        raise InvalidArgument("The training split holds no labeled document.", "evaluationOptions")
    if not parts.test:
        raise InvalidArgument("The evaluation split leaves the test set without a labeled document.",
                              "evaluationOptions")
    return parts
