"""The training and model commands of the application (mixed into Spanledger)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from spanledger.domain.aggregate import recreate
from spanledger.domain.document import Document
from spanledger.domain.errors import ConcurrentModification, Conflict, InvalidArgument, NotFound
from spanledger.domain.ids import document_id
from spanledger.domain.project import Project
from spanledger.domain.training import (
    Model,
    TrainingJob,
    check_evaluation_options,
    check_model_label,
    model_id,
    training_job_id,
)
from spanledger.domain.training_set import Split, TrainingDocument, fingerprint, pending_suggestions, replay, split

if TYPE_CHECKING:
    from spanledger.domain.application import Spanledger



class TrainingCommands:
    def request_training(
        self: Spanledger, resource_id: UUID, project_name: str, *, model_label: str, config_version: str,
        evaluation: dict[str, Any], recipe: dict[str, Any], actor: str,
    ) -> tuple[TrainingJob, int | None]:
        """Starts a training job unless one is running; answers (job, position)."""
        check_model_label(model_label)
        evaluation = check_evaluation_options(evaluation)
        project = self.get_project(resource_id, project_name)
        warnings = self._check_training_data(project, evaluation)
        sequence = self._next_training_sequence(project)
        position = self.recorder.max_notification_id() or 0
        job = TrainingJob.request(
            training_job_id(project.id, project.incarnation, sequence), actor=actor, project_id=str(project.id),
            incarnation=project.incarnation, sequence=sequence, model_label=model_label,
            training_config_version=config_version, evaluation=evaluation, recipe=recipe, warnings=warnings,
            log_position=position,
        )
        discarding = self._discard_pending(project, str(job.id), position, actor)
        try:
            return job, self._save(job, *discarding)
        except ConcurrentModification:
            if self._get(job.id, TrainingJob) is not None:
                raise Conflict(f"Another training of project {project_name!r} started at the same time.",
                               "projectName") from None
            raise  # a document changed meanwhile: nothing was saved, the client retries

    def _discard_pending(self: Spanledger, project: Project, job_id: str, position: int, actor: str) -> list[Document]:
        """The documents with suggestions still pending, each dropping them by an event (to
        be saved with the job): found by replaying the log, decided by each document."""
        pending = pending_suggestions(self.recorder, self.mapper, project.id, project.incarnation, position)
        documents = []
        for name in sorted(pending):
            document = self._get(document_id(project.id, project.incarnation, name), Document)
            if document is not None and not document.deleted and document.discard_pending(project, job_id, actor):
                documents.append(document)
        return documents

    def _check_training_data(self: Spanledger, project: Project, evaluation: dict[str, Any]) -> list[dict[str, str]]:
        """Refuses, from the read model's counts, what cannot train; warns of entities that
        have no labels (the job checks the data again, exactly, by replaying the log)."""
        if not project.entities:
            raise InvalidArgument(f"Project {project.name!r} has no entity types to train.", "projectName")
        if self.views is None:
            return []
        stats = self.views.label_statistics(project.id)
        if not any(sum(counts.values()) for counts in stats.entities.values()):
            raise InvalidArgument(f"Project {project.name!r} has no labels to train on.", "projectName")
        documents = stats.labeled_documents
        if evaluation["kind"] == "manual":
            for dataset in ("Train", "Test"):
                if not documents.get(dataset):
                    raise InvalidArgument(f"The manual split has no labeled document in the {dataset} set.",
                                          "evaluationOptions.kind")
        elif sum(documents.values()) < 2:
            raise InvalidArgument("Splitting one labeled document leaves the test set empty.",
                                  "evaluationOptions.testingSplitPercentage")
        return [
            {"code": "EntityWithoutLabels", "message": f"Entity {name!r} has no labels: the model cannot learn it."}
            for name in sorted(project.entities) if not sum(stats.entities.get(name, {}).values())
        ]

    def _next_training_sequence(self: Spanledger, project: Project) -> int:
        """The number of the project's next training job, once the last one has ended."""
        def job(sequence: int) -> TrainingJob | None:
            return self._get(training_job_id(project.id, project.incarnation, sequence), TrainingJob)

        last = self.views.latest_training_sequence(project.id) if self.views else 0
        if last and job(last) is None:
            last = 0  # the read model's hint came from an earlier life of the project
        while job(last + 1) is not None:
            last += 1
        previous = job(last) if last else None
        if previous is not None and not previous.ended:
            raise Conflict(f"Training job {previous.id} of project {project.name!r} is still {previous.status}; "
                           "only one training runs per project at a time.", "projectName")
        return last + 1

    def project_training_job(self: Spanledger, resource_id: UUID, project_name: str, job_id: str) -> TrainingJob:
        project = self.get_project(resource_id, project_name)
        try:
            job = self._get(UUID(job_id), TrainingJob)
        except ValueError:
            job = None
        if job is None or job.project_id != str(project.id) or job.incarnation != project.incarnation:
            raise NotFound(f"Project {project_name!r} has no training job {job_id!r}.", "jobId")
        return job

    def cancel_training(self: Spanledger, resource_id: UUID, project_name: str, job_id: str, actor: str,
                        now: datetime) -> int | None:
        """Decided afresh if a worker wrote the job meanwhile (claimed it, renewed its lease)."""
        def cancel() -> int | None:
            job = self.project_training_job(resource_id, project_name, job_id)
            job.cancel(actor, now)
            return self._save(job)
        return self._retrying(cancel)

    # -- what workers do ------------------------------------------------------------------

    def training_job(self: Spanledger, job_id: UUID) -> TrainingJob | None:
        return self._get(job_id, TrainingJob)

    def claim_training(self: Spanledger, job_id: UUID, worker: str, now: datetime, lease: timedelta) -> TrainingJob | None:
        """Takes the job for `lease` if nobody holds it; None if it is not to be had (or it
        was given up after too many attempts)."""
        job = self._get(job_id, TrainingJob)
        if job is None or not job.claimable(now):
            return None
        started = job.claim(worker, now, lease)
        try:
            self._save(job)
        except ConcurrentModification:
            return None  # another worker was quicker
        return job if started else None

    def training_project_alive(self: Spanledger, job: TrainingJob) -> bool:
        project = self._get(UUID(job.project_id), Project)
        return project is not None and not project.deleted and project.incarnation == job.incarnation

    def record_training_progress(self: Spanledger, job_id: UUID, attempt: int, percent: int, now: datetime,
                                 lease: timedelta) -> TrainingJob:
        """Renews the lease; answers the job, so the worker sees a cancellation request.
        Raises Conflict when this attempt no longer holds the job."""
        def renew() -> TrainingJob:
            job = self._get(job_id, TrainingJob)
            job.progress(attempt, percent, now, lease)
            self._save(job)
            return job
        return self._retrying(renew)

    def complete_training(self: Spanledger, job_id: UUID, attempt: int, **model: Any) -> int | None:
        """Records the job's success and its model, together: exactly once per job."""
        def complete() -> int | None:
            job = self._get(job_id, TrainingJob)
            job.complete(attempt)
            project_id = UUID(job.project_id)
            trained = self._get(model_id(project_id, job.incarnation, job.model_label), Model)
            fields = dict(actor=f"worker:{job.worker}", project_id=job.project_id, model_label=job.model_label,
                          job_id=str(job.id), log_position=job.log_position,
                          training_config_version=job.training_config_version, **model)
            if trained is None:
                trained = Model._create(Model.Created, id=model_id(project_id, job.incarnation, job.model_label),
                                        **fields)
            else:
                recreate(trained, Model.Created, **fields)
            return self._save(job, trained)
        return self._retrying(complete)

    def fail_training(self: Spanledger, job_id: UUID, attempt: int, reason: str) -> int | None:
        def fail() -> int | None:
            job = self._get(job_id, TrainingJob)
            job.fail(attempt, reason)
            return self._save(job)
        return self._retrying(fail)

    def acknowledge_training_cancel(self: Spanledger, job_id: UUID, attempt: int) -> int | None:
        def acknowledge() -> int | None:
            job = self._get(job_id, TrainingJob)
            job.acknowledge_cancel(attempt)
            return self._save(job)
        return self._retrying(acknowledge)

    def job_training_set(self: Spanledger, job: TrainingJob) -> tuple[list[TrainingDocument], Split, str]:
        """The job's data, by replaying the log up to its position; its split; its fingerprint.

        A percentage split is shuffled with a seed taken from the data's fingerprint: the
        same events give the same split, so a model trained twice on them scores the same.
        """
        documents = replay(self.recorder, self.mapper, UUID(job.project_id), job.incarnation, job.log_position)
        digest = fingerprint(documents)
        return documents, split(documents, job.evaluation, int(digest[:8], 16)), digest

    # -- models ---------------------------------------------------------------------------

    def get_model(self: Spanledger, resource_id: UUID, project_name: str, label: str) -> Model:
        project = self.get_project(resource_id, project_name)
        model = self._get(model_id(project.id, project.incarnation, label), Model)
        if model is None or model.deleted:
            raise NotFound(f"Project {project_name!r} has no model {label!r}.", "trainedModelLabel")
        return model

    def delete_model(self: Spanledger, resource_id: UUID, project_name: str, label: str, actor: str) -> int | None:
        model = self.get_model(resource_id, project_name, label)
        model.delete(actor)
        return self._save(model)

    def model_training_set(self: Spanledger, resource_id: UUID, project_name: str, label: str
                           ) -> tuple[Model, Split, str]:
        """What the model trained and was tested on, reconstructed from the log; with the
        fingerprint of that reconstruction (equal to the model's, or the log was changed)."""
        model = self.get_model(resource_id, project_name, label)
        job = self._get(UUID(model.job_id), TrainingJob)
        _, parts, digest = self.job_training_set(job)
        return model, parts, digest
