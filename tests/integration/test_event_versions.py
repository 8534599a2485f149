"""Event schema evolution: an AutoLabelRejected stored in its first shape (v1: no model, job
or entity id, no class_version) is read through the application as the current shape (v2),
beside a v2 one, on each backend; the aggregate, the read model and a replay all take it."""

from datetime import UTC, datetime

import orjson
from eventsourcing.persistence import StoredEvent

from spanledger.domain import ids
from spanledger.domain.application import NewDocument
from spanledger.domain.document import REJECTED, Document
from spanledger.projections import queries
from spanledger.replay.history import History

ACTOR = "key:test"


def test_a_rejection_written_in_the_old_shape_reads_as_the_new_one(container):
    app = container.app
    resource_id, _, _ = app.create_resource("acme", ACTOR)
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    app.put_entity(resource_id, "p", "Person", ACTOR)
    app.add_documents(resource_id, "p", [NewDocument("d", "Ana met Bob.")], ACTOR)
    project, doc = app.get_document(resource_id, "p", "d")
    for offset in (0, 8):
        doc.suggest(project, "Person", offset, 3, 0.5, "m1", "job-1", "worker:w1")
    app._save(doc)
    doc_id = ids.document_id(project.id, project.incarnation, "d")

    # As the code before class_version 2 wrote it (the exact keys of a v1 event).
    v1 = {"actor": "key:old", "project_id": str(project.id), "document": "d", "suggestion_id": "S1",
          "entity": "Person", "offset": 0, "length": 3, "timestamp": datetime.now(UTC).isoformat()}
    app.recorder.insert_events([StoredEvent(doc_id, doc.version + 1, "AutoLabelRejected", orjson.dumps(v1))])
    app.save_labels(resource_id, "p", "d", reject=["S2"], actor=ACTOR)  # written as v2

    old, new = [e for e in app.events.get(doc_id) if isinstance(e, Document.AutoLabelRejected)]
    assert (old.suggestion_id, old.actor, old.entity_id, old.model_label, old.job_id) == (
        "S1", "key:old", None, None, None)
    assert (new.suggestion_id, new.entity_id, new.model_label, new.job_id) == ("S2", "E2", "m1", "job-1")
    stored = app.recorder.select_events(doc_id, desc=True, limit=1)[0]
    written = orjson.loads(stored.state)
    assert written["class_version"] == 2
    assert set(written) - {"class_version", "entity_id", "model_label", "job_id"} == set(v1)  # v1 is the old shape

    _, doc = app.get_document(resource_id, "p", "d")
    assert {i: s["state"] for i, s in doc.suggestions.items()} == {"S1": REJECTED, "S2": REJECTED}
    position = app.recorder.max_notification_id()
    then = History(app).at_position(doc_id, position, Document)
    assert then.suggestions == doc.suggestions
    container.runner.catch_up()
    with container.reads.connect() as conn:
        rows = queries.document_suggestions(conn, str(doc_id))
    assert [(r.suggestion_id, r.state) for r in rows] == [("S1", "rejected"), ("S2", "rejected")]

