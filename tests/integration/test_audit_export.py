"""The audit export's reading, on each backend: rows read straight from the driver equal what
SQLAlchemy reads, and on SQLite an export reads with a small page cache and gives its pooled
connection back with the cache it had (memory stays flat over exports)."""

import pytest
from sqlalchemy import select

from spanledger.domain.application import LabelSpec, NewDocument
from spanledger.projections import audit_queries
from spanledger.projections.audit_queries import ENTRY_COLUMNS, AuditFilter, audit_page, audit_stream

ACTOR = "key:test"


def _written(container) -> str:
    app = container.app
    resource_id, _, _ = app.create_resource("acme", ACTOR)
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    app.put_entity(resource_id, "p", "Person", ACTOR)
    app.add_documents(resource_id, "p", [NewDocument(f"d{i}", "Ana met \U0001F600 Bob.") for i in range(5)], ACTOR)
    for i in range(5):
        app.save_labels(resource_id, "p", f"d{i}", add=[LabelSpec("Person", 0, 3)],
                        actor=ACTOR)
    container.runner.catch_up()
    return str(resource_id)


def test_pages_read_from_the_driver_hold_what_sqlalchemy_reads(container):
    resource_id = _written(container)
    where = AuditFilter(resource_id=resource_id, event_types=("DocumentAdded", "LabelAdded"), actor=ACTOR)
    with container.reads.connect() as conn:
        page = audit_page(conn, where, 1, 6)
        expected = conn.execute(audit_queries._where(select(*ENTRY_COLUMNS[:-1]), where)
                                .order_by(audit_queries.a.position).offset(1).limit(6)).all()
    assert page.more and [tuple(r) for r in page.rows] == [tuple(r) for r in expected]
    streamed = [row for rows, _ in audit_stream(container.reads, where, page_size=3) for row in rows]
    assert [r[3] for r in streamed] == ["DocumentAdded"] * 5 + ["LabelAdded"] * 5
    assert streamed[1:7] == page.rows


def test_an_export_reads_with_a_small_page_cache_and_restores_it(container, monkeypatch):
    resource_id = _written(container)
    seen, fetch = [], audit_queries._fetch

    def spy(conn, query):
        driver = conn.connection.driver_connection
        if conn.dialect.name == "sqlite":
            seen.append((driver, driver.execute("PRAGMA cache_size").fetchone()[0]))
        return fetch(conn, query)

    monkeypatch.setattr(audit_queries, "_fetch", spy)
    stream = audit_stream(container.reads, AuditFilter(resource_id=resource_id), page_size=2)
    next(stream)
    next(stream)
    stream.close()  # as when the client goes
    if container.reads.dialect.name != "sqlite":
        return
    assert len(seen) == 2 and len({id(driver) for driver, _ in seen}) == 1  # one connection for the export
    assert {size for _, size in seen} == {-audit_queries._EXPORT_PAGE_CACHE_KIB}
    assert seen[0][0].execute("PRAGMA cache_size").fetchone()[0] == -65536  # as bootstrap sets it


def test_postgresql_reads_a_page_in_index_order_and_restores_the_planner(container, monkeypatch):
    if container.reads.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    resource_id = _written(container)
    statements = []
    with container.reads.connect() as conn:
        driver = conn.connection.driver_connection
        monkeypatch.setattr(driver, "cursor", _recording(driver.cursor, statements))
        audit_page(conn, AuditFilter(resource_id=resource_id), 0, 5)
        monkeypatch.undo()
        assert statements[1:] == ["SET LOCAL enable_sort = off", statements[2], "SET LOCAL enable_sort = on"]
        assert conn.connection.driver_connection.execute("SHOW enable_sort").fetchone()[0] == "on"


def _recording(make_cursor, statements):
    class Recording:
        def __init__(self, real):
            self.real = real

        def execute(self, query, *args, **kwargs):
            statements.append(str(query))
            self.real.execute(query, *args, **kwargs)
            return self

        def __getattr__(self, name):
            return getattr(self.real, name)

    return lambda *args, **kwargs: Recording(make_cursor(*args, **kwargs))
