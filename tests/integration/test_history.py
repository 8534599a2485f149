"""Replay from snapshots gives the same past states as replay from the first event, at
every position of a document longer than the snapshotting interval (100 events)."""

from spanledger.domain import ids
from spanledger.domain.application import LabelSpec, NewDocument
from spanledger.domain.document import Document
from spanledger.replay.history import History
from spanledger.replay.positions import position_at, version_at

ACTOR = "key:test"


def test_snapshots_change_no_past_state(container):
    app = container.app
    resource_id, _, _ = app.create_resource("acme", ACTOR)
    app.put_project(resource_id, "p", {"language": "en", "overlap_policy": "allow"}, ACTOR)
    app.put_entity(resource_id, "p", "Person", ACTOR)
    _, position = app.add_documents(resource_id, "p", [NewDocument("d", "x" * 200)], ACTOR)
    positions = [position]
    for i in range(130):  # label i, and from the 11th on remove label i-10: past the 100th event
        remove = [f"L{i - 9}"] if i >= 10 else []
        saved = app.save_labels(resource_id, "p", "d", add=[LabelSpec("Person", i, 3)], remove=remove, actor=ACTOR)
        positions.append(saved.position)
    project = app.get_project(resource_id, "p")
    doc_id = ids.document_id(project.id, project.incarnation, "d")
    assert app.snapshots.get(doc_id, desc=True, limit=1)  # a snapshot was taken
    fast, slow = History(app), History(app, snapshots=False)
    for position in positions[::7] + positions[95:110]:
        a, b = fast.at_position(doc_id, position, Document), slow.at_position(doc_id, position, Document)
        assert (a.version, a.labels, a.modified_on) == (b.version, b.labels, b.modified_on)
        assert a.version == version_at(app.recorder, doc_id, position)
    last = app.repository.get(doc_id)
    assert fast.at_position(doc_id, positions[-1], Document).labels == last.labels
    assert position_at(app.recorder, last.modified_on) == positions[-1]

