"""Projects, as in Azure's text authoring API (its Python client works against these)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from sqlalchemy import Connection

from spanledger.api.deps import Consistent, ContainerDep, PagingDep, PrincipalDep, ProjectName, page, record_write
from spanledger.api.errors import ApiError
from spanledger.api.response_bodies import DeletionJob, Page, ProjectMetadata, created_or_updated, ok
from spanledger.api.responses import absolute_url, azure_time, finished_job, segment
from spanledger.api.routing import BASE, authoring_router
from spanledger.api.schemas import ProjectBody
from spanledger.domain import ids
from spanledger.domain.application import Principal
from spanledger.domain.project import PROJECT_FIELDS, Project
from spanledger.projections import queries

PROJECT_KIND = "CustomEntityRecognition"
JOB_RETENTION = timedelta(days=7)

router = authoring_router()

# Azure's camelCase field -> the project field it sets (None in a merge patch resets it).
_FIELDS = {
    "language": "language",
    "description": "description",
    "multilingual": "multilingual",
    "settings": "settings",
    "storageInputContainerName": "storage_input_container_name",
    "overlapPolicy": "overlap_policy",
}


def render_project(name: str, fields: dict[str, Any], created: Any, modified: Any,
                   last_trained: str | None = None) -> dict[str, Any]:
    body = {
        "projectName": name,
        "projectKind": PROJECT_KIND,
        "language": fields["language"],
        "description": fields["description"],
        "multilingual": fields["multilingual"],
        "settings": fields["settings"],
        "storageInputContainerName": fields["storage_input_container_name"],
        "overlapPolicy": fields["overlap_policy"],
        "createdDateTime": azure_time(created),
        "lastModifiedDateTime": azure_time(modified),
    }
    if last_trained:
        body["lastTrainedDateTime"] = azure_time(last_trained)
    return body


def _from_aggregate(project: Project) -> dict[str, Any]:
    return render_project(project.name, project.fields, project.created_on, project.modified_on)


def _from_row(row: Any, conn: Connection) -> dict[str, Any]:
    return render_project(row.name, row._mapping, row.created_at, row.modified_at, queries.last_trained(conn, row.id))


def project_id(principal: Principal, name: str) -> str:
    """Another resource's project of the same name has another id: it is simply not found."""
    return str(ids.project_id(principal.resource_id, name))


def project_row(conn: Connection, principal: Principal, name: str) -> Any:
    """The project's read-model row, or 404."""
    row = queries.get_project(conn, project_id(principal, name))
    if row is None:
        raise ApiError(404, "NotFound", f"Project {name!r} was not found.", "projectName")
    return row


@router.get("", dependencies=[Consistent], responses=ok(Page[ProjectMetadata]))
def list_projects(request: Request, container: ContainerDep, principal: PrincipalDep, paging: PagingDep) -> dict:
    """The resource's projects (Azure's shape, paged)."""
    with container.reads.connect() as conn:
        result = queries.list_projects(conn, str(principal.resource_id), paging.skip, paging.size)
        items = [_from_row(r, conn) for r in result.rows]
    return page(request, paging, items, result.more)


@router.get("/global/deletion-jobs/{jobId}", dependencies=[Consistent], responses=ok(DeletionJob))
def deletion_job(jobId: str, container: ContainerDep, principal: PrincipalDep) -> dict:  # noqa: N803
    """The job that deleted a project (Azure's long-running operation)."""
    with container.reads.connect() as conn:
        row = queries.deletion_job(conn, str(principal.resource_id), jobId)
    if row is None:
        raise ApiError(404, "NotFound", f"No project deletion job {jobId!r}.", "jobId")
    return finished_job(row.job_id, row.created_at, JOB_RETENTION)


# Consistent: switching overlapPolicy to reject looks for overlaps in the read model, which
# must hold the caller's own label writes first.
@router.patch("/{projectName}", dependencies=[Consistent], responses=created_or_updated(ProjectMetadata))
def create_or_update_project(
    projectName: ProjectName, body: ProjectBody, response: Response,  # noqa: N803
    container: ContainerDep, principal: PrincipalDep,
) -> dict:
    """Creates a project (201) or merges the body into it (200), as Azure's merge-patch."""
    if body.project_name is not None and body.project_name != projectName:
        raise ApiError(400, "InvalidArgument", "projectName in the body differs from the one in the URL.", "projectName")
    if body.project_kind is not None and body.project_kind != PROJECT_KIND:
        raise ApiError(400, "InvalidArgument", f"spanledger serves projectKind {PROJECT_KIND} only.", "projectKind")
    given = body.model_dump(by_alias=True, exclude_unset=True)
    fields = {
        field: given[key] if given[key] is not None else PROJECT_FIELDS[field]
        for key, field in _FIELDS.items() if key in given
    }
    created, position = container.app.put_project(principal.resource_id, projectName, fields, principal.actor)
    record_write(response, container, principal, position)
    response.status_code = 201 if created else 200
    return _from_aggregate(container.app.get_project(principal.resource_id, projectName))


@router.get("/{projectName}", dependencies=[Consistent], responses=ok(ProjectMetadata))
def get_project(projectName: ProjectName, container: ContainerDep, principal: PrincipalDep) -> dict:  # noqa: N803
    """A project's metadata and settings."""
    with container.reads.connect() as conn:
        return _from_row(project_row(conn, principal, projectName), conn)


@router.delete("/{projectName}", status_code=202, response_class=Response)
def delete_project(projectName: ProjectName, request: Request, container: ContainerDep, principal: PrincipalDep) -> Response:  # noqa: N803
    """Deletes a project (202 + Operation-Location of the deletion job)."""
    job_id, position = container.app.delete_project(principal.resource_id, projectName, principal.actor)
    response = Response(status_code=202)
    response.headers["Operation-Location"] = absolute_url(
        request, f"{BASE}/global/deletion-jobs/{segment(job_id)}", **{"api-version": request.query_params["api-version"]}
    )
    record_write(response, container, principal, position)
    return response
