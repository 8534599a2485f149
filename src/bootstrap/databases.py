"""Creating and dropping databases: PostgreSQL's on a server's first start, in tests and benchmarks, and a
scratch read model to replay into (`spanledger projections verify`)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from spanledger.bootstrap.settings import Settings


def _admin_conninfo(url: str) -> tuple[str, str]:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), parsed.database or ""


def ensure_database(url: str) -> bool:
    """Creates the database the URL names unless it exists; answers whether it created it."""
    conninfo, name = _admin_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:  # another process starting at the same time made it
            return False
        return True


# Processes starting together on one database take turns to create tables and the default
# resource: CREATE TABLE IF NOT EXISTS and check-then-insert are not safe concurrently.
_STARTUP_LOCK = 0x5A4E_0001


@contextmanager
def startup_lock(settings: Settings) -> Iterator[None]:
    """Held by one process at a time (a PostgreSQL session lock, released if the process dies)."""
    if not settings.uses_postgres:
        yield
        return
    conninfo = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_STARTUP_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_STARTUP_LOCK,))


def drop_database(url: str) -> None:
    conninfo, name = _admin_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def scratch_read_model(settings: Settings) -> Iterator[Engine]:
    """An empty read-model database on the same backend as `settings`, removed afterwards:
    a temporary SQLite folder, or a PostgreSQL database beside the real one."""
    from spanledger.bootstrap import read_model_engine

    if not settings.uses_postgres:
        with tempfile.TemporaryDirectory(prefix="spanledger-verify-") as folder:
            engine = read_model_engine(settings.model_copy(update={"data_dir": Path(folder)}))
            try:
                yield engine
            finally:
                engine.dispose()
        return
    url = make_url(settings.database_url)
    scratch = url.set(database=f"{url.database}_verify_{uuid.uuid4().hex[:8]}").render_as_string(hide_password=False)
    ensure_database(scratch)
    engine = read_model_engine(settings.model_copy(update={"database_url": scratch}))
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(scratch)
