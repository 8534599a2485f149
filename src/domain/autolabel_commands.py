"""The auto-labeling commands of the application (mixed into Spanledger): starting a job
against the quota, the worker's steps, and ending a job, which settles its reservation."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from spanledger.domain import ids
from spanledger.domain.autolabel import AutoLabelJob, check_min_confidence, choose_entities
from spanledger.domain.document import Document
from spanledger.domain.errors import ConcurrentModification, IdempotencyKeyReused, InvalidArgument, NotFound
from spanledger.domain.project import Project
from spanledger.domain.quota import QuotaLedger, month_of
from spanledger.domain.training import Model, check_model_label, model_id

if TYPE_CHECKING:
    from spanledger.domain.application import Spanledger

# Concurrent starts on one resource race for its ledger; each loser re-decides on the new
# state. Enough for a crowd of simultaneous starts; backing off spreads them out.
_START_ATTEMPTS = 60


@dataclass(frozen=True)
class Suggestion:
    entity: str
    offset: int  # code points
    length: int
    confidence: float


class AutoLabelCommands:
    def start_autolabel(
        self: Spanledger, resource_id: UUID, project_name: str, *, model_label: str, entities: Sequence[str] | None,
        documents: Sequence[tuple[str, int]], min_confidence: float = 0.0, idempotency_key: str | None = None,
        request_digest: str | None = None, actor: str, now: datetime,
    ) -> tuple[AutoLabelJob, int | None, bool]:
        """Reserves the documents' text records and starts the job; answers (job, position,
        started). With an idempotency key that already started a job, that job (not started),
        provided the request is the same (`request_digest`)."""
        check_model_label(model_label)
        min_confidence = check_min_confidence(min_confidence)
        project = self.get_project(resource_id, project_name)
        if idempotency_key is not None:
            job_id = ids.autolabel_job_id(project.id, project.incarnation, idempotency_key)
            existing = self._get(job_id, AutoLabelJob)
            if existing is not None:
                return check_same_request(existing, request_digest), None, False
        else:
            job_id = uuid4()
        model = self._get(model_id(project.id, project.incarnation, model_label), Model)
        if model is None or model.deleted:
            raise NotFound(f"Project {project_name!r} has no model {model_label!r}.", "modelLabel")
        chosen = choose_entities(model_label, model.entity_types, project.entities,
                                 None if entities is None else list(entities))
        if not documents:
            raise InvalidArgument("The selection holds no documents.", "documents")
        records = sum(r for _, r in documents)
        month = month_of(now)
        limit = self.get_resource(resource_id).monthly_text_records

        def start() -> tuple[AutoLabelJob, int | None, bool]:
            ledger_id = ids.quota_ledger_id(resource_id, month)
            ledger = self._get(ledger_id, QuotaLedger) or QuotaLedger.open(ledger_id, resource_id, month, actor)
            ledger.reserve(str(job_id), str(project.id), records, limit, actor)
            job = AutoLabelJob.start(
                job_id, actor=actor, project_id=str(project.id), resource_id=str(resource_id),
                incarnation=project.incarnation, model_label=model_label, model_job_id=model.job_id,
                artifact=model.artifact, entities=chosen, documents=[[n, r] for n, r in documents],
                text_records=records, month=month, min_confidence=min_confidence, idempotency_key=idempotency_key,
                request_digest=request_digest,
            )
            return job, self._save(ledger, job), True

        for attempt in range(_START_ATTEMPTS):
            try:
                return start()
            except ConcurrentModification:
                if idempotency_key is not None and (existing := self._get(job_id, AutoLabelJob)) is not None:
                    # the same start, retried at the same moment
                    return check_same_request(existing, request_digest), None, False
                if attempt == _START_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise AssertionError("unreachable")

    def autolabel_job_by_key(self: Spanledger, resource_id: UUID, project_name: str,
                             idempotency_key: str, request_digest: str | None = None) -> AutoLabelJob | None:
        """The job a start with this Idempotency-Key started in the project, if any; refused
        when that start was another request."""
        project = self.get_project(resource_id, project_name)
        job = self._get(ids.autolabel_job_id(project.id, project.incarnation, idempotency_key), AutoLabelJob)
        return job and check_same_request(job, request_digest)

    def quota_standing(self: Spanledger, resource_id: UUID, now: datetime) -> tuple[str, int, int]:
        """(month, limit, used) of the resource's quota now, from its ledger."""
        month = month_of(now)
        ledger = self._get(ids.quota_ledger_id(resource_id, month), QuotaLedger)
        return month, self.get_resource(resource_id).monthly_text_records, ledger.used if ledger else 0

    def autolabel_job(self: Spanledger, job_id: UUID) -> AutoLabelJob | None:
        return self._get(job_id, AutoLabelJob)

    def project_autolabel_job(self: Spanledger, resource_id: UUID, project_name: str, job_id: str) -> AutoLabelJob:
        project = self.get_project(resource_id, project_name)
        try:
            job = self._get(UUID(job_id), AutoLabelJob)
        except ValueError:
            job = None
        if job is None or job.project_id != str(project.id) or job.incarnation != project.incarnation:
            raise NotFound(f"Project {project_name!r} has no auto-labeling job {job_id!r}.", "jobId")
        return job

    def cancel_autolabel(self: Spanledger, resource_id: UUID, project_name: str, job_id: str, actor: str,
                         now: datetime) -> int | None:
        def cancel() -> int | None:
            job = self.project_autolabel_job(resource_id, project_name, job_id)
            job.cancel(actor, now)
            return self._save(job, *self._settled(job, actor))
        return self._retrying(cancel)

    def _settled(self: Spanledger, job: AutoLabelJob, actor: str) -> list[QuotaLedger]:
        """The job's ledger with the job settled, if the job has ended: what it processed is
        charged, the rest refunded (to be saved with the job's end)."""
        if not job.ended:
            return []
        ledger = self._get(ids.quota_ledger_id(UUID(job.resource_id), job.month), QuotaLedger)
        ledger.settle(str(job.id), job.records_processed, actor)
        return [ledger]

    # -- what workers do ------------------------------------------------------------------

    def claim_autolabel(self: Spanledger, job_id: UUID, worker: str, now: datetime,
                        lease: timedelta) -> AutoLabelJob | None:
        """Takes the job for `lease` if nobody holds it; None if it is not to be had (or was
        given up after too many attempts, which settles it)."""
        job = self._get(job_id, AutoLabelJob)
        if job is None or not job.claimable(now):
            return None
        taken = job.claim(worker, now, lease)
        try:
            self._save(job, *self._settled(job, f"worker:{worker}"))
        except ConcurrentModification:
            return None  # another worker was quicker
        return job if taken else None

    def autolabel_project_alive(self: Spanledger, job: AutoLabelJob) -> bool:
        project = self._get(UUID(job.project_id), Project)
        return project is not None and not project.deleted and project.incarnation == job.incarnation

    def autolabel_texts(self: Spanledger, job: AutoLabelJob, names: Sequence[str]) -> list[str | None]:
        """The texts of the named documents (None for one deleted since the job started)."""
        project_id = UUID(job.project_id)
        texts: list[str | None] = []
        for name in names:
            doc = self._get(ids.document_id(project_id, job.incarnation, name), Document)
            texts.append(None if doc is None or doc.deleted else doc.text)
        return texts

    def record_autolabel_batch(
        self: Spanledger, job_id: UUID, attempt: int, batch: Sequence[tuple[str, Sequence[Suggestion] | None]],
        now: datetime, lease: timedelta,
    ) -> AutoLabelJob:
        """Records the suggestions on the batch's documents (None: the document is gone, and
        not charged) and the job's progress past them, in one transaction. Raises Conflict
        when this attempt no longer holds the job."""
        def record() -> AutoLabelJob:
            job = self._get(job_id, AutoLabelJob)
            job.check_holder(attempt)
            names = [name for name, _ in job.documents[job.documents_done:job.documents_done + len(batch)]]
            if names != [name for name, _ in batch]:
                raise InvalidArgument("The batch is not the job's next documents.", "batch")
            if not self.autolabel_project_alive(job):
                raise NotFound("The project was deleted.", "projectName")
            project = self._get(UUID(job.project_id), Project)
            changed: list[Document] = []
            suggested = records = 0
            actor = f"worker:{job.worker}"
            for (name, suggestions), (_, cost) in zip(batch, job.documents[job.documents_done:], strict=False):
                doc = self._get(ids.document_id(project.id, job.incarnation, name), Document)
                if suggestions is None or doc is None or doc.deleted:
                    continue
                records += cost
                for s in suggestions:
                    if s.entity in job.entities and s.confidence >= job.min_confidence:
                        added = doc.suggest(project, s.entity, s.offset, s.length, s.confidence,
                                            job.model_label, str(job.id), actor)
                        suggested += added is not None
                if doc.pending_events:
                    changed.append(doc)
            job.progress(attempt, len(batch), suggested, records, now, lease)
            self._save(job, *changed)
            return job
        return self._retrying(record)

    def complete_autolabel(self: Spanledger, job_id: UUID, attempt: int) -> int | None:
        def complete() -> int | None:
            job = self._get(job_id, AutoLabelJob)
            job.complete(attempt)
            return self._save(job, *self._settled(job, f"worker:{job.worker}"))
        return self._retrying(complete)

    def fail_autolabel(self: Spanledger, job_id: UUID, attempt: int, reason: str) -> int | None:
        def fail() -> int | None:
            job = self._get(job_id, AutoLabelJob)
            job.fail(attempt, reason)
            return self._save(job, *self._settled(job, f"worker:{job.worker}"))
        return self._retrying(fail)

    def acknowledge_autolabel_cancel(self: Spanledger, job_id: UUID, attempt: int) -> int | None:
        def acknowledge() -> int | None:
            job = self._get(job_id, AutoLabelJob)
            job.acknowledge_cancel(attempt)
            return self._save(job, *self._settled(job, f"worker:{job.worker}"))
        return self._retrying(acknowledge)


def check_same_request(job: AutoLabelJob, request_digest: str | None) -> AutoLabelJob:
    if None not in (job.request_digest, request_digest) and job.request_digest != request_digest:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {job.idempotency_key!r} started job {job.id} with another request; "
            "use a new key for a new request.", "Idempotency-Key")
    return job
