"""Documents in and out as JSONL (Prodigy's and doccano's) and CoNLL files (spanledger
extension): the formats the NER tools a team already uses read and write."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from spanledger.api.collector import collector_paused
from spanledger.api.deps import Consistent, ContainerDep, PrincipalDep, ProjectName, record_write
from spanledger.api.errors import ApiError
from spanledger.api.project_export import model_documents
from spanledger.api.response_bodies import DocumentsImported, ok
from spanledger.api.routes.projects import project_row
from spanledger.api.routing import authoring_router
from spanledger.domain.offsets import StringIndexType
from spanledger.formats import conll, jsonl
from spanledger.projections import queries

router = authoring_router()
Format = Annotated[Literal["jsonl", "conll"], Query(alias="format", description="jsonl (Prodigy's spans; doccano's label too) or conll")]
Unit = Annotated[StringIndexType, Query(alias="stringIndexType", description=(
    "JSONL offsets: UnicodeCodePoint (what Prodigy and doccano count, the default) or Utf16CodeUnit"))]
_MEDIA = {"jsonl": "application/x-ndjson", "conll": "text/plain; charset=utf-8"}


async def _raw_body(request: Request) -> bytes:
    return await request.body()  # read (and limited) by api.guard already


@router.post("/{projectName}/documents/:import", responses=ok(DocumentsImported), openapi_extra={
    "requestBody": {"required": True, "content": {"application/x-ndjson": {"schema": {"type": "string"}},
                                                  "text/plain": {"schema": {"type": "string"}}}}})
def import_documents(
    projectName: ProjectName, response: Response, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
    raw: Annotated[bytes, Depends(_raw_body)], file_format: Format, unit: Unit = StringIndexType.CODE_POINT,
    name_prefix: Annotated[str, Query(alias="namePrefix", min_length=1, max_length=40, pattern=r"^[\w.\-]+$",
                                      description="names of documents the file does not name")] = "doc",
) -> dict:
    """Adds the file's documents with their labels, all or nothing; its entity types the project
    lacks are added. Refusals name where in the file (`lines/3/spans/1/start`, `documents/2`)."""
    with collector_paused():
        documents = (jsonl.read(raw, unit, name_prefix) if file_format == "jsonl" else conll.read(raw, name_prefix))
        added, position = container.app.import_documents(principal.resource_id, projectName, documents,
                                                         principal.actor)
    record_write(response, container, principal, position)
    return {"documents": len(documents), "labels": sum(len(d.labels) for d in documents), "entitiesAdded": added}


_PAGE = 200  # documents read at a time: an export's memory does not grow with the project


def _current(container: Any, project_id: str, suggestions: bool) -> Iterator[dict[str, Any]]:
    """The project's documents with their labels (and pending suggestions), a page at a time,
    each page as the read model holds it when it is read."""
    after = None
    while True:
        with container.reads.connect() as conn:
            page = queries.documents_with_labels(conn, project_id, after=after, limit=_PAGE)
            pending = (queries.pending_suggestions(conn, project_id, [d["name"] for d in page])
                       if suggestions and page else {})
        if not page:
            return
        for doc in page:
            if suggestions:
                doc["suggestions"] = pending.get(doc["name"], [])
            yield doc
        after = page[-1]["name"]


@router.get("/{projectName}/documents/:export", dependencies=[Consistent], response_class=StreamingResponse,
            responses={200: {"description": "The file.", "content": {m: {"schema": {"type": "string"}}
                                                                     for m in _MEDIA.values()}}})
def export_documents(
    projectName: ProjectName, container: ContainerDep, principal: PrincipalDep, file_format: Format,  # noqa: N803
    unit: Unit = StringIndexType.CODE_POINT,
    include: Annotated[Literal["labels", "suggestions"], Query(
        description="suggestions: the pending ones too (JSONL), apart from the labels")] = "labels",
    scheme: Annotated[Literal["BIO", "BIOES"], Query(description="CoNLL tags")] = "BIO",
    trained_model_label: Annotated[str | None, Query(alias="trainedModelLabel", min_length=1, max_length=50,
                                                     description="what this model trained and was tested on")] = None,
) -> StreamingResponse:
    """The project's documents as JSONL or CoNLL: their labels now, with the pending suggestions,
    or what a model trained on (replayed from the log)."""
    if include == "suggestions" and (file_format == "conll" or trained_model_label):
        raise ApiError(400, "InvalidArgument", "Suggestions go in JSONL exports of the current labels only.",
                       "include")
    with container.reads.connect() as conn:
        row = project_row(conn, principal, projectName)
    if trained_model_label is None:
        documents: Iterable[dict[str, Any]] = _current(container, row.id, include == "suggestions")
    else:
        documents, _ = model_documents(container, principal, projectName, trained_model_label, row.language)
    headers = {"Content-Disposition": f'attachment; filename="{projectName}.{file_format}"'}
    if file_format == "jsonl":
        return StreamingResponse(jsonl.write(documents, unit), media_type=_MEDIA["jsonl"], headers=headers)
    lines, left_out = conll.write(documents, scheme)
    headers["X-Labels-Left-Out"] = str(left_out)  # overlapping labels one tag column cannot hold
    return StreamingResponse(iter(["\n".join(lines) + "\n"]), media_type=_MEDIA["conll"], headers=headers)
