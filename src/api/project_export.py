"""A project as it is now, written as an Azure project file: by the `:export` route (streamed
into the artifact store a page of documents at a time, so memory does not grow with the
project) and by the CLI's `projects export`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from spanledger.domain import project_file
from spanledger.domain.offsets import StringIndexType
from spanledger.projections import queries

PAGE = 200  # documents read at a time


def current_documents(conn: Connection, project_id: str) -> Iterator[dict[str, Any]]:
    """The project's documents with their labels, by name, read a page at a time."""
    after = None
    while page := queries.documents_with_labels(conn, project_id, after=after, limit=PAGE):
        yield from page
        after = page[-1]["name"]


def snapshot(conn: Connection) -> Connection:
    """The connection reading one state of the read model across pages (SQLite's read
    transaction already does; PostgreSQL's default reads each statement's own)."""
    if conn.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def current_file_chunks(conn: Connection, row: Any, unit: StringIndexType) -> Iterator[bytes]:
    """The project (its read-model row) as project-file JSON, a document at a time."""
    return project_file.write_chunks(_project(row), _entities(conn, row), current_documents(conn, row.id), unit)


def current_file(conn: Connection, row: Any, unit: StringIndexType) -> dict[str, Any]:
    """The same, whole (the CLI writes each text beside the file)."""
    return project_file.write(_project(row), _entities(conn, row), current_documents(conn, row.id), unit)


def model_documents(container: Any, principal: Any, project: str, label: str,
                  language: str) -> tuple[list[dict], list[str]]:
    """What the model trained and was tested on, replayed from the log (documents keep no
    language there: the project's)."""
    model, parts, _ = container.app.model_training_set(principal.resource_id, project, label)
    documents = [{"name": d.name, "text": d.text, "language": language, "dataset": d.dataset,
                  "labels": [(entity, offset, length) for offset, length, entity in d.labels]}
                 for d in sorted([*parts.train, *parts.test], key=lambda d: d.name)]
    return documents, sorted(model.entity_types)


def project_fields(row: Any) -> dict[str, Any]:
    return {k: row._mapping[k] for k in ("language", "description", "multilingual", "settings",
                                         "storage_input_container_name")}


def _project(row: Any) -> dict[str, Any]:
    return {"name": row.name, "fields": project_fields(row)}


def _entities(conn: Connection, row: Any) -> list[str]:
    return [e["category"] for e in queries.entity_statistics(conn, row.id)]
