"""Documents and their labels (spanledger extension, in the style of Azure's routes).

Offsets are code points inside; every route that reads or writes them takes
`stringIndexType` and converts at this edge (UTF-16 code units by default, as in Azure).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

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
from spanledger.api.errors import ApiError
from spanledger.api.response_bodies import (
    Document,
    DocumentBatch,
    DocumentSummary,
    Label,
    Page,
    SavedLabels,
    created_or_updated,
    ok,
)
from spanledger.api.responses import azure_time
from spanledger.api.routes.projects import project_id, project_row
from spanledger.api.routing import authoring_router
from spanledger.api.schemas import (
    DocumentBatchBody,
    DocumentBody,
    DocumentPatchBody,
    LabelBody,
    SaveLabelsBody,
)
from spanledger.api.time_travel import AsOf, AtPosition, position_of
from spanledger.domain.application import LabelSpec, NewDocument
from spanledger.domain.offsets import OffsetMap, StringIndexType
from spanledger.domain.review_commands import SuggestionMatch
from spanledger.domain.rules import text_records
from spanledger.projections import queries
from spanledger.replay.history import History

router = authoring_router()


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    version = _ETAG.fullmatch(value.strip())
    if version is None:
        raise ApiError(400, "InvalidArgument", "If-Match must be an ETag this API returned, such as \"3\".", "If-Match")
    return int(version.group(1))


_ETAG = re.compile(r'(?:W/)?"?([0-9]{1,18})"?')


def _summary(name: str, language: str, dataset: str, characters: int, label_count: int, version: int,
             created: Any, modified: Any) -> dict[str, Any]:
    """`characters` counts code points whatever the offset unit: text records are billed on it."""
    return {
        "name": name,
        "language": language,
        "dataset": dataset,
        "characters": characters,
        "textRecords": text_records(characters),
        "labelCount": label_count,
        "version": version,
        "createdDateTime": azure_time(created),
        "lastModifiedDateTime": azure_time(modified),
    }


def _summary_of_row(row: Any) -> dict[str, Any]:
    return _summary(row.name, row.language, row.dataset, row.characters, row.label_count, row.version,
                    row.created_at, row.modified_at)


def _label(label_id: str, category: str, offset: int, length: int, offsets: OffsetMap, unit: StringIndexType) -> dict:
    offset, length = offsets.span_from_code_points(offset, length, unit)
    return {"id": label_id, "category": category, "offset": offset, "length": length}


def _origin(label: Any) -> dict[str, str]:
    if label.origin_job is None:
        return {"kind": "user"}
    return {"kind": "acceptedSuggestion", "jobId": label.origin_job, "modelLabel": label.origin_model}


def _written_document(container: ContainerDep, principal: PrincipalDep, project: str, name: str) -> dict:
    project_agg, doc = container.app.get_document(principal.resource_id, project, name)
    return _summary(doc.name, doc.language, doc.dataset, len(doc.text), len(doc.live_labels(project_agg)),
                    doc.version, doc.created_on, doc.modified_on)


# -- time travel (atPosition, asOf): the state then, replayed from the log --------------------

def _summary_of(project: Any, document: Any) -> dict[str, Any]:
    return _summary(document.name, document.language, document.dataset, len(document.text),
                    len(document.live_labels(project)), document.version, document.created_on, document.modified_on)


def _document_then(project: Any, document: Any, unit: StringIndexType) -> dict:
    """The document's body as the live route answers it, from the aggregate."""
    offsets = OffsetMap(document.text)

    def origin(label: dict[str, Any]) -> dict[str, str]:
        o = label.get("origin")
        return {"kind": "acceptedSuggestion", "jobId": o["job_id"], "modelLabel": o["model_label"]} if o else {
            "kind": "user"}

    def order(item: tuple[str, dict[str, Any]]) -> tuple[int, int, int]:
        return item[1]["offset"], item[1]["length"], int(item[0][1:])  # as the read model orders them

    labels = sorted(document.live_labels(project).items(), key=order)
    pending = sorted(document.pending_suggestions(project).items(), key=order)
    return {
        **_summary_of(project, document),
        "text": document.text,
        "stringIndexType": unit.value,
        "labels": [{**_label(i, l["entity"], l["offset"], l["length"], offsets, unit), "origin": origin(l)}
                   for i, l in labels],
        "suggestions": [
            {**_label(i, s["entity"], s["offset"], s["length"], offsets, unit), "confidence": s["confidence"],
             "modelLabel": s["model_label"], "jobId": s["job_id"], "state": s["state"]}
            for i, s in pending
        ],
    }


def _documents_then(request: Request, container: ContainerDep, principal: PrincipalDep, paging: Any,
                    project_name: str, position: int) -> dict:
    history = History(container.app)
    project = history.project(principal.resource_id, project_name, position)
    names = history.document_ids(project, position)
    chosen = list(names.values())[paging.skip:paging.skip + paging.size]
    documents = history.documents(project, chosen, position)
    return page(request, paging, [_summary_of(project, d) for d in documents], paging.skip + paging.size < len(names))


# -- documents ----------------------------------------------------------------------------

@router.put("/{projectName}/documents/{documentName}", responses=created_or_updated(DocumentSummary))
def put_document(
    projectName: ProjectName, documentName: DocumentName, body: DocumentBody, response: Response,  # noqa: N803
    container: ContainerDep, principal: PrincipalDep,
) -> dict:
    """Adds a document (201), or answers 200 for the same content sent again."""
    new = NewDocument(documentName, body.text, body.language, body.dataset)
    (created,), position = container.app.add_documents(
        principal.resource_id, projectName, [new], principal.actor, single=True)
    record_write(response, container, principal, position)
    response.status_code = 201 if created else 200
    summary = _written_document(container, principal, projectName, documentName)
    response.headers["ETag"] = etag(summary["version"])
    return summary


@router.post("/{projectName}/documents/:batch", responses=ok(DocumentBatch))
def add_documents(
    projectName: ProjectName, body: DocumentBatchBody, response: Response,  # noqa: N803
    container: ContainerDep, principal: PrincipalDep,
) -> dict:
    """Adds many documents, all or nothing."""
    new = [NewDocument(d.name, d.text, d.language, d.dataset) for d in body.documents]
    created, position = container.app.add_documents(principal.resource_id, projectName, new, principal.actor)
    record_write(response, container, principal, position)
    return {"value": [
        {"name": d.name, "status": "created" if c else "unchanged"} for d, c in zip(new, created, strict=True)
    ]}


@router.get("/{projectName}/documents", dependencies=[Consistent], responses=ok(Page[DocumentSummary]))
def list_documents(
    projectName: ProjectName, request: Request, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
    paging: PagingDep, response: Response,
    labeled: bool | None = None,
    entity: Annotated[str | None, Query(min_length=1)] = None,
    dataset: Annotated[str | None, Query(pattern="^(Train|Test)$")] = None,
    autolabeled: bool | None = None,
    job: Annotated[str | None, Query(min_length=1)] = None,
    model: Annotated[str | None, Query(min_length=1)] = None,
    min_confidence: Annotated[float | None, Query(alias="minConfidence", ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(alias="maxConfidence", ge=0, le=1)] = None,
    at_position: AtPosition = None, as_of: AsOf = None,
) -> dict:
    """With `autolabeled`, `entity`, `job`, `model` and the confidence range pick the pending
    suggestions a document must have (or not have); otherwise `entity` picks by labels.
    With `atPosition` or `asOf`, the documents as they stood then (no filters)."""
    position = position_of(container, response, at_position, as_of)
    if position is not None:
        filters = {"labeled": labeled, "entity": entity, "dataset": dataset, "autolabeled": autolabeled, "job": job,
                   "model": model, "minConfidence": min_confidence, "maxConfidence": max_confidence}
        given = next((name for name, value in filters.items() if value is not None), None)
        if given is not None:
            raise ApiError(400, "InvalidArgument", f"{given} cannot be combined with atPosition or asOf: a past "
                           "document list is replayed page by page, unfiltered.", given)
        return _documents_then(request, container, principal, paging, projectName, position)
    pending = None
    if autolabeled is not None:
        pending = SuggestionMatch(entity, job, model, min_confidence, max_confidence)
        entity = None
    elif job or model or min_confidence is not None or max_confidence is not None:
        raise ApiError(400, "InvalidArgument", "job, model and the confidence range filter suggestions: "
                       "give autolabeled too.", "autolabeled")
    with container.reads.connect() as conn:
        project = project_row(conn, principal, projectName)
        result = queries.list_documents(conn, project.id, labeled=labeled, entity=entity, dataset=dataset,
                                        autolabeled=autolabeled, pending=pending, skip=paging.skip,
                                        limit=paging.size)
    return page(request, paging, [_summary_of_row(r) for r in result.rows], result.more)


@router.get("/{projectName}/documents/{documentName}", dependencies=[Consistent], responses=ok(Document))
def get_document(
    projectName: ProjectName, documentName: DocumentName, response: Response, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep, unit: IndexTypeDep, at_position: AtPosition = None, as_of: AsOf = None,
) -> dict:
    """A document with its labels, pending suggestions, version and ETag; with `atPosition` or
    `asOf`, as it stood then (replayed from the log, also if it was deleted since; no ETag)."""
    position = position_of(container, response, at_position, as_of)
    if position is not None:
        project, document = History(container.app).document(principal.resource_id, projectName, documentName,
                                                             position)
        return _document_then(project, document, unit)
    with container.reads.connect() as conn:
        found = queries.get_document(conn, project_id(principal, projectName), documentName)
        if found is None:
            project_row(conn, principal, projectName)  # 404 for the project, if that is what is missing
            raise ApiError(404, "NotFound", f"Document {documentName!r} was not found.", "documentName")
        row, labels = found
        suggested = queries.document_suggestions(conn, row.id)
    offsets = OffsetMap(row.text)
    response.headers["ETag"] = etag(row.version)
    return {
        **_summary_of_row(row),
        "text": row.text,
        "stringIndexType": unit.value,
        "labels": [{**_label(l.label_id, l.entity, l.offset, l.length, offsets, unit), "origin": _origin(l)}
                   for l in labels],
        # A model's pending suggestions, apart from the user's labels (Azure draws them dotted).
        "suggestions": [
            {**_label(s.suggestion_id, s.entity, s.offset, s.length, offsets, unit), "confidence": s.confidence,
             "modelLabel": s.model_label, "jobId": s.job_id, "state": s.state}
            for s in suggested if s.state == "pending"
        ],
    }


@router.patch("/{projectName}/documents/{documentName}", responses=ok(DocumentSummary))
def patch_document(
    projectName: ProjectName, documentName: DocumentName, body: DocumentPatchBody, response: Response,  # noqa: N803
    container: ContainerDep, principal: PrincipalDep,
) -> dict:
    """Moves a document to another dataset (Train or Test)."""
    position = container.app.change_dataset(
        principal.resource_id, projectName, documentName, body.dataset, principal.actor)
    record_write(response, container, principal, position)
    summary = _written_document(container, principal, projectName, documentName)
    response.headers["ETag"] = etag(summary["version"])
    return summary


@router.delete("/{projectName}/documents/{documentName}", status_code=204, response_class=Response)
def delete_document(
    projectName: ProjectName, documentName: DocumentName, response: Response,  # noqa: N803
    container: ContainerDep, principal: PrincipalDep,
) -> Response:
    """Deletes a document with its labels (its history stays in the log)."""
    position = container.app.delete_document(principal.resource_id, projectName, documentName, principal.actor)
    record_write(response, container, principal, position)
    response.status_code = 204
    return response


# -- labels -------------------------------------------------------------------------------

@router.post("/{projectName}/documents/{documentName}/labels", status_code=201,
             responses={201: {"model": Label, "description": "Added."}})
def add_label(
    projectName: ProjectName, documentName: DocumentName, body: LabelBody, response: Response,  # noqa: N803
    container: ContainerDep, principal: PrincipalDep, unit: IndexTypeDep,
    if_match: IfMatch = None,
) -> dict:
    """Adds one label; `If-Match` guards against a changed document."""
    saved = container.app.save_labels(
        principal.resource_id, projectName, documentName, add=[LabelSpec(body.category, body.offset, body.length)],
        unit=unit, if_match=parse_if_match(if_match), actor=principal.actor, single=True,
    )
    record_write(response, container, principal, saved.position)
    response.headers["ETag"] = etag(saved.version)
    return {"id": saved.added[0], "category": body.category, "offset": body.offset, "length": body.length}


@router.delete("/{projectName}/documents/{documentName}/labels/{labelId}", status_code=204, response_class=Response)
def remove_label(
    projectName: ProjectName, documentName: DocumentName, labelId: str, response: Response,  # noqa: N803
    container: ContainerDep, principal: PrincipalDep,
    if_match: IfMatch = None,
) -> Response:
    """Removes one label; `If-Match` guards against a changed document."""
    saved = container.app.save_labels(
        principal.resource_id, projectName, documentName, remove=[labelId],
        if_match=parse_if_match(if_match), actor=principal.actor, single=True,
    )
    record_write(response, container, principal, saved.position)
    response.headers["ETag"] = etag(saved.version)
    response.status_code = 204
    return response


@router.post("/{projectName}/documents/{documentName}/:save-labels", responses=ok(SavedLabels))
def save_labels(
    projectName: ProjectName, documentName: DocumentName, body: SaveLabelsBody, response: Response,  # noqa: N803
    container: ContainerDep, principal: PrincipalDep, unit: IndexTypeDep,
    if_match: IfMatch = None,
) -> dict:
    """Removals, suggestions rejected and accepted, additions: one atomic write; with If-Match,
    only if nobody wrote since."""
    saved = container.app.save_labels(
        principal.resource_id, projectName, documentName,
        add=[LabelSpec(a.category, a.offset, a.length) for a in body.add], remove=body.remove,
        accept=body.accept, reject=body.reject, unit=unit, if_match=parse_if_match(if_match), actor=principal.actor,
    )
    record_write(response, container, principal, saved.position)
    response.headers["ETag"] = etag(saved.version)
    return {
        "added": [
            {"id": label_id, "category": a.category, "offset": a.offset, "length": a.length}
            for label_id, a in zip(saved.added, body.add, strict=True)
        ],
        "removed": body.remove,
        "accepted": [{"suggestionId": s, "labelId": label_id} for s, label_id in zip(body.accept, saved.accepted,
                                                                                      strict=True)],
        "rejected": body.reject,
        "version": saved.version,
    }
