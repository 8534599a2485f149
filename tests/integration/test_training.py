"""Training jobs on a real store with a real (tiny) flair model: the job's life, its data
found by replaying the log, one job at a time, leases, cancellation."""

import threading
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from spanledger.domain.errors import Conflict, InvalidArgument, NotFound
from spanledger.domain.training_set import fingerprint, replay
from spanledger.jobs.training import TrainingWorker
from spanledger.ner.model import Tagger
from spanledger.ner.recipes import onehot_char
from spanledger.projections import queries
from tests.support import dump_read_model, rebuilt
from tests.training_data import add_labeled_project

ACTOR = "key:test"
RECIPE = onehot_char(max_epochs=3, hidden_size=32).to_dict()
LEASE = timedelta(seconds=30)


@pytest.fixture
def project(container):
    app = container.app
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    add_labeled_project(app, resource_id, entities=("Person", "Org", "Date"))
    container.runner.catch_up()
    return resource_id


def request(app, resource_id, label="m1", evaluation=None):
    job, _ = app.request_training(resource_id, "p", model_label=label, config_version="latest",
                                  evaluation=evaluation or {"kind": "manual"}, recipe=RECIPE, actor=ACTOR)
    return job


def worker(container, **kwargs):
    return TrainingWorker(container.app, container.reads, container.artifacts, container.settings.data_dir / "work",
                          lease=LEASE, **kwargs)


def test_a_job_trains_a_model_on_the_data_the_log_held_when_it_was_requested(container, project):
    app = container.app
    job = request(app, project)
    assert [w["code"] for w in job.warnings] == ["EntityWithoutLabels"]  # Date has no labels
    # Written after the request: not part of this training.
    app.save_labels(project, "p", "doc001", remove=["L1"], actor=ACTOR)
    container.runner.catch_up()

    runner = worker(container)
    claimed = runner.claim_next()
    assert claimed is not None and claimed.id == job.id and claimed.attempt == 1
    runner.run(claimed)

    done = app.training_job(job.id)
    assert done.status == "succeeded"
    model = app.get_model(project, "p", "m1")
    tagger = Tagger(container.artifacts.path(model.artifact))  # as after a restart: from its file
    assert tagger.entity_types == ["Org", "Person"] and len(tagger.predict(["Alice Smith joined Hooli."])) == 1
    _, parts, reconstructed = app.model_training_set(project, "p", "m1")
    docs = parts.train + parts.test
    assert reconstructed == model.fingerprint == fingerprint(sorted(docs, key=lambda d: d.name))
    assert len(docs) == 30 and [d.name for d in parts.test] == [f"doc{i:03d}" for i in range(0, 30, 5)]
    doc001 = next(d for d in docs if d.name == "doc001")
    assert len(doc001.labels) == 2  # the removal came after the job's log position
    now = replay(app.recorder, app.mapper, UUID(job.project_id), job.incarnation, app.recorder.max_notification_id())
    assert fingerprint(now) != model.fingerprint

    container.runner.catch_up()
    with container.reads.connect() as conn:
        assert queries.claimable_training_jobs(conn, datetime.now(UTC).isoformat()) == []
    assert dump_read_model(container.engine) == rebuilt(container)


def test_one_training_at_a_time_per_project(container, project):
    app = container.app
    first = request(app, project)
    with pytest.raises(Conflict, match="only one training"):
        request(app, project, "m2")
    app.cancel_training(project, "p", str(first.id), ACTOR, datetime.now(UTC))
    assert app.training_job(first.id).status == "cancelled"
    with pytest.raises(Conflict, match="already ended"):
        app.cancel_training(project, "p", str(first.id), ACTOR, datetime.now(UTC))
    second = request(app, project, "m2")
    assert second.sequence == first.sequence + 1


def test_bad_training_requests_are_refused_with_the_field_named(container, project):
    app = container.app
    cases = [
        ({"model_label": "bad label"}, "modelLabel"),
        ({"evaluation": {"kind": "random"}}, "evaluationOptions.kind"),
        ({"evaluation": {"kind": "percentage", "trainingSplitPercentage": 90, "testingSplitPercentage": 20}},
         "evaluationOptions.testingSplitPercentage"),
        ({"evaluation": {"kind": "percentage", "trainingSplitPercentage": 100, "testingSplitPercentage": 0}},
         "evaluationOptions.testingSplitPercentage"),
    ]
    for change, target in cases:
        fields = {"model_label": "m1", "config_version": "latest", "evaluation": {"kind": "manual"},
                  "recipe": RECIPE, "actor": ACTOR, **change}
        with pytest.raises(InvalidArgument) as error:
            app.request_training(project, "p", **fields)
        assert error.value.target == target
    app.put_project(project, "empty", {"language": "en"}, ACTOR)
    app.put_entity(project, "empty", "Person", ACTOR)
    container.runner.catch_up()
    with pytest.raises(InvalidArgument, match="no labels"):
        app.request_training(project, "empty", model_label="m", config_version="latest",
                             evaluation={"kind": "manual"}, recipe=RECIPE, actor=ACTOR)


def test_a_job_whose_worker_stopped_is_taken_up_when_its_lease_runs_out(container, project):
    app = container.app
    job = request(app, project)
    container.runner.catch_up()
    started = datetime.now(UTC)
    first = worker(container, clock=lambda: started)
    assert first.claim_next().attempt == 1  # ... and then this worker dies
    container.runner.catch_up()
    assert worker(container, clock=lambda: started + LEASE / 2).claim_next() is None
    later = worker(container, clock=lambda: started + LEASE + timedelta(seconds=1))
    second = later.claim_next()
    assert second is not None and second.attempt == 2
    with pytest.raises(Conflict):  # the first attempt can no longer write to the job
        app.record_training_progress(job.id, 1, 50, started + LEASE, LEASE)
    later.run(second)
    assert app.training_job(job.id).status == "succeeded"
    models_trained = [n for n in app.recorder.select_notifications(1, 100_000) if n.topic == "ModelTrained"]
    assert len(models_trained) == 1


def test_training_again_under_a_label_replaces_the_model(container, project):
    app = container.app
    runner = worker(container)
    jobs = []
    for _ in range(2):
        jobs.append(request(app, project))
        container.runner.catch_up()
        runner.run(runner.claim_next())
    model = app.get_model(project, "p", "m1")
    assert model.job_id == str(jobs[1].id) and model.version == 2  # one model, trained twice
    container.runner.catch_up()
    with container.reads.connect() as conn:
        assert [(m.label, m.job_id) for m in queries.list_models(conn, str(project_id(app, project)), 0, 10).rows] == [
            ("m1", str(jobs[1].id))]
    app.delete_model(project, "p", "m1", ACTOR)
    with pytest.raises(NotFound):
        app.get_model(project, "p", "m1")


def project_id(app, resource_id):
    return app.get_project(resource_id, "p").id


def run_in_background(runner, job):
    thread = threading.Thread(target=runner.run, args=(job,))
    thread.start()
    return thread


def wait_for(condition, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_cancelling_a_running_job_stops_its_training(container, project):
    app = container.app
    job = request(app, project)
    container.runner.catch_up()
    # A short lease renews often; many epochs keep the training busy until the cancel comes.
    runner = worker(container, max_epochs=500)
    runner.lease = timedelta(seconds=2)
    thread = run_in_background(runner, runner.claim_next())
    wait_for(lambda: app.training_job(job.id).percent > 0)
    app.cancel_training(project, "p", str(job.id), ACTOR, datetime.now(UTC))
    assert app.training_job(job.id).status == "cancelling"
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert app.training_job(job.id).status == "cancelled"
    with pytest.raises(NotFound):
        app.get_model(project, "p", "m1")
    container.runner.catch_up()
    assert dump_read_model(container.engine) == rebuilt(container)


def test_a_training_that_breaks_fails_the_job_with_its_reason(container, project):
    app = container.app
    job, _ = app.request_training(project, "p", model_label="m1", config_version="onehot-char",
                                  evaluation={"kind": "manual"}, recipe={**RECIPE, "hidden_size": 0}, actor=ACTOR)
    container.runner.catch_up()
    runner = worker(container)
    runner.run(runner.claim_next())
    failed = app.training_job(job.id)
    assert failed.status == "failed"
    assert failed.reason.startswith("Training failed: ") and "Traceback" not in failed.reason
    container.runner.catch_up()
    with container.reads.connect() as conn:
        (row,) = queries.list_training_jobs(conn, str(failed.project_id), 0, 10).rows
    assert row.errors == [{"code": "TrainingFailed", "message": failed.reason}]
    assert dump_read_model(container.engine) == rebuilt(container)


def test_a_job_of_a_deleted_project_fails_without_training(container, project):
    app = container.app
    job = request(app, project)
    container.runner.catch_up()
    runner = worker(container)
    claimed = runner.claim_next()
    app.delete_project(project, "p", ACTOR)
    runner.run(claimed)
    assert app.training_job(job.id).status == "failed"
    assert app.training_job(job.id).reason == "The project was deleted."


def test_a_recipe_whose_files_this_machine_lacks_fails_the_job(container, project):
    app = container.app
    job, _ = app.request_training(project, "p", model_label="m1", config_version="latest",
                                  evaluation={"kind": "manual"}, recipe={**RECIPE, "name": "nowhere"}, actor=ACTOR)
    container.runner.catch_up()
    runner = worker(container)
    runner.run(runner.claim_next())
    assert "needs model files" in app.training_job(job.id).reason


def test_a_cancel_racing_a_worker_s_claim_is_decided_again_not_refused(container, project):
    app = container.app
    job = request(app, project)
    stale = app.training_job(job.id)
    app.claim_training(job.id, "w", datetime.now(UTC), LEASE)  # the worker writes first...
    original, calls = app.project_training_job, []

    def first_stale(*args):  # ... while the cancel had read the job before that
        calls.append(1)
        return stale if len(calls) == 1 else original(*args)

    app.project_training_job = first_stale
    try:
        app.cancel_training(project, "p", str(job.id), ACTOR, datetime.now(UTC))
    finally:
        app.project_training_job = original
    assert len(calls) == 2 and app.training_job(job.id).status == "cancelling"
