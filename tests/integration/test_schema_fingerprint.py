"""A projection whose tables changed shape (a deployment upgraded to a new version) is dropped
and rebuilt from the log at startup; one whose tables did not is left as it is."""

from sqlalchemy import Column, Integer, MetaData, String, Table, select, update

from spanledger.domain.application import LabelSpec, NewDocument
from spanledger.projections.tables import audit_events, positions, schemas
from tests.support import dump_read_model

ACTOR = "key:test"


def _some_events(app) -> None:
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    app.put_entity(resource_id, "p", "Person", ACTOR)
    app.add_documents(resource_id, "p", [NewDocument("d", "Alice met Bob")], ACTOR)
    app.save_labels(resource_id, "p", "d", add=[LabelSpec("Person", 0, 5)], actor=ACTOR)


def _audit_position(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(positions.c.position).where(positions.c.name == "audit"))


def test_an_unchanged_read_model_is_kept(container):
    _some_events(container.app)
    container.runner.catch_up()
    before = _audit_position(container.engine)
    assert container.runner.create_tables() == []
    assert _audit_position(container.engine) == before > 0


def test_a_changed_fingerprint_rebuilds_that_projection_only(container):
    _some_events(container.app)
    runner = container.runner
    runner.catch_up()
    expected = dump_read_model(container.engine)
    with container.engine.begin() as conn:
        conn.execute(update(schemas).where(schemas.c.name == "audit").values(fingerprint="an older shape"))
    assert runner.create_tables() == ["audit"]
    assert _audit_position(container.engine) == 0
    with container.engine.connect() as conn:
        assert conn.execute(select(audit_events)).first() is None
    runner.catch_up()
    assert dump_read_model(container.engine) == expected


def test_a_read_model_from_before_fingerprints_is_rebuilt_where_its_columns_differ(container):
    _some_events(container.app)
    runner = container.runner
    runner.catch_up()
    expected = dump_read_model(container.engine)
    # The audit table as it was before it had resource, job and model columns.
    with container.engine.begin() as conn:
        audit_events.drop(conn)
        old = Table("audit_events", MetaData(), Column("position", Integer, primary_key=True),
                    Column("occurred_at", String(40)), Column("payload", String))
        old.create(conn)
        conn.execute(schemas.delete())
    assert runner.create_tables() == ["audit"]
    runner.catch_up()
    assert dump_read_model(container.engine) == expected
