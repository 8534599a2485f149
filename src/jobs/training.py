"""The training worker: claims training jobs, runs them, records what came of them.

It finds work in the read model (jobs not started, or whose worker's lease ran out) and
claims a job on the command side, where only one claim can win. While the training runs in
a child process a LeaseKeeper renews the lease; a lost lease (another worker took over after
this one stalled) stops the child without writing anything, a cancellation request stops it
and records the cancellation. Completion records the model and the job's end in one
transaction, so a job yields exactly one ModelTrained.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from spanledger.domain.application import Spanledger
from spanledger.domain.errors import Conflict, InvalidArgument
from spanledger.domain.offsets import OffsetMap
from spanledger.domain.training import TRAINING_SHARE, TrainingJob
from spanledger.domain.training_set import Split, TrainingDocument
from spanledger.jobs import trainer_process
from spanledger.jobs.artifacts import ArtifactStore
from spanledger.jobs.lease import LeaseKeeper
from spanledger.jobs.worker import JobWorker
from spanledger.ner import recipes
from spanledger.ner.evaluation import Evaluation, evaluate
from spanledger.ner.recipes import Recipe
from spanledger.ner.spans import Span
from spanledger.projections import queries

log = logging.getLogger(__name__)

CANCEL_GRACE_SECONDS = 30.0  # after a cancel, the child may finish its batch; then it is killed
_POLL_SECONDS = 0.2


def utcnow() -> datetime:
    return datetime.now(UTC)


def metrics(result: Evaluation) -> dict[str, Any]:
    """An evaluation as JSON-native data for the ModelTrained event."""
    def scores(s: Any) -> dict[str, Any]:
        return {"truePositives": s.true_positives, "falsePositives": s.false_positives,
                "falseNegatives": s.false_negatives, "precision": s.precision, "recall": s.recall, "f1": s.f1}

    micro = result.micro
    return {
        "entities": {name: scores(s) for name, s in sorted(result.entities.items())},
        "micro": scores(micro),
        "macro": {"precision": result.macro_precision, "recall": result.macro_recall, "f1": result.macro_f1},
        "confusion": {expected: dict(row) for expected, row in result.confusion.items()},
    }


class _Failed(Exception):
    """The training process reported a failure; its reason is recorded on the job."""


class _Stopped(Exception):
    """The attempt ends without a word to the job: its lease was lost or the worker is
    shutting down (the lease then runs out and another worker takes the job up)."""


class TrainingWorker(JobWorker):
    kind = "training"

    def __init__(self, app: Spanledger, reads: Engine, artifacts: ArtifactStore, work_root: Path, *,
                 lease: timedelta = timedelta(seconds=60), poll_seconds: float = 1.0,
                 max_epochs: int | None = None, max_seconds: float | None = None, threads: int | None = None,
                 clock: Callable[[], datetime] = utcnow):
        super().__init__(poll_seconds)
        self.app, self.reads, self.artifacts, self.work_root = app, reads, artifacts, work_root
        self.lease, self.max_epochs, self.max_seconds, self.clock = lease, max_epochs, max_seconds, clock
        self.threads = threads

    def start(self) -> None:
        self._sweep_work_dirs()
        super().start()

    def _sweep_work_dirs(self) -> None:
        """Removes what workers of this machine that are gone left behind: a killed worker
        cannot clean up after itself."""
        host = socket.gethostname()[:24]
        for folder in self.work_root.glob(f"{host}-*"):
            pid = folder.name[len(host) + 1:].split("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)

    def claim_next(self) -> TrainingJob | None:
        now = self.clock()
        with self.reads.connect() as conn:
            candidates = queries.claimable_training_jobs(conn, now.isoformat())
        for job_id in candidates:
            job = self.app.claim_training(UUID(job_id), self.name, now, self.lease)
            if job is not None:
                log.info("claimed training job %s (attempt %d)", job.id, job.attempt)
                return job
        return None

    def status_of(self, job: TrainingJob) -> str | None:
        current = self.app.training_job(job.id)
        return current.status if current is not None else None

    # -- one job --------------------------------------------------------------------------

    def run(self, job: TrainingJob) -> None:
        """Runs one claimed attempt to its end and records how it ended (unless the lease
        was lost or the worker is stopping)."""
        attempt = job.attempt
        if job.cancel_requested:  # asked to stop while its last worker was gone
            self.app.acknowledge_training_cancel(job.id, attempt)
            return
        reason = self._refusal(job)
        if reason:
            self.app.fail_training(job.id, attempt, reason)
            return
        recipe = recipes.from_dict(job.recipe)
        assert recipe is not None  # _refusal checked
        if self.max_epochs:
            recipe = replace(recipe, max_epochs=self.max_epochs)
        if self.max_seconds:
            recipe = replace(recipe, max_seconds=self.max_seconds)
        work_dir = self.work_root / self.name.replace(":", "-") / f"{job.id}-{attempt}"  # see _sweep_work_dirs
        work_dir.mkdir(parents=True, exist_ok=True)

        def renew(percent: int) -> bool:
            return self.app.record_training_progress(job.id, attempt, percent, self.clock(),
                                                     self.lease).cancel_requested

        try:
            with LeaseKeeper(renew, self.lease.total_seconds() / 4) as keeper:
                documents, parts, digest = self.app.job_training_set(job)
                outcome = self._train(recipe, parts, work_dir, keeper)
                if outcome is None:
                    self._acknowledge_cancel(job, attempt)
                    return
                keeper.progress = TRAINING_SHARE + 5
                keeper.renew_now()
                self._complete(job, attempt, recipe, documents, parts, digest, outcome, keeper)
        except _Stopped as why:
            log.warning("training job %s, attempt %d: %s", job.id, attempt, why)
        except InvalidArgument as error:  # the data cannot be trained on (e.g. an empty test set)
            self._fail(job, attempt, error.message)
        except _Failed as failure:
            self._fail(job, attempt, str(failure))
        except Conflict:
            log.warning("training job %s: attempt %d no longer holds it", job.id, attempt)
        except Exception as error:
            log.exception("training job %s failed", job.id)
            self._fail(job, attempt, f"Training failed: {type(error).__name__}.")
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)

    def _refusal(self, job: TrainingJob) -> str | None:
        if not self.app.training_project_alive(job):
            return "The project was deleted."
        if recipes.from_dict(job.recipe) is None:
            return f"Recipe {job.recipe.get('name')!r} needs model files this worker does not have."
        return None

    def _train(self, recipe: Recipe, parts: Split, work_dir: Path, keeper: LeaseKeeper) -> dict[str, Any] | None:
        """Runs the child process; its result, or None when the job was cancelled."""
        payload = {
            "recipe": dict(recipe.__dict__),
            "work_dir": str(work_dir),
            "threads": self.threads,
            "train": [(d.name, d.text, d.labels) for d in parts.train],
            "test": [(d.name, d.text, d.labels) for d in parts.test],
        }
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        stop = context.Event()
        child = context.Process(target=trainer_process.run, args=(sender, stop, payload), daemon=True)
        child.start()
        sender.close()
        cancelled_at: float | None = None
        try:
            while True:
                if self._stop.is_set():
                    raise _Stopped("the worker is stopping")
                if keeper.lost.is_set():
                    raise _Stopped("its lease was lost")
                if keeper.cancel_requested.is_set() and cancelled_at is None:
                    stop.set()
                    cancelled_at = time.monotonic()
                if cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE_SECONDS:
                    return None
                if not receiver.poll(_POLL_SECONDS):
                    continue
                try:
                    kind, value = receiver.recv()
                except EOFError:
                    kind, value = "error", f"The training process ended unexpectedly (exit code {child.exitcode})."
                if kind == "progress":
                    keeper.progress = int(value * TRAINING_SHARE)
                elif kind == "done":
                    return value
                elif kind == "cancelled":
                    return None
                elif kind == "error":
                    raise _Failed(value)
        finally:
            stop.set()
            child.join(timeout=5)
            if child.is_alive():
                child.kill()
                child.join()
            receiver.close()

    def _acknowledge_cancel(self, job: TrainingJob, attempt: int) -> None:
        self.app.acknowledge_training_cancel(job.id, attempt)
        log.info("training job %s cancelled", job.id)

    def _fail(self, job: TrainingJob, attempt: int, reason: str) -> None:
        try:
            self.app.fail_training(job.id, attempt, reason)
        except Conflict:
            log.warning("training job %s: attempt %d could not record its failure", job.id, attempt)

    def _complete(self, job: TrainingJob, attempt: int, recipe: Recipe, documents: list[TrainingDocument],
                  parts: Split, digest: str, outcome: dict[str, Any], keeper: LeaseKeeper) -> None:
        predicted = [[Span(o, o + n, e, score) for o, n, e, score in spans] for spans in outcome["predicted"]]
        expected = [[Span(o, o + n, e) for o, n, e in d.labels] for d in parts.test]
        entity_types = sorted({e for d in documents for _, _, e in d.labels}
                              | {s.label for spans in predicted for s in spans})
        result = evaluate(expected, predicted, entity_types)
        per_document = [
            {
                "name": d.name,
                "length": len(d.text),
                "astral": OffsetMap.astral_of(d.text),
                "expected": [list(label) for label in d.labels],
                "predicted": [[s.start, s.length, s.label, s.score] for s in spans],
            }
            for d, spans in zip(parts.test, predicted, strict=True)
        ]
        artifact = self.artifacts.put_file(Path(outcome["model"]))
        evaluation_artifact = self.artifacts.put_json(per_document)
        if keeper.cancel_requested.is_set():
            self._acknowledge_cancel(job, attempt)
            return
        if not self.app.training_project_alive(job):
            self._fail(job, attempt, "The project was deleted.")
            return
        try:
            self.app.complete_training(
                job.id, attempt,
                artifact=artifact, evaluation_artifact=evaluation_artifact, fingerprint=digest,
                duration_seconds=round(outcome["seconds"], 3),
                recipe={**recipe.to_dict(), "run": outcome["run"]},
                entity_types=outcome["entity_types"],
                evaluation={**job.evaluation, "trainingDocuments": len(parts.train),
                            "testingDocuments": len(parts.test)},
                metrics={**metrics(result), "postprocessing": outcome["postprocessing"]},
            )
        except Conflict:
            current = self.app.training_job(job.id)
            if current is None or not current.cancel_requested:
                raise
            self._acknowledge_cancel(job, attempt)  # cancelled while the model was being stored
            return
        log.info("training job %s done: micro F1 %.3f", job.id, result.micro.f1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
