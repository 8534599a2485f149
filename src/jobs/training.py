"""The training worker: claims training jobs, runs them, records what came of them.

It finds work in the read model (jobs not started, or whose worker's lease ran out) and
claims a job on the command side, where only one claim can win. While the training runs in
a child process it renews its lease with progress events; a lost lease (another worker took
over after this one stalled) or a cancellation request stops the child. Completion records
the model and the job's end in one transaction, so a job yields exactly one ModelTrained.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Engine

from domain.application import Spanledger
from domain.errors import Conflict, InvalidArgument
from domain.offsets import OffsetMap
from domain.training import TrainingJob
from domain.training_set import Split, fingerprint
from jobs import trainer_process
from jobs.artifacts import ArtifactStore
from ner.evaluation import Evaluation, evaluate
from ner.spans import Span
from projections import queries

log = logging.getLogger(__name__)

TRAINING_SHARE = 90  # percent of a job's progress that is training; the rest is evaluation


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


class TrainingWorker:
    def __init__(self, app: Spanledger, reads: Engine, artifacts: ArtifactStore, work_root: Path, *,
                 lease: timedelta = timedelta(seconds=60), poll_seconds: float = 1.0,
                 max_epochs: int | None = None, clock: Callable[[], datetime] = utcnow):
        self.app, self.reads, self.artifacts, self.work_root = app, reads, artifacts, work_root
        self.lease, self.poll_seconds, self.max_epochs, self.clock = lease, poll_seconds, max_epochs, clock
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- running --------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="training-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.claim_next()
                if job is not None:
                    self.run(job)
                    continue
            except Exception:
                log.exception("training worker step failed")
            self._stop.wait(self.poll_seconds)

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

    # -- one job --------------------------------------------------------------------------

    def run(self, job: TrainingJob) -> None:
        if job.cancel_requested:  # asked to stop while its last worker was gone
            self.app.acknowledge_training_cancel(job.id, job.attempt)
            return
        try:
            documents, parts = self.app.job_training_set(job)
        except InvalidArgument as error:
            self.app.fail_training(job.id, job.attempt, error.message)
            return
        work_dir = self.work_root / f"{job.id}-{job.attempt}"
        work_dir.mkdir(parents=True, exist_ok=True)
        try:
            outcome = self._train(job, parts, work_dir)
            if outcome is not None:
                self._complete(job, documents, parts, outcome)
        except Conflict:
            log.warning("training job %s: attempt %d lost its lease; leaving it to its new holder", job.id, job.attempt)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)

    def _train(self, job: TrainingJob, parts: Split, work_dir: Path) -> dict[str, Any] | None:
        """Runs the child process, renewing the lease; the child's result, or None when the
        job was cancelled or failed (and recorded so)."""
        recipe = dict(job.recipe)
        if self.max_epochs:
            recipe["max_epochs"] = self.max_epochs
        payload = {
            "recipe": recipe,
            "work_dir": str(work_dir),
            "train": [(d.name, d.text, d.labels) for d in parts.train],
            "test": [d.text for d in parts.test],
        }
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        stop = context.Event()
        child = context.Process(target=trainer_process.run, args=(sender, stop, payload), daemon=True)
        child.start()
        sender.close()
        percent, beat = 0, time.monotonic()
        try:
            while True:
                message = None
                if receiver.poll(self.lease.total_seconds() / 4):
                    try:
                        message = receiver.recv()
                    except EOFError:
                        message = ("error", f"the training process ended unexpectedly (exit code {child.exitcode})")
                kind, value = message or ("waiting", None)
                if kind == "progress":
                    percent = int(value * TRAINING_SHARE)
                if kind in ("done", "error", "cancelled"):
                    break
                if time.monotonic() - beat >= self.lease.total_seconds() / 4 or kind == "progress":
                    current = self.app.record_training_progress(job.id, job.attempt, percent, self.clock(), self.lease)
                    beat = time.monotonic()
                    if current.cancel_requested:
                        stop.set()
            if kind == "done":
                return value
            if kind == "cancelled" or stop.is_set():
                self.app.acknowledge_training_cancel(job.id, job.attempt)
            else:
                self.app.fail_training(job.id, job.attempt, value)
            return None
        finally:
            stop.set()
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
            receiver.close()

    def _complete(self, job: TrainingJob, documents: list[Any], parts: Split, outcome: dict[str, Any]) -> None:
        self.app.record_training_progress(job.id, job.attempt, TRAINING_SHARE + 5, self.clock(), self.lease)
        predicted = [[Span(o, o + n, e) for o, n, e in spans] for spans in outcome["predicted"]]
        expected = [[Span(o, o + n, e) for o, n, e in d.labels] for d in parts.test]
        entity_types = sorted({e for d in documents for _, _, e in d.labels})
        result = evaluate(expected, predicted, entity_types)
        per_document = [
            {
                "name": d.name,
                "length": len(d.text),
                "astral": OffsetMap.astral_of(d.text),
                "expected": [list(label) for label in d.labels],
                "predicted": [[s.start, s.length, s.label] for s in spans],
            }
            for d, spans in zip(parts.test, predicted, strict=True)
        ]
        self.app.complete_training(
            job.id, job.attempt,
            artifact=self.artifacts.put_file(Path(outcome["model"])),
            evaluation_artifact=self.artifacts.put_json(per_document),
            fingerprint=fingerprint(documents),
            duration_seconds=round(outcome["seconds"], 3),
            evaluation={**job.evaluation, "trainingDocuments": len(parts.train), "testingDocuments": len(parts.test)},
            metrics=metrics(result),
        )
        log.info("training job %s done: micro F1 %.3f", job.id, result.micro.f1)
