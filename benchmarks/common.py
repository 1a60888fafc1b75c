"""What the benchmarks share: the raw rows a store writes, a raw executemany of them, timing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from provisioning.adapters._tables import TABLES, Table
from provisioning.adapters.sql.rows import mapping
from provisioning.adapters.sql.schema import ADDRESSES, sql_table
from provisioning.adapters.sql.store import address_rows


def clock(work: Callable[[], Any]) -> tuple[float, Any]:
    """How long `work()` took, in seconds, and what it returned."""
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def best(work: Callable[[], Any], repeat: int = 5) -> float:
    """The fastest of `repeat` runs of `work()`, in seconds."""
    return min(clock(work)[0] for _ in range(repeat))


def raw_rows(
    table: Table[Any], entities: Sequence[Any], dialect: sa.Dialect, *, first_seq: int = 1
) -> dict[sa.Table, list[tuple[Any, ...]]]:
    """The exact values the store writes for `entities`, per SQL table, ready for the driver."""
    target = sql_table(table)
    rows = [mapping(table).to_row(entity) for entity in entities]
    if table is TABLES.audit:
        for seq, row in enumerate(rows, start=first_seq):
            row["seq"] = seq
    found = {target: _driver_values(target, rows, dialect)}
    addresses = address_rows(table, entities)
    if addresses:
        found[ADDRESSES] = _driver_values(ADDRESSES, addresses, dialect)
    return found


def _driver_values(
    table: sa.Table, rows: list[dict[str, Any]], dialect: sa.Dialect
) -> list[tuple[Any, ...]]:
    processors = [
        (column.name, column.type.dialect_impl(dialect).bind_processor(dialect))
        for column in table.columns
    ]
    return [
        tuple(
            row.get(name) if process is None else process(row.get(name))
            for name, process in processors
        )
        for row in rows
    ]


def raw_insert(dbapi: Any, rows: dict[sa.Table, list[tuple[Any, ...]]], marker: str) -> None:  # noqa: ANN401 - a driver connection
    """`executemany` of the rows into their tables on a plain driver connection, one transaction."""
    cursor = dbapi.cursor()
    if marker == "?":  # SQLite's driver is in autocommit mode here: one transaction, as the store
        cursor.execute("BEGIN")
    for table, values in rows.items():
        names = ", ".join(f'"{column.name}"' for column in table.columns)
        marks = ", ".join([marker] * len(table.columns))
        cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", values)
    dbapi.commit()
