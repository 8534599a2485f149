"""Deployments, as in Azure's authoring API: deploy a trained model under a name, get, list,
delete, swap two. Each change is a long-running operation (202 + Operation-Location of its
job) that has finished by the time the answer leaves, as the change is one event."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Path, Request, Response

from spanledger.api.deps import ContainerDep, PagingDep, PrincipalDep, ProjectName, page, record_write
from spanledger.api.response_bodies import Deployment, DeploymentJob, Page, ok
from spanledger.api.responses import absolute_url, azure_time, finished_job, segment
from spanledger.api.routing import BASE, authoring_router
from spanledger.api.schemas import DeployBody, SwapBody

router = authoring_router()
JOB_RETENTION = timedelta(days=7)
DEPLOYMENT_LIFETIME = timedelta(days=365)
DeploymentName = Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$",
                                     description="letters, digits, '_', '.' or '-'; not 'swap'")]


def _job_url(request: Request, project: str, tail: str) -> str:
    return absolute_url(request, f"{BASE}/{segment(project)}/deployments/{tail}",
                        **{"api-version": request.query_params["api-version"]})


def _accepted(request: Request, container: Any, principal: Any, url: str, position: int | None) -> Response:
    response = Response(status_code=202, headers={"Operation-Location": url})
    record_write(response, container, principal, position)
    return response


def render_deployment(name: str, d: dict[str, str]) -> dict[str, Any]:
    deployed = datetime.fromisoformat(d["deployed_at"])
    trained = datetime.fromisoformat(d["trained_at"])
    return {
        "deploymentName": name,
        "modelId": f"{d['model_label']}-{trained.strftime('%Y%m%dT%H%M%SZ')}-{d['artifact'][:8]}",
        "lastTrainedDateTime": azure_time(trained),
        "lastDeployedDateTime": azure_time(deployed),
        "deploymentExpirationDate": (deployed + DEPLOYMENT_LIFETIME).date().isoformat(),
        "modelTrainingConfigVersion": d["training_config_version"],
        "assignedResources": [],
        "trainedModelLabel": d["model_label"],
    }


@router.post("/{projectName}/deployments/:swap", status_code=202, response_class=Response)
def swap(projectName: ProjectName, body: SwapBody, request: Request, container: ContainerDep,  # noqa: N803
         principal: PrincipalDep) -> Response:
    """Swaps the models two deployments serve (202 + Operation-Location)."""
    job_id, position = container.app.swap_deployments(principal.resource_id, projectName, body.first_deployment_name,
                                                      body.second_deployment_name, principal.actor)
    return _accepted(request, container, principal, _job_url(request, projectName, f"swap/jobs/{segment(job_id)}"),
                     position)


@router.get("/{projectName}/deployments/swap/jobs/{jobId}", responses=ok(DeploymentJob))
def swap_job(projectName: ProjectName, jobId: str, container: ContainerDep, principal: PrincipalDep) -> dict:  # noqa: N803
    """A swap job."""
    job = container.app.get_project(principal.resource_id, projectName).operation(jobId, ("swap",))
    return finished_job(jobId, job["at"], JOB_RETENTION)


@router.put("/{projectName}/deployments/{deploymentName}", status_code=202, response_class=Response)
def deploy(projectName: ProjectName, deploymentName: DeploymentName, body: DeployBody, request: Request,  # noqa: N803
           container: ContainerDep, principal: PrincipalDep) -> Response:
    """Deploys a trained model under the name, replacing what it served (202 + Operation-Location)."""
    job_id, position = container.app.deploy(principal.resource_id, projectName, deploymentName,
                                            body.trained_model_label, principal.actor)
    url = _job_url(request, projectName, f"{segment(deploymentName)}/jobs/{segment(job_id)}")
    return _accepted(request, container, principal, url, position)


@router.get("/{projectName}/deployments/{deploymentName}", responses=ok(Deployment))
def get_deployment(projectName: ProjectName, deploymentName: DeploymentName, container: ContainerDep,  # noqa: N803
                   principal: PrincipalDep) -> dict:
    """A deployment: the model it serves."""
    project = container.app.get_project(principal.resource_id, projectName)
    return render_deployment(deploymentName, project.deployment(deploymentName))


@router.get("/{projectName}/deployments", responses=ok(Page[Deployment]))
def list_deployments(projectName: ProjectName, request: Request, container: ContainerDep,  # noqa: N803
                     principal: PrincipalDep, paging: PagingDep) -> dict:
    """The project's deployments, by name."""
    deployed = sorted(container.app.get_project(principal.resource_id, projectName).deployments().items())
    items = [render_deployment(n, d) for n, d in deployed[paging.skip:paging.skip + paging.size]]
    return page(request, paging, items, paging.skip + paging.size < len(deployed))


@router.delete("/{projectName}/deployments/{deploymentName}", status_code=202, response_class=Response)
def delete_deployment(projectName: ProjectName, deploymentName: DeploymentName, request: Request,  # noqa: N803
                      container: ContainerDep, principal: PrincipalDep) -> Response:
    """Deletes a deployment (202 + Operation-Location); prediction jobs already started finish
    with the model they began with."""
    job_id, position = container.app.delete_deployment(principal.resource_id, projectName, deploymentName,
                                                       principal.actor)
    url = _job_url(request, projectName, f"{segment(deploymentName)}/jobs/{segment(job_id)}")
    return _accepted(request, container, principal, url, position)


@router.get("/{projectName}/deployments/{deploymentName}/jobs/{jobId}", responses=ok(DeploymentJob))
def deployment_job(projectName: ProjectName, deploymentName: DeploymentName, jobId: str,  # noqa: N803
                   container: ContainerDep, principal: PrincipalDep) -> dict:
    """A deploy or delete job of the deployment."""
    job = container.app.get_project(principal.resource_id, projectName).operation(
        jobId, ("deploy", "deleteDeployment"), deploymentName)
    return finished_job(jobId, job["at"], JOB_RETENTION)
