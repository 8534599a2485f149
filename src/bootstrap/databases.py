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
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


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
