"""Reviewing auto-labels (spanledger extension, in the style of Azure's routes): accept or
reject one suggestion or all of a document's, undo, decide in bulk over a filter, go through
the pending suggestions one by one (a queue across documents), see what the next training
would drop, and how the suggestions fared."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response

from spanledger.api.deps import (
    Consistent,
    ContainerDep,
    DocumentName,
    IfMatch,
    IndexTypeDep,
    PagingDep,
    PrincipalDep,
    ProjectName,
    page,
    record_write,
)
from spanledger.api.response_bodies import (
    AllAccepted,
    AllRejected,
    BulkReviewed,
    Page,
    Pending,
    QueuedSuggestion,
    ReviewMetrics,
    SuggestionAccepted,
    SuggestionRejected,
    Undone,
    ok,
)
from spanledger.api.routes.documents import etag, parse_if_match
from spanledger.api.routes.projects import project_row
from spanledger.api.routing import authoring_router
from spanledger.api.schemas import BulkReviewBody, UndoBody
from spanledger.domain.errors import DomainError
from spanledger.domain.offsets import OffsetMap, StringIndexType
from spanledger.domain.review_commands import Reviewed, SuggestionMatch
from spanledger.projections import queries

router = authoring_router()
_DOCUMENT = "/{projectName}/documents/{documentName}"


def _answer(response: Response, container: Any, principal: Any, reviewed: Reviewed, **body: Any) -> dict:
    record_write(response, container, principal, reviewed.position)
    response.headers["ETag"] = etag(reviewed.version)
    return {**body, "version": reviewed.version}


@router.post(_DOCUMENT + "/suggestions/{suggestionId}/:accept", responses=ok(SuggestionAccepted))
def accept(projectName: ProjectName, documentName: DocumentName, suggestionId: str, response: Response,  # noqa: N803
           container: ContainerDep, principal: PrincipalDep, if_match: IfMatch = None) -> dict:
    """Accepts a pending suggestion: it becomes a user label."""
    reviewed = container.app.accept_suggestion(principal.resource_id, projectName, documentName, suggestionId,
                                               principal.actor, parse_if_match(if_match))
    return _answer(response, container, principal, reviewed, suggestionId=suggestionId, labelId=reviewed.labels[0])


@router.post(_DOCUMENT + "/suggestions/{suggestionId}/:reject", responses=ok(SuggestionRejected))
def reject(projectName: ProjectName, documentName: DocumentName, suggestionId: str, response: Response,  # noqa: N803
           container: ContainerDep, principal: PrincipalDep, if_match: IfMatch = None) -> dict:
    """Rejects a pending suggestion."""
    reviewed = container.app.reject_suggestion(principal.resource_id, projectName, documentName, suggestionId,
                                               principal.actor, parse_if_match(if_match))
    return _answer(response, container, principal, reviewed, suggestionId=suggestionId)


@router.post(_DOCUMENT + "/:accept-all", responses=ok(AllAccepted))
def accept_all(projectName: ProjectName, documentName: DocumentName, response: Response,  # noqa: N803
               container: ContainerDep, principal: PrincipalDep, if_match: IfMatch = None) -> dict:
    """Accepts every pending suggestion of the document."""
    reviewed = container.app.accept_all_suggestions(principal.resource_id, projectName, documentName,
                                                    principal.actor, parse_if_match(if_match))
    accepted = [{"suggestionId": s, "labelId": label} for s, label in zip(reviewed.suggestions, reviewed.labels,
                                                                          strict=True)]
    return _answer(response, container, principal, reviewed, accepted=accepted)


@router.post(_DOCUMENT + "/:reject-all", responses=ok(AllRejected))
def reject_all(projectName: ProjectName, documentName: DocumentName, response: Response,  # noqa: N803
               container: ContainerDep, principal: PrincipalDep, if_match: IfMatch = None) -> dict:
    """Rejects every pending suggestion of the document."""
    reviewed = container.app.reject_all_suggestions(principal.resource_id, projectName, documentName,
                                                    principal.actor, parse_if_match(if_match))
    return _answer(response, container, principal, reviewed, rejected=reviewed.suggestions)


@router.post(_DOCUMENT + "/:undo", responses=ok(Undone))
def undo(projectName: ProjectName, documentName: DocumentName, response: Response, container: ContainerDep,  # noqa: N803
         principal: PrincipalDep, body: UndoBody | None = None, if_match: IfMatch = None) -> dict:
    """Takes back the last `count` accept or reject decisions on the document (new events)."""
    reviewed = container.app.undo_review(principal.resource_id, projectName, documentName,
                                         (body or UndoBody()).count, principal.actor, parse_if_match(if_match))
    return _answer(response, container, principal, reviewed, undone=reviewed.suggestions)


@router.post("/{projectName}/autolabel/:review", dependencies=[Consistent], responses=ok(BulkReviewed))
def bulk_review(projectName: ProjectName, body: BulkReviewBody, response: Response,  # noqa: N803
                container: ContainerDep, principal: PrincipalDep) -> dict:
    """Accepts or rejects the pending suggestions matching the filter, one document (one
    transaction) at a time; answers what happened to each document."""
    where = SuggestionMatch(body.entity, body.job, body.model, body.min_confidence, body.max_confidence)
    with container.reads.connect() as conn:
        project = project_row(conn, principal, projectName)
        names = queries.pending_documents(conn, project.id, where)
    app, outcomes, last = container.app, [], None
    for name in names:
        try:
            reviewed = app.review_matching(principal.resource_id, projectName, name, body.decision, where,
                                           principal.actor)
        except DomainError as error:  # this document changed under us: say so, go on with the others
            outcomes.append({"document": name, "status": "failed",
                             "error": {"code": error.code, "message": error.message}})
            continue
        last = reviewed.position or last
        outcomes.append({"document": name, "status": "succeeded",
                         "accepted" if body.decision == "accept" else "rejected": reviewed.suggestions})
    record_write(response, container, principal, last)
    return {"decision": body.decision, "documents": outcomes}


CONTEXT = 80  # characters shown on each side of a queued suggestion
_Filter = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get("/{projectName}/autolabel/suggestions", dependencies=[Consistent], responses=ok(Page[QueuedSuggestion]))
def suggestion_queue(
    projectName: ProjectName, request: Request, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
    paging: PagingDep, unit: IndexTypeDep, entity: _Filter = None, job: _Filter = None, model: _Filter = None,
    min_confidence: Annotated[float | None, Query(alias="minConfidence", ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(alias="maxConfidence", ge=0, le=1)] = None,
    orderby: Annotated[Literal[queries.SUGGESTION_ORDERS], Query(
        description="confidence: lowest first (the default); entity or job, each lowest confidence first; "
                    "document: in text order")] = "confidence",
) -> dict:
    """The project's pending suggestions one after another, each with the text around it: a
    review queue across documents (decide each with its document's :accept or :reject)."""
    match = SuggestionMatch(entity, job, model, min_confidence, max_confidence)
    with container.reads.connect() as conn:
        project = project_row(conn, principal, projectName)
        rows, more = queries.pending_suggestions_page(conn, project.id, match, orderby, paging.skip, paging.size)
    return page(request, paging, [_queued(row, unit) for row in rows], more)


def _queued(row: Any, unit: StringIndexType) -> dict[str, Any]:
    start, end = row.offset, row.offset + row.length
    offset, length = OffsetMap(row.text).span_from_code_points(row.offset, row.length, unit)
    return {
        "documentName": row.name, "suggestionId": row.suggestion_id, "category": row.entity,
        "offset": offset, "length": length, "text": row.text[start:end],
        "before": row.text[max(start - CONTEXT, 0):start], "after": row.text[end:end + CONTEXT],
        "confidenceScore": row.confidence, "modelLabel": row.model_label, "jobId": row.job_id,
    }


@router.get("/{projectName}/autolabel/pending", dependencies=[Consistent], responses=ok(Pending))
def pending(projectName: ProjectName, request: Request, container: ContainerDep,  # noqa: N803
            principal: PrincipalDep, paging: PagingDep) -> dict:
    """What the next training would drop: suggestions still pending, per document and entity."""
    with container.reads.connect() as conn:
        project = project_row(conn, principal, projectName)
        rows, more, total = queries.pending_by_document(conn, project.id, SuggestionMatch(),
                                                        paging.skip, paging.size)
    items = [{"document": name, "entities": entities, "suggestions": sum(entities.values())}
             for name, entities in rows]
    return {"totalSuggestions": total, **page(request, paging, items, more)}


def _rates(row: dict[str, Any]) -> dict[str, Any]:
    accepted, rejected = row.get("accepted", 0), row.get("rejected", 0)
    states = {state: row.get(state, 0) for state in ("pending", "accepted", "rejected", "superseded", "discarded")}
    suggested = sum(states.values())
    return {
        "suggestions": suggested, **states,
        # Of all suggestions made, how many became labels.
        "acceptanceRate": round(accepted / suggested, 4) if suggested else None,
        # Of those a reviewer decided, how many were right.
        "precision": round(accepted / (accepted + rejected), 4) if accepted + rejected else None,
    }


@router.get("/{projectName}/autolabel/metrics", dependencies=[Consistent], responses=ok(ReviewMetrics))
def metrics(projectName: ProjectName, container: ContainerDep, principal: PrincipalDep) -> dict:  # noqa: N803
    """How suggestions fared in review, per entity, per model and per job."""
    with container.reads.connect() as conn:
        project = project_row(conn, principal, projectName)
        outcomes = {by: queries.review_outcomes(conn, project.id, by) for by in ("entity", "model", "job")}
    names = {"entity": "category", "model": "modelLabel", "job": "jobId"}
    return {f"{by}s" if by != "entity" else "entities": [{names[by]: row[by], **_rates(row)} for row in rows]
            for by, rows in outcomes.items()}
