"""The audit log: who changed what, when (spanledger extension).

Over the caller's whole resource (events of deleted projects included), a project or a
document; filtered by actor, event types, time, log position, job and model; paged in
Azure's style, or streamed whole as NDJSON (`Accept: application/x-ndjson`) as it is read.
Each entry is one event as recorded, with the log position a replay or a read-your-writes
header refers to. Label offsets are shown in the requested `stringIndexType`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, Query, Request
from fastapi.responses import StreamingResponse

from spanledger.api.audit_bodies import NDJSON, LabelHistory, audit_responses
from spanledger.api.audit_entries import entries, ndjson, utc
from spanledger.api.deps import (
    MAX_INT,
    Consistent,
    ContainerDep,
    DocumentName,
    IndexTypeDep,
    Paging,
    PagingDep,
    PrincipalDep,
    ProjectName,
    page,
)
from spanledger.api.errors import ApiError
from spanledger.api.event_types import EVENT_TYPES
from spanledger.api.response_bodies import ok
from spanledger.api.routes.projects import project_row
from spanledger.api.routing import authoring_router
from spanledger.domain.offsets import OffsetMap, StringIndexType
from spanledger.projections.audit_queries import AuditFilter, audit_page, audit_query, life_starts, offset_maps
from spanledger.projections.label_history import label_history as history_of

# One router for the resource's log and the projects' (app.py includes this module's router).
router = authoring_router("/language/authoring/analyze-text")



async def audit_filter(
    actor: Annotated[str | None, Query(min_length=1, max_length=200, description=(
        "the actor as recorded, or a key's id alone (key:ID) for every event by that key"))] = None,
    event_type: Annotated[list[str] | None, Query(alias="eventType", description=(
        "event types, repeated or comma-separated (LabelAdded,LabelRemoved)"))] = None,
    since: Annotated[str | None, Query(description="events at or after this ISO 8601 time")] = None,
    until: Annotated[str | None, Query(description="events before this ISO 8601 time")] = None,
    after: Annotated[int | None, Query(alias="afterPosition", ge=0, le=MAX_INT,
                                       description="events after this log position")] = None,
    to: Annotated[int | None, Query(alias="toPosition", ge=0, le=MAX_INT,
                                    description="events at or before this log position")] = None,
    job: Annotated[str | None, Query(alias="job", min_length=1, max_length=64, description=(
        "events of this job (auto-labeling, training or another operation's id), suggestions it made and the "
        "decisions on them included"))] = None,
    model: Annotated[str | None, Query(alias="model", min_length=1, max_length=50, description=(
        "events of this model label: its training, its suggestions and the decisions on them"))] = None,
) -> AuditFilter:
    types = tuple(dict.fromkeys(t.strip() for value in event_type or () for t in value.split(",") if t.strip()))
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise ApiError(400, "InvalidArgument", f"Unknown event type {unknown[0][:64]!r}; known: "
                       f"{', '.join(sorted(EVENT_TYPES))}.", "eventType")
    return AuditFilter(actor=actor, event_types=types, since=utc(since, "since"), until=utc(until, "until"),
                       after_position=after, to_position=to, job=job, model=model)


FilterDep = Annotated[AuditFilter, Depends(audit_filter)]
Lives = Annotated[Literal["current", "all"], Query(
    description="current: the events since the name was last created or added; all: every life, numbered")]


@dataclass(frozen=True)
class _Ask:
    request: Request
    container: Any
    paging: Paging
    unit: StringIndexType


def _answer(ask: _Ask, where: AuditFilter, lives: list[int] | None) -> Any:
    """A page as JSON, or (NDJSON asked for) every entry after `skip` (up to `top`), streamed."""
    if NDJSON in ask.request.headers.get("accept", ""):
        stream = ndjson(ask.container.reads, where, ask.paging.skip, ask.paging.top, ask.unit, lives)
        return StreamingResponse(stream, media_type=NDJSON)
    with ask.container.reads.connect() as conn:
        result = audit_page(conn, where, ask.paging.skip, ask.paging.size)
        maps = offset_maps(conn, result.rows)
    return page(ask.request, ask.paging, entries(result.rows, maps, ask.unit, lives), result.more)


def _scoped(ask: _Ask, principal: Any, project_name: str, where: AuditFilter, lives: str) -> Any:
    """The log of the project's (or document's) current life, or of all its lives with each
    entry's life numbered from 1."""
    with ask.container.reads.connect() as conn:
        project = project_row(conn, principal, project_name)
        starts = life_starts(conn, project.id, where.document)
    where = replace(where, project_id=project.id)
    if lives == "current" and starts:
        where = replace(where, from_position=starts[-1])
    return _answer(ask, where, starts if lives == "all" else None)


@router.get("/events", dependencies=[Consistent], responses=audit_responses())
def resource_events(
    request: Request, container: ContainerDep, principal: PrincipalDep, paging: PagingDep, unit: IndexTypeDep,
    where: FilterDep, project: Annotated[str | None, Query(alias="projectName", min_length=1, max_length=50,
                                                           description="events of projects of this name, "
                                                           "deleted ones included")] = None,
) -> Any:
    """The resource's audit log: every event of its projects (deleted ones too), keys, quota
    and jobs, filtered."""
    where = replace(where, resource_id=str(principal.resource_id))
    if project is not None:
        where = replace(where, project_name=project)
    return _answer(_Ask(request, container, paging, unit), where, None)


@router.get("/projects/{projectName}/events", dependencies=[Consistent], responses=audit_responses())
def project_events(
    projectName: ProjectName, request: Request, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
    paging: PagingDep, unit: IndexTypeDep, where: FilterDep, lives: Lives = "current",
) -> Any:
    """The project's audit log: each event of its current life (or of every life), filtered."""
    return _scoped(_Ask(request, container, paging, unit), principal, projectName, where, lives)


@router.get("/projects/{projectName}/documents/{documentName}/events", dependencies=[Consistent],
            responses=audit_responses())
def document_events(
    projectName: ProjectName, documentName: DocumentName, request: Request, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep, paging: PagingDep, unit: IndexTypeDep, where: FilterDep, lives: Lives = "current",
) -> Any:
    """A document's audit log: each event of its current life (or of every life), filtered."""
    return _scoped(_Ask(request, container, paging, unit), principal, projectName,
                   replace(where, document=documentName), lives)


@router.get("/projects/{projectName}/documents/{documentName}/labels/history", dependencies=[Consistent],
            responses=ok(LabelHistory))
def label_history(
    projectName: ProjectName, documentName: DocumentName, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep, unit: IndexTypeDep,
    label_id: Annotated[str | None, Query(alias="labelId", min_length=1, max_length=16)] = None,
    suggestion_id: Annotated[str | None, Query(alias="suggestionId", min_length=1, max_length=16)] = None,
) -> dict:
    """Each label of the document's current life from its creation (by hand, by import, or as
    an accepted suggestion of job J by model M) through its removal or undoing, and each
    suggestion from its suggestion through its decision (accepted, rejected, superseded by a
    label, undone, or discarded by a training), with actor, time and log position.
    `labelId` / `suggestionId`: that one only (and the suggestion or label it is tied to)."""
    with container.reads.connect() as conn:
        project = project_row(conn, principal, projectName)
        starts = life_starts(conn, project.id, documentName)
        if not starts:
            raise ApiError(404, "NotFound", f"Document {documentName!r} was not found.", "documentName")
        where = AuditFilter(project_id=project.id, document=documentName, from_position=starts[-1])
        rows = list(conn.execute(audit_query(where)))
    labels, suggestions = history_of(rows)
    if label_id is not None or suggestion_id is not None:
        labels, suggestions = _tied(labels, suggestions, label_id, suggestion_id)
    if unit == StringIndexType.UTF16 and rows and rows[0].astral:
        offsets = OffsetMap.from_astral(rows[0].astral, orjson.loads(rows[0].payload)["characters"])
        for life in (*labels, *suggestions):
            life["offset"], life["length"] = offsets.span_from_code_points(life["offset"], life["length"], unit)
    return {"documentName": documentName, "labels": labels, "suggestions": suggestions}


def _tied(labels: list[dict], suggestions: list[dict], label_id: str | None,
          suggestion_id: str | None) -> tuple[list[dict], list[dict]]:
    """The label or suggestion asked for, with the suggestion it came from or the label it became."""
    label_ids, suggestion_ids = {label_id}, {suggestion_id}
    for label in labels:
        if label["labelId"] == label_id:
            suggestion_ids.add(label["origin"].get("suggestionId"))
    for suggestion in suggestions:
        if suggestion["suggestionId"] == suggestion_id:
            label_ids |= {step.get("labelId") for step in suggestion["history"] if step["action"] == "accepted"}
    return ([x for x in labels if x["labelId"] in label_ids],
            [x for x in suggestions if x["suggestionId"] in suggestion_ids])
