"""Workers killed in the middle of a job: the job is taken up again by the next worker once
the lease runs out, and its effects happen exactly once (one ModelTrained; every suggestion
and every text-record charge once)."""

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from spanledger.bootstrap import build
from spanledger.domain import ids
from spanledger.domain.application import NewDocument
from spanledger.domain.quota import QuotaLedger
from spanledger.ner.recipes import onehot_char
from tests.conftest import make_settings
from tests.support import install_model, wait
from tests.training_data import add_labeled_project, documents

ACTOR = "key:test"
COUNT = 120  # documents of the auto-labeling job


@pytest.fixture
def settings(backend, tmp_path):
    yield from make_settings(backend, tmp_path / "data", training_lease_seconds=4, training_max_epochs=8)


def start_worker(settings):
    env = {**os.environ, "SPANLEDGER_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1",
           "SPANLEDGER_TRAINING_LEASE_SECONDS": "4", "SPANLEDGER_TRAINING_MAX_EPOCHS": "8",
           "SPANLEDGER_AUTOLABEL_LEASE_SECONDS": "4", "SPANLEDGER_AUTOLABEL_BATCH_DOCUMENTS": "1"}
    if settings.database_url:
        env["SPANLEDGER_DATABASE_URL"] = settings.database_url
    return subprocess.Popen([sys.executable, "-m", "spanledger.api.cli", "worker"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_killed_worker_s_job_is_finished_by_the_next_one_exactly_once(settings):
    container = build(settings)
    app = container.app
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    add_labeled_project(app, resource_id)
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


def test_a_killed_worker_s_auto_labeling_job_is_finished_without_suggesting_or_charging_twice(settings, tiny_model):
    container = build(settings)
    app = container.app
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    add_labeled_project(app, resource_id)
    # 120 documents to suggest on, one per batch: time enough to be killed in the middle.
    texts = [d.text for d, _ in documents(COUNT, seed=11)]
    app.add_documents(resource_id, "p", [NewDocument(f"new{i:03d}", t) for i, t in enumerate(texts)], ACTOR)
    container.runner.catch_up()
    install_model(container, resource_id, "p", "m", tiny_model)
    selection = [(f"new{i:03d}", 1) for i in range(COUNT)]
    job, _, _ = app.start_autolabel(resource_id, "p", model_label="m", entities=None, documents=selection,
                                    actor=ACTOR, now=datetime.now(UTC))

    first = start_worker(settings)
    try:
        wait(lambda: app.autolabel_job(job.id).documents_done >= 10, 180, "the first worker to get going")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    stopped_at = app.autolabel_job(job.id).documents_done
    assert 10 <= stopped_at < COUNT, "the job finished before the kill: make it longer"

    second = start_worker(settings)
    try:
        wait(lambda: app.autolabel_job(job.id).ended, 300, "the second worker to finish the job")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=60)
    finished = app.autolabel_job(job.id)
    assert (finished.status, finished.attempt, finished.documents_done) == ("succeeded", 2, COUNT)
    suggested = [n for n in app.recorder.select_notifications(1, 10_000_000) if n.topic == "AutoLabelSuggested"]
    assert len(suggested) == finished.suggestions > COUNT  # a person and an org in nearly every document
    spans = set()
    for name, _ in selection:
        _, doc = app.get_document(resource_id, "p", name)
        for s in doc.suggestions.values():
            spans.add((name, s["entity"], s["offset"], s["length"]))
    assert len(spans) == finished.suggestions  # none twice
    ledger = app._get(ids.quota_ledger_id(resource_id, finished.month), QuotaLedger)
    assert (ledger.reserved, ledger.charged, ledger.refunded) == (COUNT, COUNT, 0)
    topics = [n.topic for n in app.recorder.select_notifications(1, 10_000_000)]
    assert topics.count("QuotaSettled") == 1 and topics.count("AutoLabelJobClaimed") == 2
    container.close()
