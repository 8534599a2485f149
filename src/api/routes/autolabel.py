"""Auto-labeling jobs (spanledger extension, in the style of Azure's job routes): preview the
cost, start against the monthly quota, watch, list, cancel."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import Header, Request, Response
from sqlalchemy import Connection

from spanledger.api.deps import Consistent, ContainerDep, PagingDep, PrincipalDep, ProjectName, page, record_write
from spanledger.api.errors import ApiError
from spanledger.api.response_bodies import AutoLabelJob, Page, Preview, ok
from spanledger.api.responses import absolute_url, azure_time, segment
from spanledger.api.routes.projects import project_id, project_row
from spanledger.api.routing import BASE, authoring_router
from spanledger.api.schemas import AutoLabelBody, DocumentFilterBody, ErrorBody
from spanledger.domain.autolabel import choose_entities
from spanledger.ner.postprocess import estimate
from spanledger.projections import queries

router = authoring_router()
JOB_RETENTION = timedelta(days=7)
_MAX_IDEMPOTENCY_KEY = 200


def _job_url(request: Request, project: str, job_id: str) -> str:
    return absolute_url(request, f"{BASE}/{segment(project)}/autolabel/jobs/{segment(job_id)}",
                        **{"api-version": request.query_params["api-version"]})


def render_job(row: Any) -> dict[str, Any]:
    ended = row.status in ("succeeded", "failed", "cancelled")
    created = datetime.fromisoformat(row.created_at)
    return {
        "jobId": row.job_id,
        "createdDateTime": azure_time(created),
        "lastUpdatedDateTime": azure_time(row.updated_at),
        "expirationDateTime": azure_time(created + JOB_RETENTION),
        "status": row.status,
        "errors": row.errors,
        "warnings": [],
        "result": {
            "modelLabel": row.model_label,
            "entities": row.entities,
            "minConfidence": row.min_confidence,
            "percentComplete": 100 if row.status == "succeeded" else row.documents_done * 100 // row.documents,
            "documents": row.documents,
            "documentsDone": row.documents_done,
            "suggestions": row.suggestions,
            "textRecords": row.text_records,
            # What it processed is charged at its end; the rest of the reservation refunded.
            "textRecordsCharged": row.records_processed,
            "textRecordsRefunded": row.text_records - row.records_processed if ended else 0,
            "startDateTime": azure_time(row.started_at),
            "endDateTime": azure_time(row.ended_at),
        },
    }


def _selection(conn: Connection, project: Any, body: AutoLabelBody) -> list[Any]:
    """The documents the body names, or those its filter matches (default: unlabeled)."""
    if body.documents is not None and body.filter is not None:
        raise ApiError(400, "InvalidArgument", "Give documents or a filter, not both.", "filter")
    if body.documents is not None:
        seen: set[str] = set()
        for i, name in enumerate(body.documents):
            if name in seen:
                raise ApiError(400, "InvalidArgument", f"Document {name!r} appears twice.", f"documents[{i}]")
            seen.add(name)
        rows = queries.select_documents(conn, project.id, names=body.documents)
        if len(rows) < len(body.documents):
            found = {r.name for r in rows}
            i, name = next((i, n) for i, n in enumerate(body.documents) if n not in found)
            raise ApiError(400, "InvalidArgument", f"Document {name!r} was not found in project {project.name!r}.",
                           f"documents[{i}]")
        return rows
    where = body.filter or DocumentFilterBody(labeled=False)
    rows = queries.select_documents(conn, project.id, labeled=where.labeled, entity=where.entity,
                                    dataset=where.dataset)
    if not rows:
        raise ApiError(400, "InvalidArgument", "No document matches the filter.", "filter")
    return rows


def _estimate(metrics: dict[str, Any], entity: str, min_confidence: float) -> dict[str, float | None] | None:
    """Precision and recall of the suggestions a minConfidence would keep, as measured on the
    model's test documents with its calibrated confidences (None for a model without them)."""
    table = metrics.get("postprocessing", {}).get("byConfidence")
    return estimate(table, entity, min_confidence) if table else None


@router.post("/{projectName}/autolabel/:preview", dependencies=[Consistent], responses=ok(Preview))
def preview(projectName: ProjectName, body: AutoLabelBody, container: ContainerDep, principal: PrincipalDep) -> dict:  # noqa: N803
    """What the job would cost and whether it fits; records nothing."""
    app = container.app
    project = app.get_project(principal.resource_id, projectName)
    with container.reads.connect() as conn:
        row = project_row(conn, principal, projectName)
        model = queries.get_model(conn, row.id, body.model_label)
        if model is None:
            raise ApiError(404, "NotFound", f"Project {projectName!r} has no model {body.model_label!r}.",
                           "modelLabel")
        chosen = choose_entities(body.model_label, model.entity_types, project.entities, body.entities)
        documents = _selection(conn, row, body)
        label_counts = {e["category"]: sum(e["labels"].values()) for e in queries.entity_statistics(conn, row.id)}
    month, limit, used = app.quota_standing(principal.resource_id, datetime.now(UTC))
    needed = sum(d.text_records for d in documents)
    remaining = max(limit - used, 0)
    scores = model.metrics["entities"]
    return {
        "modelLabel": model.label,
        "lastTrainedDateTime": azure_time(model.trained_at),
        "minConfidence": body.min_confidence,
        "entities": [
            {"category": name, "labels": label_counts.get(name, 0),
             "precision": scores.get(name, {}).get("precision"), "recall": scores.get(name, {}).get("recall"),
             "f1": scores.get(name, {}).get("f1"),
             "atMinConfidence": _estimate(model.metrics, name, body.min_confidence)}
            for name in chosen
        ],
        "atMinConfidence": _estimate(model.metrics, "*", body.min_confidence),
        "documents": [{"name": d.name, "characters": d.characters, "textRecords": d.text_records}
                      for d in documents],
        "documentCount": len(documents),
        "textRecords": needed,
        "quota": {"month": month, "limit": limit, "used": used, "remaining": remaining},
        "fits": needed <= remaining,
    }


@router.post("/{projectName}/autolabel/jobs", status_code=202, response_class=Response, dependencies=[Consistent], responses={
    403: {"model": ErrorBody, "description": "QuotaExceeded: the month's text records do not cover the job."},
    422: {"model": ErrorBody, "description": "IdempotencyKeyReused: the key came with another request before."},
})
def start(
    projectName: ProjectName, body: AutoLabelBody, request: Request, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Starts an auto-labeling job: reserves its text records on the month's quota (202 + Operation-Location)."""
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= _MAX_IDEMPOTENCY_KEY:
        raise ApiError(400, "InvalidArgument", f"Idempotency-Key must be 1-{_MAX_IDEMPOTENCY_KEY} characters.",
                       "Idempotency-Key")
    digest = hashlib.sha256(orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()
    existing = idempotency_key and container.app.autolabel_job_by_key(principal.resource_id, projectName,
                                                                      idempotency_key, digest)
    if existing:  # a retry: the job the first start made, whatever the documents look like now
        return Response(status_code=202, headers={"Operation-Location": _job_url(request, projectName,
                                                                                 str(existing.id)),
                                                  "Idempotent-Replayed": "true"})
    with container.reads.connect() as conn:
        documents = _selection(conn, project_row(conn, principal, projectName), body)
    job, position, started = container.app.start_autolabel(
        principal.resource_id, projectName, model_label=body.model_label, entities=body.entities,
        documents=[(d.name, d.text_records) for d in documents], min_confidence=body.min_confidence,
        idempotency_key=idempotency_key, request_digest=digest, actor=principal.actor, now=datetime.now(UTC),
    )
    headers = {"Operation-Location": _job_url(request, projectName, str(job.id))}
    if not started:
        headers["Idempotent-Replayed"] = "true"
    response = Response(status_code=202, headers=headers)
    record_write(response, container, principal, position)
    return response


@router.get("/{projectName}/autolabel/jobs/{jobId}", dependencies=[Consistent], responses=ok(AutoLabelJob))
def get_job(projectName: ProjectName, jobId: str, container: ContainerDep, principal: PrincipalDep) -> dict:  # noqa: N803
    """An auto-labeling job: status, progress, suggestions, text records charged and refunded."""
    with container.reads.connect() as conn:
        row = queries.get_autolabel_job(conn, project_id(principal, projectName), jobId)
        if row is None:
            project_row(conn, principal, projectName)
            raise ApiError(404, "NotFound", f"Project {projectName!r} has no auto-labeling job {jobId!r}.", "jobId")
    return render_job(row)


@router.get("/{projectName}/autolabel/jobs", dependencies=[Consistent], responses=ok(Page[AutoLabelJob]))
def list_jobs(
    projectName: ProjectName, request: Request, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
    paging: PagingDep,
) -> dict:
    """The project's auto-labeling jobs, newest first."""
    with container.reads.connect() as conn:
        project = project_row(conn, principal, projectName)
        result = queries.list_autolabel_jobs(conn, project.id, paging.skip, paging.size)
    return page(request, paging, [render_job(r) for r in result.rows], result.more)


@router.post("/{projectName}/autolabel/jobs/{jobId}/:cancel", status_code=202, response_class=Response)
def cancel(
    projectName: ProjectName, jobId: str, request: Request, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep,
) -> Response:
    """Asks a running auto-labeling job to stop; what it did not process is refunded."""
    position = container.app.cancel_autolabel(principal.resource_id, projectName, jobId, principal.actor,
                                              datetime.now(UTC))
    response = Response(status_code=202, headers={"Operation-Location": _job_url(request, projectName, jobId)})
    record_write(response, container, principal, position)
    return response
