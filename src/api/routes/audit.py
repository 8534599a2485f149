"""The audit log: who changed what, when (spanledger extension).

Each entry is one event as recorded, with the log position a replay or a read-your-writes
header refers to. Label offsets are shown in the requested `stringIndexType`.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import Query, Request
from pydantic.alias_generators import to_camel

from api.deps import (
    MAX_INT,
    Consistent,
    ContainerDep,
    DocumentName,
    IndexTypeDep,
    PagingDep,
    PrincipalDep,
    ProjectName,
    page,
)
from api.errors import ApiError
from api.response_bodies import Event, Page, ok
from api.responses import precise_time
from api.routes.projects import project_row
from api.routing import authoring_router
from domain.offsets import OffsetMap, StringIndexType
from projections import queries

router = authoring_router()

# Recorded on every event and shown as columns of the entry, so left out of its data.
_ENVELOPE = {"timestamp", "actor", "project_id", "document", "originator_topic", "incarnation"}


def _utc(value: str | None, target: str) -> str | None:
    """A client's time filter, in the form the events' own timestamps are stored in."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    except ValueError:
        raise ApiError(400, "InvalidArgument", f"{target} must be an ISO 8601 date-time.", target) from None
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00, which is before year 1 in UTC
        raise ApiError(400, "InvalidArgument", f"{target} is out of the range of dates.", target) from None


def _camel(value: Any) -> Any:
    """Event payloads are recorded snake_case; the API speaks camelCase (settings stay as given)."""
    if isinstance(value, dict):
        return {to_camel(k): v if k == "settings" else _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _entry(row: Any, offsets: OffsetMap | None, unit: StringIndexType) -> dict[str, Any]:
    data = _camel({k: v for k, v in orjson.loads(row.payload).items() if k not in _ENVELOPE})
    if offsets is not None and "offset" in data:
        data["offset"], data["length"] = offsets.span_from_code_points(data["offset"], data["length"], unit)
    entry = {
        "position": row.position,
        "occurredDateTime": precise_time(row.occurred_at),
        "actor": row.actor,
        "eventType": row.event_type,
        "version": row.aggregate_version,
        "data": data,
    }
    if row.document_name is not None:
        entry["documentName"] = row.document_name
    return entry


def _audit(
    request: Request, container: Any, principal: Any, paging: Any, unit: StringIndexType,
    project_name: str, where: queries.AuditFilter, lives: str,
) -> dict:
    """A page of the log of the project's (or document's) current life, or of all its lives
    with each entry's life numbered from 1."""
    with container.reads.connect() as conn:
        project = project_row(conn, principal, project_name)
        starts = queries.life_starts(conn, project.id, where.document)
        if lives == "current" and starts:
            where = replace(where, from_position=starts[-1])
        result = queries.audit_log(conn, project.id, where, paging.skip, paging.size)
        maps = queries.audit_offset_maps(conn, result.rows)
    entries = [_entry(r, maps.get(r.position), unit) for r in result.rows]
    if lives == "all":
        for entry in entries:
            entry["life"] = bisect_right(starts, entry["position"])
    return page(request, paging, entries, result.more)


Actor = Annotated[str | None, Query(min_length=1)]
EventType = Annotated[str | None, Query(alias="eventType", min_length=1)]
Since = Annotated[str | None, Query(description="events at or after this ISO 8601 time")]
Until = Annotated[str | None, Query(description="events before this ISO 8601 time")]
After = Annotated[int | None, Query(alias="afterPosition", ge=0, le=MAX_INT)]
Lives = Annotated[Literal["current", "all"], Query(
    description="current: the events since the name was last created or added; all: every life, numbered")]


@router.get("/{projectName}/events", dependencies=[Consistent], responses=ok(Page[Event]))
def project_events(
    projectName: ProjectName, request: Request, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
    paging: PagingDep, unit: IndexTypeDep, actor: Actor = None, event_type: EventType = None,
    since: Since = None, until: Until = None, after: After = None, lives: Lives = "current",
) -> dict:
    """The project's audit log: each event of its current life (or of every life), filtered."""
    where = queries.AuditFilter(None, actor, event_type, _utc(since, "since"), _utc(until, "until"), after)
    return _audit(request, container, principal, paging, unit, projectName, where, lives)


@router.get("/{projectName}/documents/{documentName}/events", dependencies=[Consistent], responses=ok(Page[Event]))
def document_events(
    projectName: ProjectName, documentName: DocumentName, request: Request, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep, paging: PagingDep, unit: IndexTypeDep, actor: Actor = None,
    event_type: EventType = None, since: Since = None, until: Until = None, after: After = None,
    lives: Lives = "current",
) -> dict:
    """A document's audit log: each event of its current life (or of every life), filtered."""
    where = queries.AuditFilter(documentName, actor, event_type, _utc(since, "since"), _utc(until, "until"), after)
    return _audit(request, container, principal, paging, unit, projectName, where, lives)
