"""Deployments (mixed into Spanledger): a name under which a project serves one trained model
to prediction, as in Azure. Each change is an event on the project with the job id its
long-running operation answers by; a deployment keeps the model file it was given, so a
prediction job that resolved it once predicts with one model throughout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from spanledger.domain.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from spanledger.domain.application import Spanledger

RESERVED_DEPLOYMENT_NAMES = {"swap"}  # the swap job's path segment


class DeploymentCommands:
    def deploy(self: Spanledger, resource_id: UUID, project_name: str, name: str, model_label: str,
               actor: str) -> tuple[str, int | None]:
        if name.lower() in RESERVED_DEPLOYMENT_NAMES:
            raise InvalidArgument(f"{name!r} is reserved.", "deploymentName")
        project = self.get_project(resource_id, project_name)
        try:
            model = self.get_model(resource_id, project_name, model_label)
        except NotFound as error:
            error.target = "trainedModelLabel"
            raise
        job_id = str(uuid4())
        project.deploy(job_id, name, model.label, model.artifact, model.modified_on.isoformat(),
                       getattr(model, "training_config_version", "latest"), actor)
        return job_id, self._save(project)

    def delete_deployment(self: Spanledger, resource_id: UUID, project_name: str, name: str,
                          actor: str) -> tuple[str, int | None]:
        project = self.get_project(resource_id, project_name)
        job_id = str(uuid4())
        project.delete_deployment(job_id, name, actor)
        return job_id, self._save(project)

    def swap_deployments(self: Spanledger, resource_id: UUID, project_name: str, first: str, second: str,
                         actor: str) -> tuple[str, int | None]:
        project = self.get_project(resource_id, project_name)
        job_id = str(uuid4())
        project.swap_deployments(job_id, first, second, actor)
        return job_id, self._save(project)
