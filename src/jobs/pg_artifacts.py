"""Artifacts in PostgreSQL, so that a process on any machine that reaches the database can use
any model: content-addressed rows of ~1 MiB chunks, written and read one chunk at a time (a
model is never held whole in memory), with the local folder as a cache keyed by digest."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from spanledger.jobs.artifacts import ArtifactMissing, ArtifactStore

CHUNK = 1 << 20
# One lock number for creating the tables: processes starting together on an empty database
# would otherwise race on CREATE TABLE IF NOT EXISTS (it is not safe concurrently).
_SCHEMA_LOCK = 0x5A4E_A27F_AC75

_SCHEMA = (
    # A digest's row is written in the same transaction as its chunks, after them: a reader
    # that finds the row finds every chunk.
    "CREATE TABLE IF NOT EXISTS spanledger_artifacts (digest char(64) PRIMARY KEY, size bigint NOT NULL, "
    "chunks integer NOT NULL, stored_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS spanledger_artifact_chunks (digest char(64) NOT NULL, chunk_no integer NOT NULL, "
    "data bytea NOT NULL, PRIMARY KEY (digest, chunk_no))",
)


class PostgresArtifactStore(ArtifactStore):
    def __init__(self, cache: Path, engine: Engine):
        super().__init__(cache)
        self.engine = engine
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
            for statement in _SCHEMA:
                conn.execute(text(statement))

    def _publish(self, digest: str, local: Path) -> None:
        """Copies the cached file into the database unless it is there. Two processes storing
        the same content wait for each other on the digest's lock; the second finds it stored."""
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(digest[:15], 16)})
            if _stored(conn, digest) is not None:
                return
            size, chunks = 0, 0
            with local.open("rb") as f:
                for data in iter(lambda: f.read(CHUNK), b""):
                    conn.execute(text("INSERT INTO spanledger_artifact_chunks (digest, chunk_no, data) "
                                      "VALUES (:d, :n, :data)"), {"d": digest, "n": chunks, "data": data})
                    size, chunks = size + len(data), chunks + 1
            conn.execute(text("INSERT INTO spanledger_artifacts (digest, size, chunks) VALUES (:d, :s, :c)"),
                         {"d": digest, "s": size, "c": chunks})

    def _fetch(self, digest: str, local: Path) -> None:
        """Fills the cache from the database: chunk by chunk into a temporary file, hashed on
        the way, renamed only if the content is the digest's (never a torn or wrong file)."""
        local.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=local.parent, suffix=".partial")
        try:
            sha = hashlib.sha256()
            with os.fdopen(handle, "wb") as out, self.engine.connect() as conn:
                stored = _stored(conn, digest)
                if stored is None:
                    raise ArtifactMissing(digest)
                for n in range(stored[1]):
                    data = conn.scalar(text("SELECT data FROM spanledger_artifact_chunks WHERE digest = :d AND "
                                            "chunk_no = :n"), {"d": digest, "n": n})
                    if data is None:
                        raise ArtifactMissing(f"{digest}: chunk {n} is missing")
                    sha.update(data)
                    out.write(data)
            if sha.hexdigest() != digest:
                raise ArtifactMissing(f"{digest}: the stored content has another digest ({sha.hexdigest()})")
            os.replace(partial, local)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)


def _stored(conn: Connection, digest: str) -> tuple[int, int] | None:
    row = conn.execute(text("SELECT size, chunks FROM spanledger_artifacts WHERE digest = :d"), {"d": digest}).first()
    return None if row is None else (row[0], row[1])
