"""Auto-labeling jobs on a real store with a real (tiny) flair model: suggestions, the user
label winning, the quota reserved, charged and refunded exactly, concurrent starts, resuming
a job whose worker died."""

import threading
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from spanledger.domain import ids
from spanledger.domain.errors import Conflict, InvalidArgument, NotFound, QuotaExceeded
from spanledger.domain.offsets import StringIndexType
from spanledger.domain.quota import QuotaLedger, month_of
from spanledger.jobs.autolabel import AutoLabelWorker
from spanledger.projections import queries
from tests.support import dump_read_model, install_model, rebuilt
from tests.training_data import documents

ACTOR = "key:test"
LEASE = timedelta(seconds=30)
NOW = datetime.now(UTC)


@pytest.fixture
def project(container, tiny_model):
    """30 labeled documents, 10 unlabeled ones (doc030-doc039), and model m1."""
    app = container.app
    resource_id, _, _ = app.create_resource("acme", "cli:test", monthly_text_records=100)
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    for entity in ("Person", "Org"):
        app.put_entity(resource_id, "p", entity, ACTOR)
    docs = documents(40)
    app.add_documents(resource_id, "p", [d for d, _ in docs], ACTOR)
    for doc, labels in docs[:30]:
        app.save_labels(resource_id, "p", doc.name, add=labels, unit=StringIndexType.CODE_POINT, actor=ACTOR)
    container.runner.catch_up()
    install_model(container, resource_id, "p", "m1", tiny_model)
    return resource_id


def unlabeled(container, resource_id, names=None):
    with container.reads.connect() as conn:
        project = queries.get_project(conn, str(ids.project_id(resource_id, "p")))
        rows = queries.select_documents(conn, project.id, names=names, labeled=None if names else False)
    return [(r.name, r.text_records) for r in rows]


def start(container, resource_id, documents, **options):
    job, _, _ = container.app.start_autolabel(resource_id, "p", model_label=options.pop("model_label", "m1"),
                                              entities=options.pop("entities", None), documents=documents,
                                              actor=ACTOR, now=NOW, **options)
    return job


def worker(container, **kwargs):
    return AutoLabelWorker(container.app, container.reads, container.artifacts, lease=LEASE, **kwargs)


def ledger(container, resource_id):
    return container.app._get(ids.quota_ledger_id(resource_id, month_of(NOW)), QuotaLedger)


def quota_view(container, resource_id):
    with container.reads.connect() as conn:
        return queries.quota_usage_of(conn, str(resource_id), month_of(NOW))


def test_a_job_suggests_on_the_documents_charges_what_it_processed_and_the_views_agree(container, project):
    app = container.app
    selection = unlabeled(container, project)
    assert [n for n, _ in selection] == [f"doc{i:03d}" for i in range(30, 40)]
    job = start(container, project, selection)
    assert job.text_records == 10 and ledger(container, project).used == 10
    container.runner.catch_up()
    runner = worker(container, batch_documents=3)
    claimed = runner.claim_next()
    runner.run(claimed)

    done = app.autolabel_job(job.id)
    assert done.status == "succeeded" and done.documents_done == 10 and done.records_processed == 10
    assert done.suggestions >= 15  # every document has a person and an org; the tiny model finds most
    _, doc = app.get_document(project, "p", "doc030")
    found = {(s["entity"], s["offset"], s["length"]) for s in doc.suggestions.values()}
    truth = {(label.category, label.offset, label.length) for label in documents(40)[30][1]}
    assert len(found & truth) >= len(truth) - 1  # the tiny model finds (nearly) what a user would label
    assert all(0 < s["confidence"] <= 1 and s["state"] == "pending" for s in doc.suggestions.values())
    book = ledger(container, project)
    assert (book.reserved, book.charged, book.refunded) == (10, 10, 0)

    container.runner.catch_up()
    view = quota_view(container, project)
    assert (view.total("reserved"), view.total("charged"), view.total("refunded"), view.remaining) == (10, 10, 0, 90)
    with container.reads.connect() as conn:
        row = queries.get_autolabel_job(conn, str(ids.project_id(project, "p")), str(job.id))
        suggested = sum(len(queries.document_suggestions(conn, str(ids.document_id(ids.project_id(project, "p"), 1, n))))
                        for n, _ in selection)
    assert row.status == "succeeded" and row.suggestions == suggested == done.suggestions
    assert dump_read_model(container.engine) == rebuilt(container)


def test_a_user_label_wins_and_the_same_span_is_suggested_once(container, project):
    app = container.app
    # doc030's person, labeled by a user before the job: no suggestion may overlap it.
    person = next(label for label in documents(40)[30][1] if label.category == "Person")
    app.save_labels(project, "p", "doc030", add=[person], unit=StringIndexType.CODE_POINT, actor=ACTOR)
    container.runner.catch_up()
    runner = worker(container)
    for _ in range(2):  # the same documents twice: the second job finds every span pending already
        start(container, project, unlabeled(container, project, ["doc030", "doc031"]))
        container.runner.catch_up()
        runner.run(runner.claim_next())
    _, doc = app.get_document(project, "p", "doc030")
    spans = [(s["entity"], s["offset"], s["length"]) for s in doc.suggestions.values()]
    assert spans and len(spans) == len(set(spans))
    end = person.offset + person.length
    assert not any(o < end and person.offset < o + n for _, o, n in spans)
    jobs = [app.autolabel_job(UUID(j)) for j in _job_ids(container, project)]
    assert jobs[0].suggestions > 0 and jobs[1].suggestions == 0 and jobs[1].records_processed == 2


def test_min_confidence_and_entities_narrow_the_suggestions(container, project):
    app = container.app
    job = start(container, project, unlabeled(container, project, ["doc032"]), entities=["Org"], min_confidence=0.5)
    container.runner.catch_up()
    runner = worker(container)
    runner.run(runner.claim_next())
    _, doc = app.get_document(project, "p", "doc032")
    assert doc.suggestions and {s["entity"] for s in doc.suggestions.values()} == {"Org"}
    assert all(s["confidence"] >= 0.5 for s in doc.suggestions.values())
    assert app.autolabel_job(job.id).entities == ["Org"]


def test_bad_starts_are_refused_with_the_field_named_and_record_nothing(container, project):
    app = container.app
    before = app.recorder.max_notification_id()
    one = unlabeled(container, project, ["doc030"])
    cases = [
        ({"model_label": "nope"}, NotFound, "modelLabel"),
        ({"entities": ["Date"]}, InvalidArgument, "entities[0]"),
        ({"entities": []}, InvalidArgument, "entities"),
        ({"min_confidence": 1.5}, InvalidArgument, "minConfidence"),
        ({"documents": []}, InvalidArgument, "documents"),
        ({"documents": [("big", 101)]}, QuotaExceeded, "documents"),
    ]
    for options, error, target in cases:
        with pytest.raises(error) as raised:
            start(container, project, options.pop("documents", one), **options)
        assert raised.value.target == target, options
    assert raised.value.details[0]["needed"] == 101 and raised.value.details[0]["remaining"] == 100
    assert app.recorder.max_notification_id() == before


def test_cancelling_refunds_what_was_not_processed(container, project):
    app = container.app
    job = start(container, project, unlabeled(container, project))
    app.cancel_autolabel(project, "p", str(job.id), ACTOR, NOW)
    assert app.autolabel_job(job.id).status == "cancelled"
    book = ledger(container, project)
    assert (book.reserved, book.charged, book.refunded, book.used) == (10, 0, 10, 0)
    with pytest.raises(Conflict, match="already ended"):
        app.cancel_autolabel(project, "p", str(job.id), ACTOR, NOW)
    container.runner.catch_up()
    assert quota_view(container, project).remaining == 100
    assert dump_read_model(container.engine) == rebuilt(container)


def test_a_retried_start_with_the_same_idempotency_key_is_the_same_job(container, project):
    selection = unlabeled(container, project)
    first = start(container, project, selection, idempotency_key="k-1")
    again = start(container, project, selection, idempotency_key="k-1")
    other = start(container, project, selection, idempotency_key="k-2")
    assert again.id == first.id != other.id
    assert ledger(container, project).used == 20


def test_twenty_concurrent_starts_with_room_for_five_start_exactly_five(container, project):
    app = container.app
    resource_id, _, _ = app.create_resource("small", "cli:test", monthly_text_records=5)
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    for entity in ("Person", "Org"):
        app.put_entity(resource_id, "p", entity, ACTOR)
    labeled = documents(2)  # doc000 in the Test set, doc001 in Train
    app.add_documents(resource_id, "p", [d for d, _ in labeled], ACTOR)
    for doc, labels in labeled:
        app.save_labels(resource_id, "p", doc.name, add=labels, unit=StringIndexType.CODE_POINT, actor=ACTOR)
    container.runner.catch_up()
    install_model(container, resource_id, "p", "m1", container.artifacts.path(app.get_model(project, "p", "m1").artifact))
    barrier = threading.Barrier(20)
    outcomes = []

    def one_start():
        barrier.wait()
        try:
            outcomes.append(start(container, resource_id, [("doc000", 1)]).id)
        except QuotaExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=one_start) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started = [o for o in outcomes if o != "refused"]
    assert len(outcomes) == 20 and len(started) == 5 and len(set(started)) == 5
    book = ledger(container, resource_id)
    assert (book.reserved, book.used, len(book.jobs)) == (5, 5, 5)
    container.runner.catch_up()
    view = quota_view(container, resource_id)
    assert (view.limit, view.total("reserved"), view.remaining) == (5, 5, 0)
    assert len(_job_ids(container, resource_id)) == 5


def test_a_job_whose_worker_died_is_resumed_without_suggesting_or_charging_twice(container, project):
    app = container.app
    job = start(container, project, unlabeled(container, project))
    container.runner.catch_up()
    first = worker(container, batch_documents=4, clock=lambda: NOW)
    claimed = first.claim_next()
    first._batch(claimed, claimed.attempt, first._tagger(claimed.artifact))  # one batch, then the worker dies
    assert app.autolabel_job(job.id).documents_done == 4
    container.runner.catch_up()
    later = worker(container, batch_documents=4, clock=lambda: NOW + LEASE + timedelta(seconds=1))
    second = later.claim_next()
    assert second.attempt == 2 and second.documents_done == 4
    later.run(second)
    done = app.autolabel_job(job.id)
    assert done.status == "succeeded" and done.records_processed == 10
    events = [n for n in app.recorder.select_notifications(1, 1_000_000) if n.topic == "AutoLabelSuggested"]
    assert len(events) == done.suggestions
    per_document = {}
    for name, _ in unlabeled(container, project, [f"doc{i:03d}" for i in range(30, 40)]):
        _, doc = app.get_document(project, "p", name)
        spans = [(s["entity"], s["offset"], s["length"]) for s in doc.suggestions.values()]
        assert len(spans) == len(set(spans))
        per_document[name] = len(spans)
    assert sum(per_document.values()) == done.suggestions
    book = ledger(container, project)
    assert (book.charged, book.refunded) == (10, 0)
    container.runner.catch_up()
    assert dump_read_model(container.engine) == rebuilt(container)


def _job_ids(container, resource_id):
    container.runner.catch_up()
    with container.reads.connect() as conn:
        return [r.job_id for r in queries.list_autolabel_jobs(conn, str(ids.project_id(resource_id, "p")), 0, 100).rows]


def test_a_job_of_a_deleted_project_is_ended_by_the_worker_and_its_reservation_settled(container, project):
    app = container.app
    waiting = start(container, project, unlabeled(container, project, ["doc030", "doc031"]))
    running = start(container, project, unlabeled(container, project, ["doc032", "doc033", "doc034"]))
    container.runner.catch_up()
    runner = worker(container, batch_documents=1)
    claims = {j.id: j for j in iter(runner.claim_next, None)}
    claimed = claims[running.id]
    runner._batch(claimed, claimed.attempt, runner._tagger(claimed.artifact))  # one document done, then...
    app.delete_project(project, "p", ACTOR)
    app.put_project(project, "p", {"language": "en"}, ACTOR)  # ... a new life under the same name
    container.runner.catch_up()
    runner.run(app.autolabel_job(running.id))
    runner.run(claims[waiting.id])
    assert app.autolabel_job(waiting.id).status == app.autolabel_job(running.id).status == "failed"
    assert app.autolabel_job(running.id).reason == "The project was deleted."
    book = ledger(container, project)
    assert (book.reserved, book.charged, book.refunded, book.used) == (5, 1, 4, 1)  # only the document done
    container.runner.catch_up()
    assert _job_ids(container, project) == []  # the new project has no jobs
    assert dump_read_model(container.engine) == rebuilt(container)
