"""Helpers shared by integration tests."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine, select

from projections.tables import metadata, positions


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
