"""Processes starting together on one empty PostgreSQL database (several servers and workers
after a deployment): each creates the tables it needs, and none fails on another's (without
bootstrap's startup lock, CREATE TABLE IF NOT EXISTS raced: pg_type_typname_nsp_index)."""

from __future__ import annotations

import threading

import pytest

from spanledger.bootstrap import build
from tests.conftest import make_settings, require_backend


@pytest.fixture
def settings(tmp_path):
    require_backend("postgres")
    yield from make_settings("postgres", tmp_path / "0")


def test_four_containers_built_at_once_on_an_empty_database(settings, tmp_path):
    built, errors = [], []

    def start(n: int) -> None:
        try:
            built.append(build(settings.model_copy(update={"data_dir": tmp_path / str(n)})))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=start, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        assert [c.runner.positions() for c in built] == [{p: 0 for p in built[0].runner.positions()}] * 4
    finally:
        for c in built:
            c.close()
