"""The command side on a real store (SQLite and PostgreSQL): concurrency, transcoding, snapshots."""

import pytest

from spanledger.domain import ids
from spanledger.domain.application import LabelSpec, NewDocument, Spanledger
from spanledger.domain.errors import ConcurrentModification, Conflict, NotFound

ACTOR = "key:test"


@pytest.fixture
def labeled(container):
    app = container.app
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    app.put_entity(resource_id, "p", "Person", ACTOR)
    app.add_documents(resource_id, "p", [NewDocument("d", "Alice and Bob " * 50)], ACTOR)
    return app, resource_id


def test_a_stale_write_is_refused_not_merged(labeled):
    app, resource_id = labeled
    project = app.get_project(resource_id, "p")
    doc_id = ids.document_id(project.id, project.incarnation, "d")
    first, second = app.repository.get(doc_id), app.repository.get(doc_id)
    first.add_label(project, "Person", 0, 5, ACTOR)
    second.add_label(project, "Person", 10, 3, ACTOR)
    app._save(first)
    with pytest.raises(ConcurrentModification):
        app._save(second)
    assert list(app.label_view(resource_id, "p", "d").values()) == [
        {"entity": "Person", "entity_id": "E2", "offset": 0, "length": 5}
    ]


def test_a_refused_command_writes_nothing(labeled):
    app, resource_id = labeled
    head = app.recorder.max_notification_id()
    with pytest.raises(Conflict):  # the second label overlaps the first: the whole batch goes
        app.save_labels(resource_id, "p", "d", add=[LabelSpec("Person", 0, 5), LabelSpec("Person", 2, 5)], actor=ACTOR)
    with pytest.raises(Conflict):  # one good document, one clashing: none is added
        app.add_documents(resource_id, "p", [NewDocument("new", "x"), NewDocument("d", "other")], ACTOR)
    assert app.recorder.max_notification_id() == head


def test_names_are_unique_per_parent_and_projects_are_invisible_to_other_resources(labeled):
    app, resource_id = labeled
    other, _, _ = app.create_resource("other", "cli:test")
    with pytest.raises(NotFound):
        app.get_project(other, "p")
    app.put_project(other, "p", {"language": "de"}, ACTOR)  # same name, another resource: another project
    assert app.get_project(other, "p").id != app.get_project(resource_id, "p").id
    with pytest.raises(Conflict):
        app.create_resource("acme", "cli:test")


def test_events_round_trip_with_datetimes_and_documents_load_from_snapshots(labeled):
    app, resource_id = labeled
    for _ in range(120):
        saved = app.save_labels(resource_id, "p", "d", add=[LabelSpec("Person", 0, 5)], actor=ACTOR)
        app.save_labels(resource_id, "p", "d", remove=saved.added, actor=ACTOR)
    _, cached = app.get_document(resource_id, "p", "d")
    assert cached.version == 241
    assert [s.originator_version for s in app.snapshots.get(cached.id)] == [100, 200]

    fresh = Spanledger(app.env)  # nothing cached: the snapshot at 200, then 41 events
    try:
        _, loaded = fresh.get_document(resource_id, "p", "d")
        replayed = None
        for event in fresh.events.get(cached.id):
            replayed = event.mutate(replayed)
    finally:
        fresh.close()
    for document in (loaded, replayed):
        assert (document.labels, document.next_label, document.version) == (cached.labels, 121, 241)
        assert document.created_on == cached.created_on and document.modified_on == cached.modified_on
        assert document.modified_on.tzinfo is not None and document.created_on < document.modified_on


def test_deleting_a_project_and_creating_it_again_starts_empty(labeled):
    app, resource_id = labeled
    app.delete_project(resource_id, "p", ACTOR)
    with pytest.raises(NotFound):
        app.get_document(resource_id, "p", "d")
    created, _ = app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    assert created and app.get_project(resource_id, "p").entities == {}
    with pytest.raises(NotFound):
        app.get_document(resource_id, "p", "d")


def test_a_save_of_many_events_completes_in_order(container):
    """An import saves one event per label in one transaction: 60,000 of them once hung half
    the time on PostgreSQL (bootstrap/pg_recorder.py), so the save runs with a deadline here."""
    import threading
    import uuid

    from eventsourcing.persistence import StoredEvent

    recorder = container.app.recorder
    events = [StoredEvent(uuid.uuid4(), 1, "spanledger:Probe", b'{"text": "' + b"x" * 250 + b'"}')
              for _ in range(60_000)]
    saved: list = []
    saving = threading.Thread(target=lambda: saved.append(recorder.insert_events(events)), daemon=True)
    saving.start()
    saving.join(timeout=120)
    assert not saving.is_alive(), "the save hung"
    head = recorder.max_notification_id()
    stored = recorder.select_notifications(start=head - 59_999, limit=60_000)
    assert [n.originator_id for n in stored] == [e.originator_id for e in events]
