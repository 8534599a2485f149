"""Prediction jobs of the runtime API (Azure's `analyze-text/jobs`): a deployment's model run
on texts a client sends. The texts and results are kept as an artifact; the job is one event,
saying who asked which deployment, which model file answered, and where the results are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from spanledger.domain.aggregate import snapshot_class
from spanledger.domain.errors import NotFound

if TYPE_CHECKING:
    from spanledger.domain.application import Spanledger


class PredictionJob(Aggregate):
    TOPIC = "PredictionJob"

    class Created(Aggregate.Created):
        TOPIC = "PredictionMade"
        actor: str
        resource_id: str
        project_id: str  # of the first task (the audit log lists the job there)
        tasks: list[dict[str, Any]]  # each: project_id, deployment, model_label, artifact (one model a task)
        results: str  # digest of the results artifact
        documents: int
        display_name: str | None

        def apply(self, job: PredictionJob) -> None:
            job.resource_id, job.results = self.resource_id, self.results

    Snapshot = snapshot_class("PredictionJobSnapshot")

    def __init__(self) -> None:
        self.resource_id: str
        self.results: str


class PredictionCommands:
    def deployed(self: Spanledger, resource_id: UUID, project_name: str, deployment: str) -> dict[str, Any]:
        """The model a deployment serves now (its file's digest and label), or NotFound naming
        the parameter."""
        try:
            project = self.get_project(resource_id, project_name)
        except NotFound as error:
            error.code, error.target = "ProjectNotFound", "projectName"
            raise
        found = project.deployments().get(deployment)
        if found is None:
            missing = NotFound(f"Project {project_name!r} has no deployment {deployment!r}.", "deploymentName")
            missing.code = "DeploymentNotFound"
            raise missing
        return {**found, "project_id": str(project.id)}

    def record_prediction(self: Spanledger, resource_id: UUID, tasks: list[dict[str, Any]], results: str,
                          documents: int, display_name: str | None, actor: str) -> tuple[str, int | None]:
        job_id = uuid4()
        job = PredictionJob._create(PredictionJob.Created, id=job_id, actor=actor, resource_id=str(resource_id),
                                    project_id=tasks[0]["project_id"], tasks=tasks, results=results,
                                    documents=documents, display_name=display_name)
        return str(job_id), self._save(job)

    def prediction_job(self: Spanledger, resource_id: UUID, job_id: str) -> PredictionJob:
        try:
            job = self._get(UUID(job_id), PredictionJob)
        except ValueError:
            job = None
        if job is None or job.resource_id != str(resource_id):
            raise NotFound(f"No analyze-text job {job_id!r}.", "jobId")
        return job
