"""Queries over the audit log (audit_events): a page of entries, or all of them in keyset
pages for an export, over a resource, a project or a document, filtered."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, func, select, text

from spanledger.domain.offsets import OffsetMap
from spanledger.projections.queries import Page
from spanledger.projections.tables import audit_events

a = audit_events.c
LABEL_EVENTS = ("LabelAdded", "LabelRemoved", "AutoLabelSuggested", "AutoLabelAccepted", "AutoLabelRejected")


@dataclass(frozen=True)
class AuditFilter:
    """Which events: of a resource, project or document (one of the first two set), and
    matching every filter given."""

    resource_id: str | None = None
    project_id: str | None = None
    document: str | None = None
    project_name: str | None = None  # of any life of the name (its id may differ between them)
    actor: str | None = None
    event_types: tuple[str, ...] = ()
    since: str | None = None  # ISO 8601 UTC, inclusive
    until: str | None = None  # exclusive
    after_position: int | None = None  # exclusive
    to_position: int | None = None  # inclusive
    job: str | None = None
    model: str | None = None
    from_position: int | None = None  # where the life the caller looks at began (inclusive)


def _where(query: Any, f: AuditFilter) -> Any:
    if f.resource_id is not None:
        query = query.where(a.resource_id == f.resource_id)
    if f.project_id is not None:
        query = query.where(a.project_id == f.project_id)
    if f.document is not None:
        query = query.where(a.document_name == f.document)
    if f.project_name is not None:
        query = query.where(a.project_name == f.project_name)
    if f.actor is not None:
        # The actor as recorded, or a key's id alone ("key:ID"), whatever name it was shown with.
        prefix = f.actor + " "
        query = query.where((a.actor == f.actor) | (func.substr(a.actor, 1, len(prefix)) == prefix))
    if f.event_types:
        query = query.where(a.event_type.in_(f.event_types))
    if f.since is not None:
        query = query.where(a.occurred_at >= f.since)
    if f.until is not None:
        query = query.where(a.occurred_at < f.until)
    if f.after_position is not None:
        query = query.where(a.position > f.after_position)
    if f.to_position is not None:
        query = query.where(a.position <= f.to_position)
    if f.from_position is not None:
        query = query.where(a.position >= f.from_position)
    if f.job is not None:
        query = query.where(a.job_id == f.job)
    if f.model is not None:
        query = query.where(a.model_label == f.model)
    return query


def life_starts(conn: Connection, project_id: str, document: str | None = None) -> list[int]:
    """Where each life of the project (or of one of its documents) began: the positions of
    its ProjectCreated (DocumentAdded) events. A name deleted and added again keeps its
    aggregate and its history; these positions tell the lives apart."""
    query = select(a.position).where(a.project_id == project_id)
    if document is None:
        query = query.where(a.event_type == "ProjectCreated")
    else:
        query = query.where(a.document_name == document, a.event_type == "DocumentAdded")
    return list(conn.scalars(query.order_by(a.position)))


# What an entry shows, in this order (callers unpack rows: faster than by name on millions).
ENTRY_COLUMNS = (a.position, a.occurred_at, a.actor, a.event_type, a.aggregate_version, a.document_name,
                 a.project_name, a.job_id, a.model_label, a.payload, a.aggregate_id, a.astral)


def audit_query(where: AuditFilter) -> Any:
    return _where(select(*ENTRY_COLUMNS), where).order_by(a.position)


def audit_page(conn: Connection, where: AuditFilter, skip: int, limit: int) -> Page:
    """A page of rows as plain tuples of ENTRY_COLUMNS but the last (astral: offset_maps reads
    it from the texts' DocumentAdded rows)."""
    query = _where(select(*ENTRY_COLUMNS[:-1]), where).order_by(a.position).offset(skip).limit(limit + 1)
    rows = _fetch(conn, query)
    return Page(rows[:limit], len(rows) > limit)


def _fetch(conn: Connection, query: Any) -> list[tuple[Any, ...]]:
    """The rows of `query`, straight from the driver's cursor on the connection's own DBAPI
    connection (so in its transaction): an export reads millions of rows, and building
    SQLAlchemy's rows took as long as the driver's fetch (every column selected here is a
    plain str or int, which no type of ours converts)."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})  # IN (...)
    params = compiled.params
    arguments = [params[name] for name in compiled.positiontup] if compiled.positional else params
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name != "postgresql":
            cursor.execute(compiled.string, arguments)
            return cursor.fetchall()
        # A keyset page must walk an index in position order (ix_audit_resource, _project,
        # _job or the primary key), which reads the page's rows and stops. Where the table's
        # statistics are stale (a bulk write the autovacuum has not analyzed yet), PostgreSQL
        # estimated 168 rows of 50,000 and chose a bitmap scan of every row after the position
        # and a sort: 200 ms a page instead of 2, a page of an export of N events costing O(N).
        cursor.execute("SHOW enable_sort")
        (previous,) = cursor.fetchone()
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(compiled.string, arguments)
        rows = cursor.fetchall()
        cursor.execute("SET LOCAL enable_sort = on" if previous == "on" else "SET LOCAL enable_sort = off")
        return rows
    finally:
        cursor.close()


def audit_stream(engine: Engine, where: AuditFilter, skip: int = 0, top: int | None = None,
                 page_size: int = 2000) -> Iterator[tuple[list[tuple[Any, ...]], dict[int, OffsetMap]]]:
    """Every matching row, in keyset pages by position, each with its offset maps. Each page
    is read in a short transaction of its own, so an export holds one page in memory and no
    long read open (which would keep SQLite's WAL from being checkpointed); a consumer that
    stops iterating stops the reading. The pages share one connection: each pooled
    connection keeps a page cache of its own, and rotating through the pool would fill them
    all."""
    left = top
    with engine.connect() as conn, _small_page_cache(conn):
        while left is None or left > 0:
            size = page_size if left is None else min(page_size, left)
            page = audit_page(conn, where, skip, size)
            maps = offset_maps(conn, page.rows)
            conn.rollback()
            conn.connection.rollback()  # the page itself was read on the driver's connection (_fetch)
            if page.rows:
                yield page.rows, maps
            if not page.more or not page.rows:
                return
            where, skip = replace(where, after_position=page.rows[-1][0]), 0
            if left is not None:
                left -= len(page.rows)


# An export reads each page of the table once: a large page cache would only keep what it read.
_EXPORT_PAGE_CACHE_KIB = 4096


@contextmanager
def _small_page_cache(conn: Connection) -> Iterator[None]:
    """SQLite: the connection's page cache held small for an export, and what the cache held
    before freed (lowering cache_size frees the pages over it). Each pooled connection has a
    cache of 64 MiB (bootstrap), and the pool hands out its connections in turn: exports
    filled one cache after another, and the server's memory grew by the table's size with
    each export until every cache was full."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    (previous,) = driver.execute("PRAGMA cache_size").fetchone()
    driver.execute(f"PRAGMA cache_size=-{_EXPORT_PAGE_CACHE_KIB}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size={int(previous)}")


def offset_maps(conn: Connection, rows: list[Any]) -> dict[int, OffsetMap]:
    """For audit rows with label offsets in texts with non-BMP characters: the offset map of
    the text as it was at that event (from the document's latest DocumentAdded before it)."""
    wanted = sorted({r[10] for r in rows if r[3] in LABEL_EVENTS})  # aggregate_id, event_type
    if not wanted:
        return {}
    lives: dict[str, list[tuple[int, OffsetMap | None]]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        added = conn.execute(
            # The literal lets PostgreSQL match the partial index ix_audit_document_added.
            select(a.aggregate_id, a.position, a.payload, a.astral)
            .where(a.event_type == text("'DocumentAdded'"), a.aggregate_id.in_(wanted[start:start + 500]))
            .order_by(a.position)
        )
        for aggregate_id, position, payload, astral in added:
            offset_map = OffsetMap.from_astral(astral, orjson.loads(payload)["characters"]) if astral else None
            lives[aggregate_id].append((position, offset_map))
    lives = {k: life for k, life in lives.items() if any(m is not None for _, m in life)}
    if not lives:  # no text with characters outside the BMP: offsets are the same in every unit
        return {}
    maps = {}
    for r in rows:
        life = lives.get(r[10]) if r[3] in LABEL_EVENTS else None
        if life:
            i = bisect_left([position for position, _ in life], r[0]) - 1
            if i >= 0 and life[i][1] is not None:
                maps[r[0]] = life[i][1]
    return maps
