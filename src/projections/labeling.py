"""The labeling views: projects, entities, documents, their current labels, entity statistics,
and the auto-label suggestions on documents.

Label and document events (the bulk of any log) are buffered per batch and written with a
few executemany statements; the rare events that need to see the rows as they stand
(dataset changes, deletions, entity removal) first flush the buffer and then use SQL.

The views follow the aggregates' own liveness rules, so a race the command side allows
cannot put the views out of step with it: a label of a removed entity type is dead (see
Document.live_labels), and so is a document added to a project that was deleted meanwhile
(its DocumentAdded names an older incarnation of the project). Events about dead things
change nothing here, exactly as they change nothing the aggregates show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from spanledger.domain.rules import text_records
from spanledger.projections.bulk import insert_rows
from spanledger.projections.runner import Event
from spanledger.projections.tables import (
    deletion_jobs,
    documents,
    entities,
    entity_stats,
    labels,
    projects,
    suggestions,
)

_DOCUMENT_COLUMNS = ("id", "project_id", "name", "language", "dataset", "text", "characters", "text_records",
                     "label_count", "version", "created_at", "modified_at")
_LABEL_COLUMNS = ("document_id", "label_id", "entity", "dataset", "offset", "length", "created_at", "actor",
                  "origin_job", "origin_model")
_SUGGESTION_COLUMNS = ("document_id", "suggestion_id", "project_id", "entity", "offset", "length", "confidence",
                       "model_label", "job_id", "state", "created_at")
_PROJECT_COLUMNS = ("language", "description", "multilingual", "settings",
                    "storage_input_container_name", "overlap_policy")

# The statements of every label batch, built once: building one costs SQLAlchemy several
# times what executing it does (bench/follower_batches.py: small batches are the follower's
# usual ones when clients read their own writes).
_DOCUMENTS_OF_IDS = select(documents.c.id, documents.c.project_id, documents.c.dataset).where(
    documents.c.id.in_(bindparam("ids", expanding=True)))
_INCARNATIONS = select(projects.c.id, projects.c.incarnation).where(projects.c.id.in_(bindparam("ids", expanding=True)))
_ENTITIES = select(entities.c.project_id, entities.c.name, entities.c.entity_id).where(
    entities.c.project_id.in_(bindparam("ids", expanding=True)))
_REMOVE_LABEL = delete(labels).where(labels.c.document_id == bindparam("d"), labels.c.label_id == bindparam("l"))
_TOUCH_DOCUMENT = update(documents).where(documents.c.id == bindparam("d")).values(
    label_count=documents.c.label_count + bindparam("delta"), version=bindparam("v"), modified_at=bindparam("m"))


def _add_stats(dialect: Any) -> Any:
    stmt = dialect.insert(entity_stats)
    return stmt.on_conflict_do_update(
        index_elements=["project_id", "entity", "dataset"],
        set_={"label_count": entity_stats.c.label_count + stmt.excluded.label_count},
    )


_ADD_STATS = {"postgresql": _add_stats(postgresql), "sqlite": _add_stats(sqlite)}


class LabelingProjection:
    name = "labeling"
    tables = (projects, entities, documents, labels, entity_stats, deletion_jobs, suggestions)

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        batch = _Batch(conn)
        batch.prefetch(events)
        for event in events:
            handler = _HANDLERS.get(event.topic)
            if handler is not None:
                handler(batch, event)
        batch.flush()


class _Batch:
    """What one batch knows and has yet to write. The in-memory state starts from the rows
    as they stand before the batch and follows its events in order."""

    def __init__(self, conn: Connection):
        self.conn = conn
        # live documents this batch touches: id -> [project id, dataset]
        self.docs: dict[str, list[str]] = {}
        # live projects this batch touches: id -> incarnation, and their entity types: name -> id
        self.incarnations: dict[str, int] = {}
        self.entities: dict[str, dict[str, str]] = {}
        # rows to insert, as tuples in the order of _DOCUMENT_COLUMNS and _LABEL_COLUMNS
        self.new_documents: list[tuple[Any, ...]] = []
        self.new_labels: dict[tuple[str, str], tuple[Any, ...]] = {}
        self.removed_labels: list[dict[str, str]] = []
        self.new_suggestions: list[tuple[Any, ...]] = []
        # document id -> [label count delta, version, modified at]
        self.touched: dict[str, list[Any]] = {}
        self.stats: Counter[tuple[str, str, str]] = Counter()

    def prefetch(self, events: Sequence[Event]) -> None:
        doc_ids = {e.aggregate_id for e in events if e.topic in _DOCUMENT_CHANGES}
        if doc_ids:
            rows = self.conn.execute(_DOCUMENTS_OF_IDS, {"ids": list(doc_ids)})
            self.docs.update((id_, [project, dataset]) for id_, project, dataset in rows)
        project_ids = {e.data["project_id"] for e in events if e.topic in _DOCUMENT_EVENTS}
        project_ids.update(project for project, _ in self.docs.values())
        if project_ids:
            rows = self.conn.execute(_INCARNATIONS, {"ids": list(project_ids)})
            self.incarnations.update((project, incarnation) for project, incarnation in rows)
            self.entities.update((p, {}) for p in self.incarnations)
            rows = self.conn.execute(_ENTITIES, {"ids": list(self.incarnations)})
            for project, name, entity_id in rows:
                self.entities[project][name] = entity_id

    def live_label(self, e: Event) -> tuple[str, str] | None:
        """(project, dataset) of a label event's document, if the document and the label's
        entity type are alive."""
        doc = self.docs.get(e.aggregate_id)
        if doc is None or self.entities.get(doc[0], {}).get(e.data["entity"]) != e.data["entity_id"]:
            return None
        return doc[0], doc[1]

    def flush_suggestions(self) -> None:
        """Suggestions recorded in this batch, written now: a decision on one updates its row."""
        insert_rows(self.conn, suggestions, _SUGGESTION_COLUMNS, self.new_suggestions)
        self.new_suggestions = []

    def flush(self) -> None:
        conn = self.conn
        insert_rows(conn, documents, _DOCUMENT_COLUMNS, self.new_documents)
        if self.removed_labels:
            conn.execute(_REMOVE_LABEL, self.removed_labels)
        insert_rows(conn, labels, _LABEL_COLUMNS, list(self.new_labels.values()))
        insert_rows(conn, suggestions, _SUGGESTION_COLUMNS, self.new_suggestions)
        if self.touched:
            conn.execute(_TOUCH_DOCUMENT,
                         [{"d": d, "delta": delta, "v": v, "m": m} for d, (delta, v, m) in self.touched.items()])
        if self.stats:
            self._write_stats()
        self.new_documents, self.new_labels, self.removed_labels, self.new_suggestions = [], {}, [], []
        self.touched, self.stats = {}, Counter()

    def _write_stats(self) -> None:
        rows = [{"project_id": p, "entity": e, "dataset": d, "label_count": n} for (p, e, d), n in self.stats.items() if n]
        if rows:
            self.conn.execute(_ADD_STATS[self.conn.dialect.name], rows)
        if any(n < 0 for n in self.stats.values()):
            self.conn.execute(delete(entity_stats).where(entity_stats.c.label_count <= 0))

    def touch(self, event: Event, delta: int = 0) -> None:
        entry = self.touched.get(event.aggregate_id)
        if entry is None:
            self.touched[event.aggregate_id] = [delta, event.version, event.data["timestamp"]]
        else:
            entry[0] += delta
            entry[1] = event.version
            entry[2] = event.data["timestamp"]

    def label_counts(self, where: Any, *group_by: Any) -> list[Any]:
        return list(self.conn.execute(select(*group_by, func.count()).where(where).group_by(*group_by)))

    def forget_project(self, project: str) -> None:
        self.incarnations.pop(project, None)
        self.entities.pop(project, None)
        self.docs = {d: v for d, v in self.docs.items() if v[0] != project}


def _documents_of(project: str) -> Any:
    return select(documents.c.id).where(documents.c.project_id == project)


def _touch_project(b: _Batch, e: Event) -> None:
    b.conn.execute(update(projects).where(projects.c.id == e.aggregate_id).values(modified_at=e.data["timestamp"]))


# -- projects and entities ---------------------------------------------------------------

def _project_created(b: _Batch, e: Event) -> None:
    fields, at = e.data["fields"], e.data["timestamp"]
    b.conn.execute(insert(projects).values(
        id=e.aggregate_id, resource_id=e.data["resource_id"], name=e.data["name"], incarnation=e.version,
        created_at=at, modified_at=at, **{c: fields[c] for c in _PROJECT_COLUMNS},
    ))
    b.incarnations[e.aggregate_id] = e.version
    b.entities[e.aggregate_id] = {}


def _project_updated(b: _Batch, e: Event) -> None:
    changes = {k: v for k, v in e.data["changes"].items() if k in _PROJECT_COLUMNS}
    b.conn.execute(update(projects).where(projects.c.id == e.aggregate_id)
                   .values(modified_at=e.data["timestamp"], **changes))


def _project_deleted(b: _Batch, e: Event) -> None:
    b.flush()
    project = e.aggregate_id
    row = b.conn.execute(select(projects.c.resource_id, projects.c.name).where(projects.c.id == project)).one()
    b.conn.execute(delete(labels).where(labels.c.document_id.in_(_documents_of(project))))
    for table in (documents, entities, entity_stats, suggestions):
        b.conn.execute(delete(table).where(table.c.project_id == project))
    b.conn.execute(delete(projects).where(projects.c.id == project))
    b.conn.execute(insert(deletion_jobs).values(
        job_id=e.data["job_id"], resource_id=row.resource_id, project_name=row.name, created_at=e.data["timestamp"],
    ))
    b.forget_project(project)


def _entity_added(b: _Batch, e: Event) -> None:
    b.conn.execute(insert(entities).values(
        project_id=e.aggregate_id, name=e.data["name"], entity_id=e.data["entity_id"], created_at=e.data["timestamp"],
    ))
    b.entities.setdefault(e.aggregate_id, {})[e.data["name"]] = e.data["entity_id"]
    _touch_project(b, e)


def _entity_removed(b: _Batch, e: Event) -> None:
    """Removing an entity type removes all its labels."""
    b.flush()
    project, entity = e.aggregate_id, e.data["name"]
    of_entity = labels.c.document_id.in_(_documents_of(project)) & (labels.c.entity == entity)
    per_document = b.label_counts(of_entity, labels.c.document_id)
    if per_document:
        b.conn.execute(
            update(documents).where(documents.c.id == bindparam("d"))
            .values(label_count=documents.c.label_count - bindparam("n")),
            [{"d": d, "n": n} for d, n in per_document],
        )
    b.conn.execute(delete(labels).where(of_entity))
    b.conn.execute(delete(suggestions).where((suggestions.c.project_id == project) & (suggestions.c.entity == entity)))
    b.conn.execute(delete(entity_stats).where((entity_stats.c.project_id == project) & (entity_stats.c.entity == entity)))
    b.conn.execute(delete(entities).where((entities.c.project_id == project) & (entities.c.name == entity)))
    b.entities.get(project, {}).pop(entity, None)
    _touch_project(b, e)


# -- documents and labels ------------------------------------------------------------------

def _document_added(b: _Batch, e: Event) -> None:
    d = e.data
    if b.incarnations.get(d["project_id"]) != d["incarnation"]:
        return  # added while its project was deleted: it belongs to no live project
    characters = len(d["text"])
    b.new_documents.append((
        e.aggregate_id, d["project_id"], d["document"], d["language"], d["dataset"], d["text"],
        characters, text_records(characters), 0, e.version, d["timestamp"], d["timestamp"],
    ))
    b.docs[e.aggregate_id] = [d["project_id"], d["dataset"]]


def _document_dataset_changed(b: _Batch, e: Event) -> None:
    doc = b.docs.get(e.aggregate_id)
    if doc is None:
        return
    b.flush()
    project, old, new = doc[0], doc[1], e.data["dataset"]
    for entity, n in b.label_counts(labels.c.document_id == e.aggregate_id, labels.c.entity):
        b.stats[(project, entity, old)] -= n
        b.stats[(project, entity, new)] += n
    b.conn.execute(update(labels).where(labels.c.document_id == e.aggregate_id).values(dataset=new))
    b.conn.execute(update(documents).where(documents.c.id == e.aggregate_id).values(
        dataset=new, version=e.version, modified_at=e.data["timestamp"]))
    doc[1] = new


def _document_deleted(b: _Batch, e: Event) -> None:
    doc = b.docs.pop(e.aggregate_id, None)
    if doc is None:
        return
    b.flush()
    project, dataset = doc
    for entity, n in b.label_counts(labels.c.document_id == e.aggregate_id, labels.c.entity):
        b.stats[(project, entity, dataset)] -= n
    for table in (labels, suggestions):
        b.conn.execute(delete(table).where(table.c.document_id == e.aggregate_id))
    b.conn.execute(delete(documents).where(documents.c.id == e.aggregate_id))


def _label_added(b: _Batch, e: Event) -> None:
    live = b.live_label(e)
    if live is None:
        return
    project, dataset = live
    d = e.data
    accepted = e.topic == "AutoLabelAccepted"
    b.new_labels[(e.aggregate_id, d["label_id"])] = (
        e.aggregate_id, d["label_id"], d["entity"], dataset, d["offset"], d["length"], d["timestamp"], d["actor"],
        d["job_id"] if accepted else None, d["model_label"] if accepted else None,
    )
    if accepted:
        b.flush_suggestions()
        _suggestion_states(b, e, [d["suggestion_id"]], "accepted")
    b.touch(e, +1)
    b.stats[(project, d["entity"], dataset)] += 1


def _label_removed(b: _Batch, e: Event) -> None:
    live = b.live_label(e)
    if live is None:
        return  # its entity type went first, and took the label with it
    project, dataset = live
    d = e.data
    if b.new_labels.pop((e.aggregate_id, d["label_id"]), None) is None:
        b.removed_labels.append({"d": e.aggregate_id, "l": d["label_id"]})
    b.touch(e, -1)
    b.stats[(project, d["entity"], dataset)] -= 1


def _suggested(b: _Batch, e: Event) -> None:
    live = b.live_label(e)
    if live is None:
        return
    d = e.data
    b.new_suggestions.append((
        e.aggregate_id, d["suggestion_id"], live[0], d["entity"], d["offset"], d["length"], d["confidence"],
        d["model_label"], d["job_id"], "pending", d["timestamp"],
    ))
    b.touch(e)  # the document's version moved (its ETag)


def _suggestion_states(b: _Batch, e: Event, suggestion_ids: list[str], state: str) -> None:
    b.conn.execute(
        update(suggestions).where(suggestions.c.document_id == e.aggregate_id,
                                  suggestions.c.suggestion_id.in_(suggestion_ids)).values(state=state))


def _decided(state: str) -> Callable[[_Batch, Event], None]:
    def handler(b: _Batch, e: Event) -> None:
        if e.aggregate_id not in b.docs:
            return
        b.flush_suggestions()
        ids = e.data["suggestion_ids"] if "suggestion_ids" in e.data else [e.data["suggestion_id"]]
        _suggestion_states(b, e, ids, state)
        b.touch(e)
    return handler


def _decision_undone(b: _Batch, e: Event) -> None:
    """The suggestion is pending again; the label its acceptance made, if still there, goes."""
    doc = b.docs.get(e.aggregate_id)
    if doc is None:
        return
    b.flush()
    _suggestion_states(b, e, [e.data["suggestion_id"]], "pending")
    label_id = e.data["label_id"]
    entity = label_id and b.conn.scalar(select(labels.c.entity).where(
        labels.c.document_id == e.aggregate_id, labels.c.label_id == label_id))
    if entity:
        b.conn.execute(delete(labels).where(labels.c.document_id == e.aggregate_id, labels.c.label_id == label_id))
        b.touch(e, -1)
        b.stats[(doc[0], entity, doc[1])] -= 1
    else:
        b.touch(e)


_HANDLERS: dict[str, Callable[[_Batch, Event], None]] = {
    "ProjectCreated": _project_created,
    "ProjectUpdated": _project_updated,
    "ProjectDeleted": _project_deleted,
    "EntityAdded": _entity_added,
    "EntityRemoved": _entity_removed,
    "DocumentAdded": _document_added,
    "DocumentDatasetChanged": _document_dataset_changed,
    "DocumentDeleted": _document_deleted,
    "LabelAdded": _label_added,
    "LabelRemoved": _label_removed,
    "AutoLabelSuggested": _suggested,
    "AutoLabelAccepted": _label_added,
    "AutoLabelRejected": _decided("rejected"),
    "AutoLabelSuperseded": _decided("superseded"),
    "AutoLabelDiscarded": _decided("discarded"),
    "AutoLabelDecisionUndone": _decision_undone,
}
_DOCUMENT_EVENTS = {"DocumentAdded", "DocumentDatasetChanged", "DocumentDeleted", "LabelAdded", "LabelRemoved",
                    "AutoLabelSuggested", "AutoLabelAccepted", "AutoLabelRejected", "AutoLabelSuperseded",
                    "AutoLabelDiscarded", "AutoLabelDecisionUndone"}
_DOCUMENT_CHANGES = _DOCUMENT_EVENTS - {"DocumentAdded"}
