"""Property: any sequence of commands gives the same read model applied incrementally as
after a rebuild, every document's label view equals a replay of its aggregate, and the quota
view agrees with the ledger."""

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanledger.bootstrap import build
from spanledger.domain import ids
from spanledger.domain.application import LabelSpec, NewDocument, Spanledger
from spanledger.domain.autolabel_commands import Suggestion
from spanledger.domain.errors import DomainError
from spanledger.domain.offsets import StringIndexType
from spanledger.domain.quota import QuotaLedger, month_of
from spanledger.projections import queries
from tests.conftest import make_settings
from tests.support import dump_read_model, rebuilt

ACTOR = "key:prop"
ENTITIES = ["Person", "Org", "Date"]
DOCUMENTS = ["a", "b", "c"]
CP = StringIndexType.CODE_POINT

texts = st.text(alphabet="ab 😀é", min_size=1, max_size=30)
spans = st.tuples(st.integers(0, 32), st.integers(1, 8))
label_commands = st.one_of(
    st.tuples(st.just("add_labels"), st.sampled_from(DOCUMENTS),
              st.lists(st.tuples(st.sampled_from(ENTITIES), spans), min_size=1, max_size=3)),
    st.tuples(st.just("remove_label"), st.sampled_from(DOCUMENTS), st.integers(0, 5)),
    st.tuples(st.just("save_labels"), st.sampled_from(DOCUMENTS),
              st.lists(st.tuples(st.sampled_from(ENTITIES), spans), max_size=3), st.integers(0, 5)),
)
other_commands = st.one_of(
    st.tuples(st.just("add_entity"), st.sampled_from(ENTITIES)),
    st.tuples(st.just("remove_entity"), st.sampled_from(ENTITIES)),
    st.tuples(st.just("add_document"), st.sampled_from(DOCUMENTS), texts, st.sampled_from(["Train", "Test"])),
    st.tuples(st.just("delete_document"), st.sampled_from(DOCUMENTS)),
    st.tuples(st.just("change_dataset"), st.sampled_from(DOCUMENTS), st.sampled_from(["Train", "Test"])),
    st.tuples(st.just("set_overlap"), st.sampled_from(["reject", "allow"])),
    st.tuples(st.just("catch_up")),
)
# Auto-labeling with the model's work played by the test: starts that fit the quota or not,
# batches of suggestions (some on user labels, some repeated), cancels, failures.
autolabel_commands = st.one_of(
    st.tuples(st.just("autolabel_start"), st.lists(st.sampled_from(DOCUMENTS), min_size=1, max_size=3, unique=True),
              st.sampled_from([1, 2, 2000]), st.sampled_from([0.0, 0.5])),
    st.tuples(st.just("autolabel_batch"), st.lists(st.tuples(st.sampled_from(ENTITIES), spans,
                                                             st.sampled_from([0.3, 0.9])), max_size=3)),
    st.tuples(st.just("autolabel_cancel")),
    st.tuples(st.just("autolabel_fail")),
)
# Reviewing what was suggested: one decision, all of a document's, undo, save-labels with
# decisions, and a training request (which drops what is still pending).
review_commands = st.one_of(
    st.tuples(st.just("review_one"), st.sampled_from(DOCUMENTS), st.sampled_from(["accept", "reject"]),
              st.integers(0, 5)),
    st.tuples(st.just("review_all"), st.sampled_from(DOCUMENTS), st.sampled_from(["accept", "reject"])),
    st.tuples(st.just("review_undo"), st.sampled_from(DOCUMENTS), st.integers(1, 3)),
    st.tuples(st.just("review_save"), st.sampled_from(DOCUMENTS), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("review_train")),
)
# Label commands are the bulk of real logs, so they are drawn twice as often as the rest.
commands = st.one_of(label_commands, label_commands, other_commands, autolabel_commands, review_commands)
NOW = datetime.now(UTC)
LEASE = timedelta(minutes=5)

_runs = itertools.count()


def run(app, resource_id, project, command, labels: dict[str, list[str]], jobs: list) -> None:
    """Runs one command; `labels` remembers the label ids added per document, to remove some,
    and `jobs` the auto-labeling jobs started."""
    kind, *args = command
    if kind.startswith("autolabel"):
        run_autolabel(app, resource_id, project, command, jobs)
    elif kind.startswith("review"):
        run_review(app, resource_id, project, command)
    elif kind == "add_entity":
        app.put_entity(resource_id, project, args[0], ACTOR)
    elif kind == "remove_entity":
        app.delete_entity(resource_id, project, args[0], ACTOR)
    elif kind == "add_document":
        app.add_documents(resource_id, project, [NewDocument(args[0], args[1], None, args[2])], ACTOR)
    elif kind == "delete_document":
        app.delete_document(resource_id, project, args[0], ACTOR)
    elif kind == "change_dataset":
        app.change_dataset(resource_id, project, args[0], args[1], ACTOR)
    elif kind == "save_labels":
        document, add, pick = args
        known = labels.setdefault(document, [])
        remove = [known[pick % len(known)]] if known else []
        saved = app.save_labels(resource_id, project, document, add=[LabelSpec(e, o, n) for e, (o, n) in add],
                                remove=remove, unit=CP, actor=ACTOR)
        known.extend(saved.added)
    elif kind == "add_labels":
        for entity, (offset, length) in args[1]:
            try:
                saved = app.save_labels(resource_id, project, args[0], add=[LabelSpec(entity, offset, length)],
                                        unit=CP, actor=ACTOR)
                labels.setdefault(args[0], []).extend(saved.added)
            except DomainError:
                pass
    elif kind == "remove_label":
        known = labels.get(args[0]) or ["L1"]
        app.save_labels(resource_id, project, args[0], remove=[known[args[1] % len(known)]], actor=ACTOR)
    elif kind == "set_overlap":
        app.put_project(resource_id, project, {"overlap_policy": args[0]}, ACTOR)


def run_autolabel(app, resource_id, project, command, jobs: list) -> None:
    kind, *args = command
    if kind == "autolabel_start":
        names, records, min_confidence = args
        job, _, _ = app.start_autolabel(resource_id, project, model_label="m", entities=None,
                                        documents=[(n, records) for n in names], min_confidence=min_confidence,
                                        actor=ACTOR, now=NOW)
        jobs.append(job.id)
        return
    live = [j for j in jobs if not app.autolabel_job(j).ended]
    if not live:
        return
    job = app.autolabel_job(live[0])
    if kind == "autolabel_cancel":
        app.cancel_autolabel(resource_id, project, str(job.id), ACTOR, NOW)
        return
    if job.status == "notStarted":
        job = app.claim_autolabel(job.id, "w", NOW, LEASE)
    if kind == "autolabel_fail":
        app.fail_autolabel(job.id, job.attempt, "a failure")
        return
    if job.cancel_requested:
        app.acknowledge_autolabel_cancel(job.id, job.attempt)
        return
    name = job.documents[job.documents_done][0]
    suggestions = [Suggestion(entity, offset, length, confidence) for entity, (offset, length), confidence in args[0]]
    job = app.record_autolabel_batch(job.id, job.attempt, [(name, suggestions)], NOW, LEASE)
    if job.documents_done == len(job.documents):
        app.complete_autolabel(job.id, job.attempt)


def run_review(app, resource_id, project, command) -> None:
    kind, *args = command
    if kind == "review_train":
        job, _ = app.request_training(resource_id, project, model_label="m2", config_version="onehot-char",
                                      evaluation={"kind": "manual"}, recipe={"name": "onehot-char"}, actor=ACTOR)
        app.cancel_training(resource_id, project, str(job.id), ACTOR, NOW)  # only its start matters here
        return
    name = args[0]
    suggestions = sorted(app.get_document(resource_id, project, name)[1].suggestions) or ["S1"]
    if kind == "review_one":
        chosen = suggestions[args[2] % len(suggestions)]
        decide = app.accept_suggestion if args[1] == "accept" else app.reject_suggestion
        decide(resource_id, project, name, chosen, ACTOR)
    elif kind == "review_all":
        decide = app.accept_all_suggestions if args[1] == "accept" else app.reject_all_suggestions
        decide(resource_id, project, name, ACTOR)
    elif kind == "review_undo":
        app.undo_review(resource_id, project, name, args[1], ACTOR)
    elif kind == "review_save":
        accept, reject = suggestions[args[1] % len(suggestions)], suggestions[args[2] % len(suggestions)]
        app.save_labels(resource_id, project, name, accept=[accept], reject=[reject] if reject != accept else [],
                        actor=ACTOR)


def record_model(app, runner, resource_id, project) -> None:
    """Model "m" (Person, Org), as a worker would record it (no file: nothing predicts here)."""
    app.save_labels(resource_id, project, DOCUMENTS[0], add=[LabelSpec("Person", 0, 5)], unit=CP, actor=ACTOR)
    app.change_dataset(resource_id, project, DOCUMENTS[1], "Test", ACTOR)
    app.save_labels(resource_id, project, DOCUMENTS[1], add=[LabelSpec("Org", 0, 5)], unit=CP, actor=ACTOR)
    runner.catch_up()  # training reads its early refusals off the read model
    job, _ = app.request_training(resource_id, project, model_label="m", config_version="onehot-char",
                                  evaluation={"kind": "manual"}, recipe={"name": "onehot-char"}, actor=ACTOR)
    app.claim_training(job.id, "w", NOW, LEASE)
    app.complete_training(job.id, 1, artifact="0" * 64, evaluation_artifact="0" * 64, fingerprint="0" * 64,
                          duration_seconds=1.0, recipe={"name": "onehot-char"}, evaluation={"kind": "manual"},
                          entity_types=["Org", "Person"], metrics={"entities": {}})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(commands, min_size=3, max_size=50), rebuild_batch=st.integers(1, 12))
def test_incremental_read_model_equals_rebuild_and_aggregate_replay(backend, tmp_path, script, rebuild_batch):
    # A store of its own for each example: a rebuild in small batches replays this example's
    # events only, not every earlier example's too (which made the test quadratic).
    for settings_ in make_settings(backend, tmp_path / f"run{next(_runs)}"):
        container = build(settings_)
        try:
            check_script(container, script, rebuild_batch)
        finally:
            container.close()


def check_script(container, script, rebuild_batch):
    app, runner = container.app, container.runner
    resource_id, _, _ = app.create_resource(f"r{next(_runs)}", "cli:prop")
    project = "p"
    app.put_project(resource_id, project, {"language": "en"}, ACTOR)
    for entity in ENTITIES[:2]:
        app.put_entity(resource_id, project, entity, ACTOR)
    app.add_documents(resource_id, project, [NewDocument(d, "Alice 😀 and Bob é ab ab ab") for d in DOCUMENTS], ACTOR)
    record_model(app, runner, resource_id, project)
    labels: dict[str, list[str]] = {"a": ["L1"], "b": ["L1"]}
    jobs: list = []
    for command in script:
        head = app.recorder.max_notification_id()
        try:
            if command[0] == "catch_up":
                runner.catch_up()
            else:
                run(app, resource_id, project, command, labels, jobs)
        except DomainError:
            assert app.recorder.max_notification_id() == head, "a refused command wrote events"
    runner.catch_up()
    incremental = dump_read_model(container.engine)
    runner.batch_size = rebuild_batch  # batches that cut the log at every kind of place
    assert incremental == rebuilt(container)
    runner.batch_size = 2000

    project_id = str(app.get_project(resource_id, project).id)
    fresh = Spanledger(container.app.env)  # no cached aggregates: snapshots and events from the store
    expected_stats: Counter[tuple[str, str]] = Counter()
    with container.engine.connect() as conn:
        for name in DOCUMENTS:
            found = queries.get_document(conn, project_id, name)
            try:
                replayed = fresh.label_view(resource_id, project, name)
            except DomainError:
                assert found is None
                continue
            row, labels = found
            assert {label.label_id: (label.entity, label.offset, label.length) for label in labels} == {
                label_id: (label["entity"], label["offset"], label["length"]) for label_id, label in replayed.items()
            }
            assert row.label_count == len(replayed)
            expected_stats.update((label["entity"], row.dataset) for label in replayed.values())
        stats = {(e["category"], dataset): n for e in queries.entity_statistics(conn, project_id)
                 for dataset, n in e["labels"].items()}
    assert stats == dict(expected_stats)

    ledger = fresh._get(ids.quota_ledger_id(resource_id, month_of(NOW)), QuotaLedger)
    with container.engine.connect() as conn:
        usage = queries.quota_usage_of(conn, str(resource_id), month_of(NOW))
        for name in DOCUMENTS:
            found = queries.get_document(conn, project_id, name)
            if found is not None:
                _, document = fresh.get_document(resource_id, project, name)
                viewed = {(s.suggestion_id, s.entity, s.offset, s.length, s.state)
                          for s in queries.document_suggestions(conn, found[0].id)}
                entities = fresh.get_project(resource_id, project).entities
                assert viewed == {(i, s["entity"], s["offset"], s["length"], s["state"])
                                  for i, s in document.suggestions.items() if entities.get(s["entity"]) == s["entity_id"]}
    if ledger is None:
        assert usage.projects == {}
    else:
        assert (usage.total("reserved"), usage.total("charged"), usage.total("refunded")) == (
            ledger.reserved, ledger.charged, ledger.refunded)
        assert usage.remaining == ledger.remaining(5000)
    fresh.close()
