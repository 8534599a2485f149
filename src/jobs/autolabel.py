"""The auto-labeling worker: claims auto-labeling jobs, runs the job's model over its
documents in batches, and records each batch's suggestions together with the job's progress.

Prediction runs in this process (flair releases the GIL in torch's kernels): a batch of at
most 64,000 characters takes a few seconds on two cores (MiniLM), far inside the lease, so
every batch's progress event also renews the lease and no keeper thread is needed. A worker that dies leaves the job to the next one once the
lease runs out; it resumes at the first document not recorded, so nothing is suggested or
charged twice.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import Engine

from spanledger.domain.application import Spanledger
from spanledger.domain.autolabel import AutoLabelJob
from spanledger.domain.autolabel_commands import Suggestion
from spanledger.domain.errors import ConcurrentModification, Conflict, NotFound
from spanledger.jobs.artifacts import ArtifactStore
from spanledger.jobs.worker import JobWorker
from spanledger.projections import queries

if TYPE_CHECKING:  # flair and torch load with the first job: a process that never runs one starts in seconds
    from spanledger.ner.model import Tagger

log = logging.getLogger(__name__)

_TAGGERS_KEPT = 2


def utcnow() -> datetime:
    return datetime.now(UTC)


class AutoLabelWorker(JobWorker):
    kind = "auto-labeling"

    def __init__(self, app: Spanledger, reads: Engine, artifacts: ArtifactStore, *,
                 lease: timedelta = timedelta(seconds=60), batch_documents: int = 512,
                 batch_characters: int = 64_000, poll_seconds: float = 1.0, clock: Callable[[], datetime] = utcnow):
        super().__init__(poll_seconds)
        self.app, self.reads, self.artifacts = app, reads, artifacts
        self.lease, self.clock = lease, clock
        self.batch_documents, self.batch_characters = batch_documents, batch_characters
        self._taggers: OrderedDict[str, Tagger] = OrderedDict()  # by model file digest

    def claim_next(self) -> AutoLabelJob | None:
        with self.reads.connect() as conn:
            candidates = queries.claimable_autolabel_jobs(conn, self.clock().isoformat())
        for job_id in candidates:
            self._load_model(UUID(job_id))
            job = self.app.claim_autolabel(UUID(job_id), self.name, self.clock(), self.lease)
            if job is not None:
                log.info("claimed auto-labeling job %s (attempt %d, at document %d of %d)",
                         job.id, job.attempt, job.documents_done, len(job.documents))
                return job
        return None

    def _load_model(self, job_id: UUID) -> None:
        """Loads the job's model before claiming it: loading flair and the model (fetched from
        the database on a machine that never used it) must not eat the lease."""
        job = self.app.autolabel_job(job_id)
        if job is None or job.cancel_requested or not self.artifacts.available(job.artifact):
            return  # run() settles it
        try:
            self._tagger(job.artifact)
        except Exception:  # run() fails the job with it
            log.exception("auto-labeling job %s: loading model %s failed", job_id, job.artifact)

    def status_of(self, job: AutoLabelJob) -> str | None:
        current = self.app.autolabel_job(job.id)
        return current.status if current is not None else None

    def run(self, job: AutoLabelJob) -> None:
        """Works the claimed attempt to its end (or until the worker stops, or loses the job)."""
        attempt = job.attempt
        try:
            if job.cancel_requested:
                self.app.acknowledge_autolabel_cancel(job.id, attempt)
                return
            if not self.app.autolabel_project_alive(job):
                self.app.fail_autolabel(job.id, attempt, "The project was deleted.")
                return
            if not self.artifacts.available(job.artifact):
                self.app.fail_autolabel(job.id, attempt, f"The file of model {job.model_label!r} is not stored "
                                        "on this server.")
                return
            tagger = self._tagger(job.artifact)
            while job.documents_done < len(job.documents):
                if self._stop.is_set():
                    log.info("auto-labeling job %s left at document %d", job.id, job.documents_done)
                    return
                if not self.app.autolabel_project_alive(job):
                    self.app.fail_autolabel(job.id, attempt, "The project was deleted.")
                    return
                try:
                    job = self._batch(job, attempt, tagger)
                except ConcurrentModification:  # users kept writing these documents: do the batch again
                    log.warning("auto-labeling job %s: write conflicts on a batch; retrying it", job.id)
                    job = self.app.autolabel_job(job.id)
                    continue
                if job.cancel_requested:
                    self.app.acknowledge_autolabel_cancel(job.id, attempt)
                    return
            self.app.complete_autolabel(job.id, attempt)
            log.info("auto-labeling job %s done: %d suggestions on %d documents", job.id, job.suggestions,
                     len(job.documents))
        except NotFound as gone:  # the project was deleted while the batch was predicted
            self._fail(job, attempt, gone.message)
        except Conflict:
            log.warning("auto-labeling job %s: attempt %d no longer holds it", job.id, attempt)
        except Exception as error:
            log.exception("auto-labeling job %s failed", job.id)
            self._fail(job, attempt, f"Auto-labeling failed: {type(error).__name__}.")

    def _fail(self, job: AutoLabelJob, attempt: int, reason: str) -> None:
        try:
            self.app.fail_autolabel(job.id, attempt, reason)
        except Conflict:
            log.warning("auto-labeling job %s: attempt %d could not record its failure", job.id, attempt)

    def _next_documents(self, job: AutoLabelJob) -> tuple[list[str], list[str | None]]:
        """The next documents to do: up to `batch_characters` of text (at least one document,
        at most `batch_documents`). Large batches predict faster (flair sorts a batch by
        length, so less padding); the limit keeps a batch well inside the lease."""
        names: list[str] = []
        texts: list[str | None] = []
        characters = 0
        for name, _ in job.documents[job.documents_done:job.documents_done + self.batch_documents]:
            if names and characters >= self.batch_characters:
                break
            (text,) = self.app.autolabel_texts(job, [name])
            names.append(name)
            texts.append(text)
            characters += len(text or "")
        return names, texts

    def _batch(self, job: AutoLabelJob, attempt: int, tagger: Tagger) -> AutoLabelJob:
        names, texts = self._next_documents(job)
        present = [t for t in texts if t is not None]
        predicted = iter(tagger.predict(present) if present else [])
        batch = [
            (name, None if text is None else
             [Suggestion(s.label, s.start, s.length, s.score) for s in next(predicted)])
            for name, text in zip(names, texts, strict=True)
        ]
        return self.app.record_autolabel_batch(job.id, attempt, batch, self.clock(), self.lease)

    def _tagger(self, digest: str) -> Tagger:
        from spanledger.ner.model import Tagger

        tagger = self._taggers.pop(digest, None) or Tagger(self.artifacts.path(digest))
        self._taggers[digest] = tagger
        while len(self._taggers) > _TAGGERS_KEPT:
            self._taggers.popitem(last=False)
        return tagger
