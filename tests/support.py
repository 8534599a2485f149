"""Helpers shared by integration and end-to-end tests."""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson
from sqlalchemy import Engine, select

from spanledger.projections.tables import metadata, positions


def wait(condition: Callable[[], object], timeout: float, what: str, poll: float = 0.1) -> None:
    """Until `condition()` is true; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}")


def dump_read_model(engine: Engine) -> dict[str, list[bytes]]:
    """Every read-model row (positions aside), in a comparable form."""
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table is positions:
                continue
            rows = conn.execute(select(table))
            out[table.name] = sorted(orjson.dumps({str(k): v for k, v in r._asdict().items()}, option=orjson.OPT_SORT_KEYS) for r in rows)
    return out


def rebuilt(container) -> dict[str, list[bytes]]:
    container.runner.drop()
    container.runner.catch_up()
    return dump_read_model(container.engine)


def install_model(container, resource_id, project_name: str, label: str, model_file) -> None:
    """Records a model trained on the project, with `model_file` as its file: a real model,
    trained once per test session (see the `tiny_model` fixture), without training again."""
    from datetime import UTC, datetime, timedelta

    from spanledger.ner.model import Tagger
    from spanledger.ner.recipes import onehot_char

    app = container.app
    job, _ = app.request_training(resource_id, project_name, model_label=label, config_version="onehot-char",
                                  evaluation={"kind": "manual"}, recipe=onehot_char().to_dict(), actor="key:test")
    app.claim_training(job.id, "test", datetime.now(UTC), timedelta(minutes=5))
    app.complete_training(
        job.id, 1, artifact=container.artifacts.put_file(model_file), evaluation_artifact=container.artifacts.put_json([]),
        fingerprint="0" * 64, duration_seconds=1.0, recipe=onehot_char().to_dict(), evaluation={"kind": "manual"},
        entity_types=Tagger(model_file).entity_types,
        metrics={"entities": {"Person": {"precision": 1.0, "recall": 0.9, "f1": 0.95}}, "micro": {}, "macro": {},
                 "confusion": {}},
    )
