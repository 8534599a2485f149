"""The artifact store: a local folder on SQLite; on PostgreSQL the database, cached on each
machine by digest, so that a process that never saw a model can use it."""

from __future__ import annotations

import hashlib
import os
import threading
import tracemalloc

import pytest
from sqlalchemy import text

from spanledger.bootstrap import build
from spanledger.jobs.artifacts import ArtifactMissing
from spanledger.jobs.pg_artifacts import CHUNK
from tests.conftest import make_settings

MISSING = "ab" * 32


@pytest.fixture
def two_machines(backend, tmp_path):
    """Two containers with data directories of their own, on one database (or, on SQLite, on
    two: nothing is shared there)."""
    for settings in make_settings(backend, tmp_path / "one"):
        first = build(settings)
        second = build(settings.model_copy(update={"data_dir": tmp_path / "two"}))
        try:
            yield first, second
        finally:
            first.close()
            second.close()


def test_stores_and_reads_back_by_digest(two_machines, tmp_path):
    store = two_machines[0].artifacts
    source = tmp_path / "model.pt"
    source.write_bytes(b"weights" * 1000)
    digest = store.put_file(source)
    assert digest == hashlib.sha256(source.read_bytes()).hexdigest()
    assert store.path(digest).read_bytes() == source.read_bytes()
    assert store.get_json(store.put_json({"a": [1, "é"]})) == {"a": [1, "é"]}
    assert store.path(store.put_chunks([b"[1,", b"2]"])).read_bytes() == b"[1,2]"


def test_a_missing_digest_raises_artifact_missing(two_machines):
    store = two_machines[0].artifacts
    for digest in (MISSING, "../../etc/passwd", ""):
        with pytest.raises(ArtifactMissing):
            store.path(digest)
        with pytest.raises(ArtifactMissing):
            store.get_json(digest)
        assert not store.available(digest)
    assert not list(store.root.rglob("*.partial"))


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_another_machine_reads_what_one_stored_in_chunks(two_machines, tmp_path):
    one, two = two_machines
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(5 * CHUNK + 12345))  # 5 MB and a bit: six chunks
    digest = one.artifacts.put_file(source)
    with one.engine.connect() as conn:
        sizes = conn.execute(text("SELECT length(data) FROM spanledger_artifact_chunks WHERE digest = :d "
                                  "ORDER BY chunk_no"), {"d": digest}).scalars().all()
    assert sizes == [CHUNK] * 5 + [12345]
    assert not two.artifacts._local(digest).exists()
    tracemalloc.start()
    try:
        path = two.artifacts.path(digest)  # fills the second machine's cache from the database
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * CHUNK, f"reading held {peak} bytes at once"
    assert path.parent.parent == tmp_path / "two" / "artifacts"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert two.artifacts.get_json(one.artifacts.put_json({"k": 1})) == {"k": 1}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_content_that_does_not_match_its_digest_is_not_cached(two_machines, tmp_path):
    one, two = two_machines
    digest = one.artifacts.put_json({"model": "weights"})
    with one.engine.begin() as conn:
        conn.execute(text("UPDATE spanledger_artifact_chunks SET data = 'x' WHERE digest = :d"), {"d": digest})
    with pytest.raises(ArtifactMissing, match="another digest"):
        two.artifacts.path(digest)
    assert not [p for p in (tmp_path / "two" / "artifacts").rglob("*") if p.is_file()]


def test_concurrent_puts_of_the_same_content_are_harmless(two_machines, tmp_path):
    one, two = two_machines
    source = tmp_path / "model.pt"
    source.write_bytes(os.urandom(2 * CHUNK + 7))
    digests: list[str] = []
    errors: list[BaseException] = []

    def put(store) -> None:
        try:
            digests.append(store.put_file(source))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=put, args=(c.artifacts,)) for c in (one, two) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(digests)) == 1 and len(digests) == 8
    for store in (one.artifacts, two.artifacts):
        assert store.path(digests[0]).read_bytes() == source.read_bytes()
        assert not list(store.root.rglob("*.partial"))
    if one.settings.uses_postgres:
        with one.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM spanledger_artifacts")) == 1
            assert conn.scalar(text("SELECT count(*) FROM spanledger_artifact_chunks")) == 3


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_sqlite_store_keeps_its_files_to_itself(two_machines):
    one, two = two_machines
    digest = one.artifacts.put_json([1])
    with pytest.raises(ArtifactMissing):
        two.artifacts.path(digest)
    assert one.artifacts.path(digest) == one.settings.data_dir / "artifacts" / digest[:2] / digest
