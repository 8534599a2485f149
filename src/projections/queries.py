"""Queries over the read model. They read projection tables only, never the event log.

Paged queries fetch one row more than asked, so callers know whether a next page exists.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, exists, func, select

from spanledger.domain.application import LabelStatistics
from spanledger.domain.review_commands import SuggestionMatch
from spanledger.projections.tables import (
    autolabel_jobs,
    deletion_jobs,
    documents,
    entities,
    entity_stats,
    labels,
    models,
    projects,
    quota_limits,
    quota_usage,
    suggestions,
    training_jobs,
)

# The queries of the most frequent requests (a project, a document and its labels) and of the
# workers' look for jobs after every batch the follower applies, built once: building a
# statement costs SQLAlchemy more than running it does on an indexed lookup.
_PROJECT = select(projects).where(projects.c.id == bindparam("project_id"))
_DOCUMENT = select(documents).where(documents.c.project_id == bindparam("project_id"),
                                    documents.c.name == bindparam("name"))
_DOCUMENT_LABELS = (
    select(labels.c.label_id, labels.c.entity, labels.c.offset, labels.c.length,
           labels.c.created_at, labels.c.actor, labels.c.origin_job, labels.c.origin_model)
    .where(labels.c.document_id == bindparam("document_id"))
    .order_by(labels.c.offset, labels.c.length, labels.c.label_id)
)
_DOCUMENT_SUGGESTIONS = (
    select(suggestions.c.suggestion_id, suggestions.c.entity, suggestions.c.offset, suggestions.c.length,
           suggestions.c.confidence, suggestions.c.model_label, suggestions.c.job_id, suggestions.c.state,
           suggestions.c.created_at)
    .where(suggestions.c.document_id == bindparam("document_id"))
    .order_by(suggestions.c.offset, suggestions.c.length, suggestions.c.suggestion_id)
)
_COUNT_DOCUMENTS = select(func.count()).select_from(documents).where(documents.c.project_id == bindparam("project_id"))


def _claimable(jobs: Any) -> Any:
    """The query of claimable_training_jobs and claimable_autolabel_jobs, on their table."""
    j = jobs.c
    stale = j.status.in_(("running", "cancelling")) & (j.lease_expires < bindparam("now"))
    return select(j.job_id).where((j.status == "notStarted") | stale).order_by(j.created_at).limit(bindparam("limit"))


@dataclass(frozen=True)
class Page:
    rows: list[Row[Any]]
    more: bool


def _page(conn: Connection, query: Any, skip: int, limit: int) -> Page:
    rows = list(conn.execute(query.offset(skip).limit(limit + 1)))
    return Page(rows[:limit], len(rows) > limit)


def list_projects(conn: Connection, resource_id: str, skip: int, limit: int) -> Page:
    query = select(projects).where(projects.c.resource_id == resource_id).order_by(projects.c.name)
    return _page(conn, query, skip, limit)


def get_project(conn: Connection, project_id: str) -> Row[Any] | None:
    return conn.execute(_PROJECT, {"project_id": project_id}).first()


def entity_statistics(conn: Connection, project_id: str) -> list[dict[str, Any]]:
    """Every entity type of the project with its label count per dataset."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = conn.execute(
        select(entity_stats.c.entity, entity_stats.c.dataset, entity_stats.c.label_count)
        .where(entity_stats.c.project_id == project_id)
    )
    for entity, dataset, n in rows:
        counts[entity][dataset] = n
    names = conn.scalars(select(entities.c.name).where(entities.c.project_id == project_id).order_by(entities.c.name))
    return [{"category": name, "labels": counts.get(name, {})} for name in names]


def count_documents(conn: Connection, project_id: str) -> int:
    return conn.scalar(_COUNT_DOCUMENTS, {"project_id": project_id}) or 0


def documents_with_entity(conn: Connection, project_id: str, entity: str) -> list[str]:
    """The names of the project's documents that hold labels of `entity`."""
    query = (select(documents.c.name).distinct().join(labels, labels.c.document_id == documents.c.id)
             .where(documents.c.project_id == project_id, labels.c.entity == entity).order_by(documents.c.name))
    return list(conn.scalars(query))


def overlapping_labels(conn: Connection, project_id: str, limit: int = 5) -> list[tuple[str, str, str]]:
    """A few pairs of labels that overlap in one document: (document name, label id, label id)."""
    a, b = labels.alias("a"), labels.alias("b")
    query = (
        select(documents.c.name, a.c.label_id, b.c.label_id)
        .join(a, a.c.document_id == documents.c.id)
        .join(b, and_(b.c.document_id == a.c.document_id, a.c.label_id < b.c.label_id,
                      a.c.offset < b.c.offset + b.c.length, b.c.offset < a.c.offset + a.c.length))
        .where(documents.c.project_id == project_id)
        .order_by(documents.c.name, a.c.label_id, b.c.label_id)
        .limit(limit)
    )
    return [tuple(row) for row in conn.execute(query)]


def label_statistics(conn: Connection, project_id: str) -> LabelStatistics:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for entity, dataset, n in conn.execute(
        select(entity_stats.c.entity, entity_stats.c.dataset, entity_stats.c.label_count)
        .where(entity_stats.c.project_id == project_id)
    ):
        counts[entity][dataset] = n
    labeled = {dataset: n for dataset, n in conn.execute(
        select(documents.c.dataset, func.count())
        .where(documents.c.project_id == project_id, documents.c.label_count > 0)
        .group_by(documents.c.dataset)
    )}
    return LabelStatistics(dict(counts), labeled)


def latest_training_sequence(conn: Connection, project_id: str) -> int:
    return conn.scalar(select(func.max(training_jobs.c.sequence)).where(training_jobs.c.project_id == project_id)) or 0


_CLAIMABLE_TRAINING_JOBS = _claimable(training_jobs)
_CLAIMABLE_AUTOLABEL_JOBS = _claimable(autolabel_jobs)


def claimable_training_jobs(conn: Connection, now: str, limit: int = 10) -> list[str]:
    """Jobs nobody runs: not started, or their worker's lease ran out before `now`."""
    return list(conn.scalars(_CLAIMABLE_TRAINING_JOBS, {"now": now, "limit": limit}))


def _pending(match: SuggestionMatch | None) -> Any:
    """The SQL of a SuggestionMatch, on pending suggestions."""
    s = suggestions.c
    match = match or SuggestionMatch()
    conditions = [s.state == "pending"]
    for column, value in ((s.entity, match.entity), (s.job_id, match.job), (s.model_label, match.model)):
        if value is not None:
            conditions.append(column == value)
    if match.min_confidence is not None:
        conditions.append(s.confidence >= match.min_confidence)
    if match.max_confidence is not None:
        conditions.append(s.confidence <= match.max_confidence)
    return and_(*conditions)


def list_documents(
    conn: Connection, project_id: str, *, labeled: bool | None = None, entity: str | None = None,
    dataset: str | None = None, autolabeled: bool | None = None, pending: SuggestionMatch | None = None,
    skip: int = 0, limit: int = 100,
) -> Page:
    """Documents by name; `autolabeled`: with (or without) pending suggestions matching
    `pending` (Azure's "Auto labeled" filter)."""
    columns = [c for c in documents.c if c.name != "text"]
    query = select(*columns).where(documents.c.project_id == project_id)
    if autolabeled is not None:
        has = exists().where(and_(suggestions.c.document_id == documents.c.id, _pending(pending)))
        query = query.where(has if autolabeled else ~has)
    if labeled is not None:
        query = query.where(documents.c.label_count > 0 if labeled else documents.c.label_count == 0)
    if dataset is not None:
        query = query.where(documents.c.dataset == dataset)
    if entity is not None:
        query = query.where(exists().where(and_(labels.c.document_id == documents.c.id, labels.c.entity == entity)))
    return _page(conn, query.order_by(documents.c.name), skip, limit)


def get_document(conn: Connection, project_id: str, name: str) -> tuple[Row[Any], list[Row[Any]]] | None:
    doc = conn.execute(_DOCUMENT, {"project_id": project_id, "name": name}).first()
    if doc is None:
        return None
    return doc, list(conn.execute(_DOCUMENT_LABELS, {"document_id": doc.id}))


def documents_with_labels(conn: Connection, project_id: str, *, after: str | None = None,
                          limit: int | None = None) -> list[dict[str, Any]]:
    """The project's documents by name (those after `after`, at most `limit` of them), with
    their text and their labels as code-point (category, offset, length): what a project file
    holds."""
    query = (select(documents.c.id, documents.c.name, documents.c.text, documents.c.language, documents.c.dataset)
             .where(documents.c.project_id == project_id).order_by(documents.c.name))
    if after is not None:
        query = query.where(documents.c.name > after)
    if limit is not None:
        query = query.limit(limit)
    found = {row.id: {"name": row.name, "text": row.text, "language": row.language, "dataset": row.dataset,
                      "labels": []} for row in conn.execute(query)}
    if not found:
        return []
    label_query = select(labels.c.document_id, labels.c.entity, labels.c.offset, labels.c.length)
    label_query = (label_query.where(labels.c.document_id.in_(list(found))) if limit is not None else
                   label_query.join(documents, documents.c.id == labels.c.document_id)
                   .where(documents.c.project_id == project_id))
    for document_id, entity, offset, length in conn.execute(label_query):
        if document_id in found:
            found[document_id]["labels"].append((entity, offset, length))
    return list(found.values())


def pending_suggestions(conn: Connection, project_id: str, names: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """The pending suggestions of these documents of the project, by document name, as
    (category, offset, length, confidence, job, model), in text order."""
    s = suggestions.c
    found: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for name, *suggestion in conn.execute(
        select(documents.c.name, s.entity, s.offset, s.length, s.confidence, s.job_id, s.model_label)
        .join(documents, documents.c.id == s.document_id)
        .where(documents.c.project_id == project_id, documents.c.name.in_(names), s.state == "pending")
        .order_by(documents.c.name, s.offset, s.length, s.suggestion_id)
    ):
        found[name].append(tuple(suggestion))
    return found


def document_suggestions(conn: Connection, document_id: str) -> list[Row[Any]]:
    return list(conn.execute(_DOCUMENT_SUGGESTIONS, {"document_id": document_id}))


def deletion_job(conn: Connection, resource_id: str, job_id: str) -> Row[Any] | None:
    return conn.execute(
        select(deletion_jobs).where(deletion_jobs.c.job_id == job_id, deletion_jobs.c.resource_id == resource_id)
    ).first()


def get_training_job(conn: Connection, project_id: str, job_id: str) -> Row[Any] | None:
    return conn.execute(
        select(training_jobs).where(training_jobs.c.project_id == project_id, training_jobs.c.job_id == job_id)
    ).first()


def list_training_jobs(conn: Connection, project_id: str, skip: int, limit: int) -> Page:
    query = select(training_jobs).where(training_jobs.c.project_id == project_id).order_by(training_jobs.c.sequence)
    return _page(conn, query, skip, limit)


def last_trained(conn: Connection, project_id: str) -> str | None:
    t = training_jobs.c
    return conn.scalar(select(func.max(t.ended_at)).where(t.project_id == project_id, t.status == "succeeded"))


def get_model(conn: Connection, project_id: str, label: str) -> Row[Any] | None:
    return conn.execute(select(models).where(models.c.project_id == project_id, models.c.label == label)).first()


def list_models(conn: Connection, project_id: str, skip: int, limit: int) -> Page:
    return _page(conn, select(models).where(models.c.project_id == project_id).order_by(models.c.label), skip, limit)


# -- auto-labeling and quota --------------------------------------------------------------

def select_documents(
    conn: Connection, project_id: str, *, names: list[str] | None = None, labeled: bool | None = None,
    entity: str | None = None, dataset: str | None = None,
) -> list[Row[Any]]:
    """(name, characters, text_records) of the documents named (those that exist, in the
    order given) or of those matching the filter (by name)."""
    d = documents.c
    query = select(d.name, d.characters, d.text_records).where(d.project_id == project_id)
    if names is not None:
        found = {}
        for start in range(0, len(names), 500):  # bounded IN lists
            chunk = names[start:start + 500]
            found.update((r.name, r) for r in conn.execute(query.where(d.name.in_(chunk))))
        return [found[n] for n in names if n in found]
    if labeled is not None:
        query = query.where(d.label_count > 0 if labeled else d.label_count == 0)
    if dataset is not None:
        query = query.where(d.dataset == dataset)
    if entity is not None:
        query = query.where(exists().where(and_(labels.c.document_id == d.id, labels.c.entity == entity)))
    return list(conn.execute(query.order_by(d.name)))


def claimable_autolabel_jobs(conn: Connection, now: str, limit: int = 10) -> list[str]:
    """Jobs nobody runs: not started, or their worker's lease ran out before `now`."""
    return list(conn.scalars(_CLAIMABLE_AUTOLABEL_JOBS, {"now": now, "limit": limit}))


def get_autolabel_job(conn: Connection, project_id: str, job_id: str) -> Row[Any] | None:
    return conn.execute(
        select(autolabel_jobs).where(autolabel_jobs.c.project_id == project_id, autolabel_jobs.c.job_id == job_id,
                                     autolabel_jobs.c.live)
    ).first()


def list_autolabel_jobs(conn: Connection, project_id: str, skip: int, limit: int) -> Page:
    j = autolabel_jobs.c
    query = select(autolabel_jobs).where(j.project_id == project_id, j.live).order_by(j.created_at, j.job_id)
    return _page(conn, query, skip, limit)


@dataclass(frozen=True)
class QuotaUsage:
    limit: int
    projects: dict[str, dict[str, int]]  # project id -> reserved, charged, refunded

    def total(self, field: str) -> int:
        return sum(p[field] for p in self.projects.values())

    @property
    def remaining(self) -> int:
        return max(self.limit - (self.total("reserved") - self.total("refunded")), 0)


def quota_usage_of(conn: Connection, resource_id: str, month: str) -> QuotaUsage:
    limit = conn.scalar(select(quota_limits.c.monthly_text_records).where(quota_limits.c.resource_id == resource_id))
    q = quota_usage.c
    rows = conn.execute(select(q.project_id, q.reserved, q.charged, q.refunded)
                        .where(q.resource_id == resource_id, q.month == month))
    return QuotaUsage(limit or 0, {r.project_id: {"reserved": r.reserved, "charged": r.charged,
                                                   "refunded": r.refunded} for r in rows})


def project_names(conn: Connection, project_ids: list[str]) -> dict[str, str]:
    if not project_ids:
        return {}
    return dict(conn.execute(select(projects.c.id, projects.c.name).where(projects.c.id.in_(project_ids))).all())


def pending_by_document(conn: Connection, project_id: str, where: SuggestionMatch, skip: int,
                        limit: int) -> tuple[list[tuple[str, dict[str, int]]], bool, int]:
    """Per document (by name, paged): its pending suggestions per entity; and the total."""
    s, d = suggestions.c, documents.c
    matching = and_(s.project_id == project_id, _pending(where))
    names = list(conn.scalars(
        select(d.name).where(d.project_id == project_id,
                             exists().where(and_(s.document_id == d.id, _pending(where))))
        .order_by(d.name).offset(skip).limit(limit + 1)))
    more, names = len(names) > limit, names[:limit]
    per: dict[str, dict[str, int]] = {name: {} for name in names}
    if names:
        for name, entity, n in conn.execute(
            select(d.name, s.entity, func.count()).select_from(suggestions).join(documents, d.id == s.document_id)
            .where(matching, d.name.in_(names)).group_by(d.name, s.entity)
        ):
            per[name][entity] = n
    total = conn.scalar(select(func.count()).select_from(suggestions).where(matching)) or 0
    return list(per.items()), more, total


SUGGESTION_ORDERS = ("confidence", "entity", "job", "document")


def pending_suggestions_page(conn: Connection, project_id: str, where: SuggestionMatch, order: str, skip: int,
                             limit: int) -> tuple[list[Row[Any]], bool]:
    """A page of the project's pending suggestions, each with its document's name and text,
    lowest confidence first (or by entity, job or document; ties in text order)."""
    s, d = suggestions.c, documents.c
    first = {"confidence": (s.confidence,), "entity": (s.entity, s.confidence), "job": (s.job_id, s.confidence),
             "document": ()}[order]
    rows = list(conn.execute(
        select(d.name, d.text, s.suggestion_id, s.entity, s.offset, s.length, s.confidence, s.model_label, s.job_id)
        .join(documents, d.id == s.document_id)
        .where(s.project_id == project_id, _pending(where))
        .order_by(*first, d.name, s.offset, s.length, s.suggestion_id)
        .offset(skip).limit(limit + 1)
    ))
    return rows[:limit], len(rows) > limit


def review_outcomes(conn: Connection, project_id: str, by: str) -> list[dict[str, Any]]:
    """Suggestions per entity, model or job, by state: the review's outcomes so far."""
    s = suggestions.c
    key = {"entity": s.entity, "model": s.model_label, "job": s.job_id}[by]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for value, state, n in conn.execute(
        select(key, s.state, func.count()).where(s.project_id == project_id).group_by(key, s.state)
    ):
        counts[value][state] = n
    return [{by: value, **dict(states)} for value, states in sorted(counts.items())]


def pending_documents(conn: Connection, project_id: str, where: SuggestionMatch) -> list[str]:
    d, s = documents.c, suggestions.c
    return list(conn.scalars(select(d.name).where(
        d.project_id == project_id, exists().where(and_(s.document_id == d.id, _pending(where)))).order_by(d.name)))
