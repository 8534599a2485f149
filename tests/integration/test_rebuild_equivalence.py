"""Property: any sequence of commands gives the same read model applied incrementally as
after a rebuild, and every document's label view equals a replay of its aggregate."""

import itertools
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import LabelSpec, NewDocument, Spanledger
from domain.errors import DomainError
from domain.offsets import StringIndexType
from projections import queries
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
# Label commands are the bulk of real logs, so they are drawn twice as often as the rest.
commands = st.one_of(label_commands, label_commands, other_commands)

_runs = itertools.count()


def run(app, resource_id, project, command, labels: dict[str, list[str]]) -> None:
    """Runs one command; `labels` remembers the label ids added per document, to remove some."""
    kind, *args = command
    if kind == "add_entity":
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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(commands, min_size=3, max_size=50), rebuild_batch=st.integers(1, 12))
def test_incremental_read_model_equals_rebuild_and_aggregate_replay(container, script, rebuild_batch):
    app, runner = container.app, container.runner
    resource_id, _, _ = app.create_resource(f"r{next(_runs)}", "cli:prop")
    project = "p"
    app.put_project(resource_id, project, {"language": "en"}, ACTOR)
    for entity in ENTITIES[:2]:
        app.put_entity(resource_id, project, entity, ACTOR)
    app.add_documents(resource_id, project, [NewDocument(d, "Alice 😀 and Bob é ab ab ab") for d in DOCUMENTS], ACTOR)
    labels: dict[str, list[str]] = {}
    for command in script:
        head = app.recorder.max_notification_id()
        try:
            if command[0] == "catch_up":
                runner.catch_up()
            else:
                run(app, resource_id, project, command, labels)
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
    fresh.close()
