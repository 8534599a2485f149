"""A training worker killed in the middle of a job: the job is taken up again by the next
worker once the lease runs out, and exactly one ModelTrained results."""

import os
import signal
import subprocess
import sys
import time

import pytest

from bootstrap import build
from domain.offsets import StringIndexType
from ner.recipes import onehot_char
from tests.conftest import make_settings
from tests.training_data import documents

ACTOR = "key:test"


@pytest.fixture
def settings(backend, tmp_path):
    yield from make_settings(backend, tmp_path / "data", training_lease_seconds=4, training_max_epochs=20)


def start_worker(settings):
    env = {**os.environ, "SPANLEDGER_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1",
           "SPANLEDGER_TRAINING_LEASE_SECONDS": "4", "SPANLEDGER_TRAINING_MAX_EPOCHS": "20"}
    if settings.database_url:
        env["SPANLEDGER_DATABASE_URL"] = settings.database_url
    return subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_worker_s_job_is_finished_by_the_next_one_exactly_once(settings):
    container = build(settings)
    app = container.app
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    for entity in ("Person", "Org"):
        app.put_entity(resource_id, "p", entity, ACTOR)
    docs = documents(30)
    app.add_documents(resource_id, "p", [d for d, _ in docs], ACTOR)
    for doc, labels in docs:
        app.save_labels(resource_id, "p", doc.name, add=labels, unit=StringIndexType.CODE_POINT, actor=ACTOR)
    container.runner.catch_up()
    job, _ = app.request_training(resource_id, "p", model_label="m", config_version="onehot-char",
                                  evaluation={"kind": "manual"}, recipe=onehot_char(mini_batch_size=4).to_dict(),
                                  actor=ACTOR)

    first = start_worker(settings)
    try:
        wait(lambda: app.training_job(job.id).status == "running" and app.training_job(job.id).percent >= 5,
             180, "the first worker to train a while")
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its training process, mid-job
        first.wait()
    assert app.training_job(job.id).status == "running"

    second = start_worker(settings)
    try:
        wait(lambda: app.training_job(job.id).ended, 300,
             f"the second worker to finish the job ({vars(app.training_job(job.id))})")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=60)
    finished = app.training_job(job.id)
    assert (finished.status, finished.attempt) == ("succeeded", 2)
    topics = [n.topic for n in app.recorder.select_notifications(1, 1_000_000)]
    assert topics.count("ModelTrained") == 1 and topics.count("TrainingCompleted") == 1
    assert topics.count("TrainingStarted") == 2
    container.close()
