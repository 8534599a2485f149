"""The read model: batched projections against a rebuild, crash and resume, read-your-writes."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import inspect, select

from spanledger.domain import ids
from spanledger.domain.application import LabelSpec, NewDocument
from spanledger.domain.document import Document
from spanledger.projections import queries
from spanledger.projections.tables import projects
from tests.support import dump_read_model, rebuilt

ACTOR = "key:test"


def populate(app, documents: int = 30, labels: int = 20) -> None:
    """A log with every kind of labeling event, including the ones that rewrite rows."""
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    app.put_project(resource_id, "gone", {"language": "en"}, ACTOR)
    for entity in ("Person", "Org", "Date"):
        app.put_entity(resource_id, "p", entity, ACTOR)
    app.put_entity(resource_id, "gone", "Person", ACTOR)
    text = "Alice 😀 met Bob at Acme on Monday. " * labels
    app.add_documents(resource_id, "p", [NewDocument(f"d{i}", text) for i in range(documents)], ACTOR)
    app.add_documents(resource_id, "gone", [NewDocument("x", text)], ACTOR)
    for i in range(documents):
        step = len("Alice 😀 met Bob at Acme on Monday. ")
        add = [LabelSpec(("Person", "Org", "Date")[k % 3], k * step + 1, 5) for k in range(labels)]
        saved = app.save_labels(resource_id, "p", f"d{i}", add=add, actor=ACTOR)
        app.save_labels(resource_id, "p", f"d{i}", remove=saved.added[:3], actor=ACTOR)
        if i % 5 == 0:
            app.change_dataset(resource_id, "p", f"d{i}", "Test", ACTOR)
        if i % 7 == 0:
            app.delete_document(resource_id, "p", f"d{i}", ACTOR)
    app.save_labels(resource_id, "gone", "x", add=[LabelSpec("Person", 1, 5)], actor=ACTOR)
    app.delete_entity(resource_id, "p", "Date", ACTOR)
    app.delete_project(resource_id, "gone", ACTOR)
    app.add_documents(resource_id, "p", [NewDocument("d0", "Back again, Alice.")], ACTOR)


@pytest.mark.parametrize("batch_size", [1, 7, 5000])
def test_incremental_batches_give_the_same_read_model_as_a_rebuild(container, batch_size):
    runner = container.runner
    runner.batch_size = batch_size
    container.app.on_saved.append(lambda _: runner.catch_up())  # project every write as it lands
    populate(container.app)
    incremental = dump_read_model(container.engine)
    runner.batch_size = 5000
    assert incremental == rebuilt(container)
    assert incremental["documents"] and incremental["labels"] and incremental["audit_events"]


def test_the_views_hold_what_the_log_says(container):
    populate(container.app)
    container.runner.catch_up()
    with container.engine.connect() as conn:
        project_id = conn.execute(select(projects.c.id).where(projects.c.name == "p")).scalar_one()
        stats = {e["category"]: e["labels"] for e in queries.entity_statistics(conn, project_id)}
        docs = queries.list_documents(conn, project_id, limit=1000).rows
    # 30 documents, every 7th deleted (5), d0 added again; 17 labels left on each labeled one,
    # Date labels gone with their entity.
    assert len(docs) == 26
    live = [d for d in docs if d.name != "d0"]
    assert sum(d.label_count for d in live) == sum(stats["Person"].values()) + sum(stats["Org"].values())
    assert set(stats) == {"Person", "Org"}
    assert {d.dataset for d in docs if d.name in ("d5", "d10")} == {"Test"}


def test_a_failing_batch_leaves_no_trace_and_the_runner_resumes(container):
    populate(container.app, documents=10)
    runner = container.runner
    runner.drop()
    runner.batch_size = 50
    labeling = runner.projections[0]
    original = labeling.apply
    calls = {"n": 0}

    def crash_on_third_batch(conn, events):
        calls["n"] += 1
        original(conn, events)
        if calls["n"] == 3:
            raise RuntimeError("crash in the middle of a batch")

    labeling.apply = crash_on_third_batch
    runner.run_batch()
    runner.run_batch()
    before = runner.positions()
    with pytest.raises(RuntimeError):
        runner.run_batch()
    assert runner.positions() == before == {"labeling": 100, "audit": 100, "training": 100, "autolabel": 100, "quota": 100}
    labeling.apply = original
    runner.catch_up()
    assert dump_read_model(container.engine) == rebuilt(container)


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from spanledger.bootstrap import build
    from spanledger.bootstrap.settings import Settings
    from spanledger.projections import labeling

    added = labeling._HANDLERS["LabelAdded"]
    seen = 0

    def die_mid_batch(batch, event):
        global seen
        seen += 1
        added(batch, event)
        if seen == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)

    labeling._HANDLERS["LabelAdded"] = die_mid_batch
    container = build(Settings(data_dir=Path(sys.argv[1]), database_url=sys.argv[2] or None))
    container.runner.batch_size = 200
    container.runner.catch_up()
""")


def test_a_projection_killed_mid_batch_resumes_exactly(container, settings, tmp_path):
    populate(container.app)
    container.runner.drop()
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(script), str(settings.data_dir), settings.database_url or "", "450"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    position = container.runner.positions()["labeling"]
    assert 0 < position < container.app.recorder.max_notification_id()
    assert position % 200 == 0  # only whole batches were committed
    container.runner.catch_up()
    assert dump_read_model(container.engine) == rebuilt(container)


def test_reads_wait_for_a_position_then_give_up(container):
    populate(container.app, documents=2)
    head = container.app.recorder.max_notification_id()
    assert container.runner.wait_for(head, timeout=0.05) is False
    container.runner.catch_up()
    assert container.runner.wait_for(head, timeout=0.05) is True


def test_a_bulk_load_gives_the_same_views_and_leaves_the_indexes_in_place(container):
    populate(container.app)
    runner = container.runner
    runner.bulk_load_events = 10**9
    expected = rebuilt(container)
    runner.bulk_load_events = 10
    runner.drop()
    runner.catch_up()
    assert dump_read_model(container.engine) == expected
    indexed = {ix["name"] for table in ("documents", "audit_events")
               for ix in inspect(container.engine).get_indexes(table)}
    assert {"ix_documents_project_dataset", "ix_audit_project"} <= indexed


def test_events_of_a_document_deleted_and_added_again_within_one_batch(container):
    app = container.app
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    app.put_entity(resource_id, "p", "Person", ACTOR)
    app.add_documents(resource_id, "p", [NewDocument("d", "Alice and Bob")], ACTOR)
    app.save_labels(resource_id, "p", "d", add=[LabelSpec("Person", 0, 5)], actor=ACTOR)
    app.delete_document(resource_id, "p", "d", ACTOR)
    app.add_documents(resource_id, "p", [NewDocument("d", "Bob again")], ACTOR)
    app.save_labels(resource_id, "p", "d", add=[LabelSpec("Person", 0, 3)], actor=ACTOR)
    expected = rebuilt(container)
    for batch_size in range(1, 10):
        container.runner.batch_size = batch_size
        assert rebuilt(container) == expected, batch_size


def test_writes_that_raced_a_removal_change_nothing_in_the_views(container):
    """A label saved while its entity type was removed, and a document added while its
    project was deleted, are dead on arrival for the aggregates: the views agree."""
    app = container.app
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    app.put_entity(resource_id, "p", "Person", ACTOR)
    app.add_documents(resource_id, "p", [NewDocument("d", "Alice and Bob")], ACTOR)
    stale_project, document = app.get_document(resource_id, "p", "d")
    app.delete_entity(resource_id, "p", "Person", ACTOR)  # meanwhile, in another request
    document.add_label(stale_project, "Person", 0, 5, ACTOR)
    app._save(document)  # the race: nothing on the command side stops this write

    project = app.get_project(resource_id, "p")
    late = Document.add(ids.document_id(project.id, project.incarnation, "late"), project, "late", "Hi",
                        None, "Train", ACTOR)
    app.delete_project(resource_id, "p", ACTOR)  # meanwhile, in another request
    app._save(late)
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    app.add_documents(resource_id, "p", [NewDocument("late", "A new life")], ACTOR)

    container.runner.catch_up()
    with container.engine.connect() as conn:
        project_id = str(project.id)
        assert [d.name for d in queries.list_documents(conn, project_id).rows] == ["late"]
        assert queries.get_document(conn, project_id, "late")[0].text == "A new life"
        assert queries.entity_statistics(conn, project_id) == []
    assert dump_read_model(container.engine) == rebuilt(container)


def test_verify_finds_no_difference_in_a_right_read_model_and_each_corrupted_row(container):
    from sqlalchemy import delete, update

    from spanledger.bootstrap.databases import scratch_read_model
    from spanledger.projections.tables import audit_events, labels
    from spanledger.projections.verify import verify

    populate(container.app, documents=4, labels=5)
    container.runner.catch_up()
    with scratch_read_model(container.settings) as scratch:
        report = verify(container.runner, scratch)
    assert report.ok and report.rows > 50 and report.position == container.app.recorder.max_notification_id()

    with container.engine.begin() as conn:
        label = conn.execute(select(labels).limit(1)).one()
        conn.execute(update(labels).where(labels.c.document_id == label.document_id,
                                          labels.c.label_id == label.label_id).values(offset=label.offset + 1))
        conn.execute(delete(audit_events).where(audit_events.c.position == 3))
    with scratch_read_model(container.settings) as scratch:
        report = verify(container.runner, scratch)
    found = {d.table: d for d in report.differences}
    assert set(found) == {"labels", "audit_events"}
    (live, replayed), = found["labels"].changed
    assert (live["offset"], replayed["offset"]) == (label.offset + 1, label.offset)
    assert [row["position"] for row in found["audit_events"].missing] == [3]
    assert any("offset" in line and "(live)" in line for line in found["labels"].lines())
