"""Proves the read model right: replays the log into an empty scratch read model, up to the
position the live one stands at, and compares them row by row.

The live read model is read in one snapshot (its positions with its rows), so a server
applying events meanwhile does not make differences that are not there. Rows are matched by
their table's primary key, a table at a time (memory: the largest table, twice): a row only
one side has, or one whose values differ, is reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, select

from spanledger.projections.runner import ProjectionRunner
from spanledger.projections.tables import positions

EXAMPLES = 5  # differing rows reported per table


@dataclass
class TableDifference:
    table: str
    key: list[str]  # the columns that identify a row
    missing: list[dict[str, Any]] = field(default_factory=list)  # replayed, not in the live model
    unexpected: list[dict[str, Any]] = field(default_factory=list)  # live, not in the replay
    changed: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # (live, replayed)
    count: int = 0  # rows that differ, all of them (the lists hold the first EXAMPLES)

    def lines(self) -> Iterator[str]:
        yield f"{self.table}: {self.count} row(s) differ"
        for row in self.missing:
            yield f"  missing (the log has it): {row}"
        for row in self.unexpected:
            yield f"  not in the log: {row}"
        for live, replayed in self.changed:
            fields = {k: (live[k], replayed[k]) for k in live if live[k] != replayed[k]}
            yield f"  differs at {dict((k, live[k]) for k in self.key)}: " + ", ".join(
                f"{k} {a!r} (live) vs {b!r} (replayed)" for k, (a, b) in fields.items())


@dataclass
class Report:
    position: int  # the log position both read models stand at
    rows: int  # live rows compared
    differences: list[TableDifference]

    @property
    def ok(self) -> bool:
        return not self.differences


def verify(runner: ProjectionRunner, scratch: Engine) -> Report:
    """Compares the live read model of `runner` with a replay of its log into `scratch` (an
    empty database on the same backend, so that values compare alike), a table at a time."""
    differences, rows = [], 0
    with _snapshot(runner.engine) as live:  # one state of the live model, held while replaying
        at = {row.name: row.position for row in live.execute(select(positions))}
        for position in sorted(set(at.values())):
            group = [p for p in runner.projections if at[p.name] == position]
            replay = ProjectionRunner(runner.recorder, scratch, [type(p)() for p in group], runner.batch_size)
            replay.create_tables()
            replay.until = position
            replay.catch_up()
            with scratch.connect() as replayed:
                for table in (table for projection in group for table in projection.tables):
                    live_rows = _rows(live, table)
                    rows += len(live_rows)
                    difference = _compare(table, live_rows, _rows(replayed, table))
                    if difference.count:
                        differences.append(difference)
    return Report(min(at.values(), default=0), rows, differences)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection reading one state across statements: SQLite's read transaction gives it
    by itself; PostgreSQL needs REPEATABLE READ."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        yield conn


def _key(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns] or [column.name for column in table.columns]


def _rows(conn: Connection, table: Table) -> dict[tuple[Any, ...], dict[str, Any]]:
    key = _key(table)
    rows = {}
    for row in conn.execute(select(table)):
        values = row._asdict()
        rows[tuple(values[k] for k in key)] = values
    return rows


def _compare(table: Table, live: dict[tuple, dict], replayed: dict[tuple, dict]) -> TableDifference:
    difference = TableDifference(table.name, _key(table))
    for key in replayed.keys() - live.keys():
        difference.count += 1
        if len(difference.missing) < EXAMPLES:
            difference.missing.append(replayed[key])
    for key, row in live.items():
        other = replayed.get(key)
        if other is None:
            difference.count += 1
            if len(difference.unexpected) < EXAMPLES:
                difference.unexpected.append(row)
        elif other != row:
            difference.count += 1
            if len(difference.changed) < EXAMPLES:
                difference.changed.append((row, other))
    return difference

