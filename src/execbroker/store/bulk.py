"""Multi-row inserts straight to the driver, for the booking transaction's hot path.

SQLAlchemy's ``execute(insert(table), rows)`` compiles the statement's parameters and runs every
type's bind processor for every row; for the dozens of rows a booking writes, that cost more than the
database's own work. Here the statement text is built once per dialect and the rows go to the
driver's ``executemany`` as plain tuples; JSON columns arrive already serialised (orjson).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Table


class BulkInsert:
    """``INSERT INTO table (columns) VALUES (...)`` for many rows at once."""

    def __init__(self, table: Table, columns: Sequence[str], *, json_columns: Sequence[str] = ()) -> None:
        unknown = [c for c in columns if c not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column(s) {unknown}")
        self.table = table
        self.columns = tuple(columns)
        self.json_positions = tuple(self.columns.index(c) for c in json_columns)
        self._sql: dict[str, str] = {}

    def sql(self, conn: Connection) -> str:
        dialect = conn.dialect
        key = f"{dialect.name}:{dialect.paramstyle}"
        text = self._sql.get(key)
        if text is None:
            marker = "?" if dialect.paramstyle == "qmark" else "%s"
            if dialect.paramstyle not in ("qmark", "format", "pyformat"):
                raise ValueError(f"unsupported parameter style {dialect.paramstyle}")
            values = []
            for index in range(len(self.columns)):
                if index in self.json_positions and dialect.name == "postgresql":
                    values.append(f"CAST({marker} AS JSONB)")
                else:
                    values.append(marker)
            names = ", ".join(dialect.identifier_preparer.quote(c) for c in self.columns)
            text = f"INSERT INTO {self.table.name} ({names}) VALUES ({', '.join(values)})"
            self._sql[key] = text
        return text

    def execute(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` (tuples in column order; JSON columns as Python values)."""
        if not rows:
            return
        if self.json_positions:
            rows = [self._serialise(row) for row in rows]
        conn.exec_driver_sql(self.sql(conn), list(map(tuple, rows)))

    def _serialise(self, row: Sequence[Any]) -> tuple[Any, ...]:
        out = list(row)
        for index in self.json_positions:
            out[index] = orjson.dumps(out[index]).decode()
        return tuple(out)
