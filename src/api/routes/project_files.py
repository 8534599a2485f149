"""Azure project files in and out (`:import`, `:export`), as in Azure's authoring API: each a
long-running operation (202 + Operation-Location of its job). Both finish within the
request, so their jobs have succeeded by the time a client polls; a file that cannot be
imported is refused at once (400, `target` the JSON pointer of the offending field) and
leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Body, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse

from spanledger.api.collector import collector_paused
from spanledger.api.deps import Consistent, ContainerDep, IndexTypeDep, PrincipalDep, ProjectName, record_write
from spanledger.api.errors import ApiError
from spanledger.api.project_export import current_file_chunks, model_documents, project_fields, snapshot
from spanledger.api.response_bodies import ExportJob, ImportJob, ProjectFile, ok
from spanledger.api.responses import absolute_url, finished_job, segment
from spanledger.api.routes.projects import project_row
from spanledger.api.routing import BASE, authoring_router
from spanledger.domain import project_file
from spanledger.jobs.artifacts import ArtifactMissing

router = authoring_router()
JOB_RETENTION = timedelta(days=7)


async def _raw_body(request: Request) -> bytes:
    return await request.body()  # read (and limited) by api.guard already


def _job_url(request: Request, project: str, kind: str, job_id: str, tail: str = "") -> str:
    return absolute_url(request, f"{BASE}/{segment(project)}/{kind}/jobs/{segment(job_id)}{tail}",
                        **{"api-version": request.query_params["api-version"]})


@router.post("/{projectName}/:import", status_code=202, response_class=Response)
def import_project(
    projectName: ProjectName, request: Request, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
    body: Annotated[dict[str, Any], Body(description=(
        "An Azure project file (projectFileVersion 2022-05-01 or later, CustomEntityRecognition). A document's "
        "text is its `text` field (spanledger's extension) or, by `location`, the project's document of that "
        "name."))],
    raw: Annotated[bytes, Depends(_raw_body)],
    file_format: Annotated[str | None, Header(alias="format", description="json (the only one)")] = None,
) -> Response:
    """Makes the project from a project file, replacing it if it exists (202 + Operation-Location)."""
    if file_format is not None and file_format.lower() != "json":
        raise ApiError(400, "InvalidArgument", "spanledger imports the json format only.", "format")
    with collector_paused():
        job_id, position = container.app.import_project(principal.resource_id, projectName, body,
                                                        hashlib.sha256(raw).hexdigest(), principal.actor)
    response = Response(status_code=202,
                        headers={"Operation-Location": _job_url(request, projectName, "import", job_id)})
    record_write(response, container, principal, position)
    return response


@router.get("/{projectName}/import/jobs/{jobId}", responses=ok(ImportJob))
def import_job(projectName: ProjectName, jobId: str, container: ContainerDep, principal: PrincipalDep) -> dict:  # noqa: N803
    """An import job (it succeeded: a refused file never makes one)."""
    job = container.app.get_project(principal.resource_id, projectName).operation(jobId, ("import",))
    return finished_job(jobId, job["at"], JOB_RETENTION)


@router.post("/{projectName}/:export", status_code=202, response_class=Response, dependencies=[Consistent])
def export_project(
    projectName: ProjectName, request: Request, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
    unit: IndexTypeDep,
    trained_model_label: Annotated[str | None, Query(alias="trainedModelLabel", min_length=1, max_length=50)] = None,
) -> Response:
    """Writes the project as a project file: its current labels, or with `trainedModelLabel` the
    documents and labels that model trained and was tested on (202 + Operation-Location; the
    job's `resultUrl` serves the file)."""
    app = container.app
    with container.reads.connect() as conn:
        row = project_row(snapshot(conn), principal, projectName)
        if trained_model_label is None:
            digest = container.artifacts.put_chunks(current_file_chunks(conn, row, unit))
    if trained_model_label is not None:
        documents, entities = model_documents(container, principal, projectName, trained_model_label, row.language)
        file = project_file.write({"name": row.name, "fields": project_fields(row)}, entities, documents, unit)
        digest = container.artifacts.put_json(file)
    job_id, position = app.record_export(principal.resource_id, projectName, digest, unit.value, principal.actor)
    response = Response(status_code=202,
                        headers={"Operation-Location": _job_url(request, projectName, "export", job_id)})
    record_write(response, container, principal, position)
    return response


@router.get("/{projectName}/export/jobs/{jobId}", responses=ok(ExportJob))
def export_job(
    projectName: ProjectName, jobId: str, request: Request, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
) -> dict:
    """An export job, with the URL of its file (`resultUrl`, the same key reads it)."""
    job = container.app.get_project(principal.resource_id, projectName).operation(jobId, ("export",))
    result = _job_url(request, projectName, "export", jobId, "/result")
    return {**finished_job(jobId, job["at"], JOB_RETENTION), "resultUrl": result}


@router.get("/{projectName}/export/jobs/{jobId}/result", response_class=FileResponse,
            responses=ok(ProjectFile, "The project file."))
def export_result(projectName: ProjectName, jobId: str, container: ContainerDep, principal: PrincipalDep) -> FileResponse:  # noqa: N803
    """The file an export job wrote."""
    job = container.app.get_project(principal.resource_id, projectName).operation(jobId, ("export",))
    try:
        path = container.artifacts.path(job["digest"])
    except ArtifactMissing:
        raise ApiError(404, "NotFound", f"The file of export job {jobId!r} is not stored on this server.",
                       "jobId") from None
    return FileResponse(path, media_type="application/json")


