"""Prediction with a deployed model, as Azure's text-analysis runtime API answers it
(`POST /language/analyze-text/jobs` with CustomEntityRecognition tasks; its Python client
works against this). A job is predicted within its request: its model is the one each
deployment served when the job began, whatever happens to the deployment meanwhile; the
answer is 202 + Operation-Location of a job that has already succeeded.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import timedelta
from typing import Any

import regex
from fastapi import Request, Response

from spanledger.api.deps import ContainerDep, PrincipalDep, record_write
from spanledger.api.errors import ApiError
from spanledger.api.predictor import Predictor
from spanledger.api.response_bodies import AnalyzeTextJob, ok
from spanledger.api.responses import absolute_url, azure_time, segment
from spanledger.api.routing import authoring_router
from spanledger.api.schemas import AnalyzeTextJobBody, CustomEntitiesTask, RuntimeDocument
from spanledger.domain.errors import DomainError
from spanledger.domain.offsets import OffsetMap, StringIndexType
from spanledger.domain.rules import MAX_DOCUMENT_CHARACTERS, check_language
from spanledger.jobs.artifacts import ArtifactMissing

BASE = "/language/analyze-text"
router = authoring_router(BASE)
JOB_RETENTION = timedelta(days=1)
_RESULT_KIND = "CustomEntityRecognitionLROResults"


def _predictor(request: Request) -> Predictor:
    state = request.app.state
    if getattr(state, "predictor", None) is None:
        state.predictor = Predictor(state.container.artifacts)
    return state.predictor


def _document_error(doc_id: str, inner: str, message: str, code: str = "InvalidArgument",
                    outer: str = "Invalid document in request.") -> dict[str, Any]:
    return {"id": doc_id, "error": {"code": code, "message": outer, "innererror": {"code": inner, "message": message}}}


def _checked(doc: RuntimeDocument, default_language: str | None) -> dict[str, Any] | None:
    """Azure's per-document refusals (the job itself goes on)."""
    if not doc.text.strip():
        return _document_error(doc.id, "InvalidDocument", "Document text is empty.")
    if len(doc.text) > MAX_DOCUMENT_CHARACTERS:
        return _document_error(doc.id, "InvalidDocument", f"A document within the request was too large to be "
                               f"processed. Limit document size to: {MAX_DOCUMENT_CHARACTERS} characters.")
    try:
        check_language(doc.language or default_language or "en")
    except DomainError:
        return _document_error(doc.id, "UnsupportedLanguageCode", "Invalid language code.",
                               outer="Invalid Language Code.")
    return None


class _Units:
    """A text's code-point spans in the unit the task asked for: UTF-16 code units, code
    points, or text elements (grapheme clusters: Azure's TextElements_v8, its default)."""

    def __init__(self, text: str, unit: str):
        self.unit = unit
        self.offsets = OffsetMap(text)
        self.elements = [m.start() for m in regex.finditer(r"\X", text)] if unit == "TextElements_v8" else []

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.unit == "TextElements_v8":
            first, last = bisect_right(self.elements, start) - 1, bisect_right(self.elements, end - 1) - 1
            return first, last - first + 1
        return self.offsets.span_from_code_points(start, end - start, StringIndexType(self.unit))


def _run(task: CustomEntitiesTask, name: str, deployed: dict[str, Any], docs: list[RuntimeDocument],
         errors: list[dict[str, Any]], predictor: Predictor) -> dict[str, Any]:
    texts = [d.text for d in docs]
    predicted = predictor.predict(deployed["artifact"], texts)
    unit = task.parameters.string_index_type
    documents = []
    for doc, spans in zip(docs, predicted, strict=True):
        units = _Units(doc.text, unit)
        entities = []
        for s in spans:
            offset, length = units.span(s.start, s.end)
            entities.append({"text": doc.text[s.start:s.end], "category": s.label, "offset": offset,
                             "length": length, "confidenceScore": round(s.score, 4)})
        documents.append({"id": doc.id, "entities": entities, "warnings": []})
    return {"kind": _RESULT_KIND, "taskName": name, "status": "succeeded",
            "results": {"documents": documents, "errors": errors, "projectName": task.parameters.project_name,
                        "deploymentName": task.parameters.deployment_name,
                        "modelLabel": deployed["model_label"]}}


@router.post("/jobs", status_code=202, response_class=Response)
def analyze(body: AnalyzeTextJobBody, request: Request, container: ContainerDep, principal: PrincipalDep) -> Response:
    """Runs each task's deployed model on the documents (202 + Operation-Location of the job)."""
    app = container.app
    seen: set[str] = set()
    for i, doc in enumerate(body.analysis_input.documents):
        if doc.id in seen:
            raise ApiError(400, "InvalidArgument", f"Document id {doc.id!r} appears twice.",
                           f"analysisInput.documents[{i}].id")
        seen.add(doc.id)
    resolved = []
    for i, task in enumerate(body.tasks):  # every model resolved once, before any prediction
        try:
            deployed = app.deployed(principal.resource_id, task.parameters.project_name,
                                    task.parameters.deployment_name)
        except DomainError as error:
            error.target = f"tasks[{i}].parameters.{error.target}"
            raise
        if not _predictor(request).available(deployed["artifact"]):
            raise ApiError(404, "ModelNotFound", f"The model of deployment {task.parameters.deployment_name!r} is "
                           "not stored on this server.", f"tasks[{i}].parameters.deploymentName")
        resolved.append(deployed)
    errors = [e for d in body.analysis_input.documents if (e := _checked(d, body.default_language))]
    refused = {e["id"] for e in errors}
    valid = [d for d in body.analysis_input.documents if d.id not in refused]
    items = [_run(task, task.task_name or f"{task.kind}_{i}", deployed, valid, errors, _predictor(request))
             for i, (task, deployed) in enumerate(zip(body.tasks, resolved, strict=True))]
    digest = container.artifacts.put_json({"displayName": body.display_name, "items": items})
    tasks = [{"project_id": d["project_id"], "deployment": t.parameters.deployment_name,
              "model_label": d["model_label"], "artifact": d["artifact"]} for t, d in zip(body.tasks, resolved,
                                                                                           strict=True)]
    job_id, position = app.record_prediction(principal.resource_id, tasks, digest, len(body.analysis_input.documents),
                                             body.display_name, principal.actor)
    url = absolute_url(request, f"{BASE}/jobs/{segment(job_id)}",
                       **{"api-version": request.query_params["api-version"]})
    response = Response(status_code=202, headers={"Operation-Location": url})
    record_write(response, container, principal, position)
    return response


@router.get("/jobs/{jobId}", responses=ok(AnalyzeTextJob))
def job(jobId: str, container: ContainerDep, principal: PrincipalDep) -> dict:  # noqa: N803
    """An analyze-text job with its results (Azure's shape)."""
    found = container.app.prediction_job(principal.resource_id, jobId)
    try:
        results = container.artifacts.get_json(found.results)
    except ArtifactMissing:
        raise ApiError(404, "NotFound", f"The results of job {jobId!r} are not stored on this server.",
                       "jobId") from None
    at = azure_time(found.created_on)
    items = [{**item, "lastUpdateDateTime": at} for item in results["items"]]
    body = {"jobId": jobId, "createdDateTime": at, "lastUpdatedDateTime": at,
            "expirationDateTime": azure_time(found.created_on + JOB_RETENTION), "status": "succeeded",
            "errors": [], "tasks": {"completed": len(items), "failed": 0, "inProgress": 0, "total": len(items),
                                    "items": items}}
    if results["displayName"] is not None:
        body["displayName"] = results["displayName"]
    return body
