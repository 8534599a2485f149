"""Bulk inserts at the driver level.

SQLAlchemy's executemany builds and processes parameters row by row, which on the
projection's hot path costs more than the database's own work. SQLite gets the driver's
executemany of positional rows with a statement built once per table; PostgreSQL gets COPY,
several times faster there than any INSERT.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table


@cache
def _column_list(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


@cache
def _insert_sql(table_name: str, columns: tuple[str, ...]) -> str:
    values = ", ".join("?" for _ in columns)
    return f'INSERT INTO "{table_name}" ({_column_list(columns)}) VALUES ({values})'


def insert_rows(conn: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """Inserts rows given as tuples in the order of `columns`."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()
        with cursor, cursor.copy(f'COPY "{table.name}" ({_column_list(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    else:
        conn.connection.dbapi_connection.executemany(_insert_sql(table.name, columns), rows)
