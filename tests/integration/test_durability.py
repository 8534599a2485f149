"""Durability chosen on purpose: a write is acknowledged only once the log has it on disk.

- SQLite: the log runs in WAL mode with synchronous=FULL (the WAL is synced at every
  commit), so a power loss right after an acknowledgement loses nothing. Simulated by copying
  the log's files at that moment (what the disk holds, without the process closing anything)
  and opening the copy. The read model runs with synchronous=NORMAL: a power loss may lose its
  last transactions, which it takes up again from its stored position in the log.
- PostgreSQL: fsync and synchronous_commit are on (the server's defaults), so a commit
  returns after its WAL record is flushed.
"""

import shutil
import sqlite3

import psycopg

from spanledger.bootstrap import build
from tests.conftest import make_settings, require_backend
from tests.training_data import add_labeled_project


def test_sqlite_acknowledged_writes_are_in_the_files_the_moment_they_are_acknowledged(tmp_path):
    (settings,) = make_settings("sqlite", tmp_path / "data")
    container = build(settings)
    app = container.app
    with app.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    resource_id, _, _ = app.create_resource("r", "test")
    add_labeled_project(app, resource_id, count=5)
    acknowledged = app.recorder.max_notification_id()

    crash = tmp_path / "crash"
    crash.mkdir()
    log = settings.data_dir / "events.sqlite"
    for suffix in ("", "-wal"):  # not -shm: it is rebuilt from the WAL on opening
        shutil.copy(f"{log}{suffix}", crash / f"events.sqlite{suffix}")
    with sqlite3.connect(crash / "events.sqlite") as copy:
        (survived,) = copy.execute("SELECT max(rowid) FROM stored_events").fetchone()  # the log position
    assert survived == acknowledged
    container.close()


def test_postgresql_commits_wait_for_the_wal_flush():
    from tests.conftest import POSTGRES

    require_backend("postgres")
    with psycopg.connect(f"{POSTGRES}/postgres") as conn:
        assert conn.execute("SHOW fsync").fetchone()[0] == "on"
        assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"
