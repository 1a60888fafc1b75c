"""What the benchmarks share: the raw rows a store writes, a raw executemany of them, timing."""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from provisioning import (
    ActivateDomain,
    Actor,
    AddDomain,
    Context,
    CreateAccount,
    CreateAdmin,
    VerifyDomain,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.adapters.sql import PostgresStore, SqliteStore
from provisioning.adapters.sql._store import SqlStore, address_rows
from provisioning.adapters.sql.rows import mapping
from provisioning.adapters.sql.schema import ADDRESSES, METADATA, sql_table
from provisioning.storage import TABLES, Table


def active_account(
    ctx: Context, dns: MemoryDns, account_id: str, domain: str, *, captcha_on_login: bool = False
) -> None:
    """The account `account_id` with its domain `domain` verified (through `dns`) and active."""
    operator = Actor.platform()
    run(ctx, operator, CreateAccount(name=account_id.title(), account_id=account_id))
    added = run(
        ctx,
        operator,
        AddDomain(
            account_id=account_id,
            name=domain,
            admin_email="it@else.example",
            captcha_on_login=captcha_on_login,
        ),
    )
    dns.publish(domain, added.verification_token)
    run(ctx, operator, VerifyDomain(domain_id=added.id))
    run(ctx, operator, ActivateDomain(domain_id=added.id))


def administrator(ctx: Context, account_id: str, domain: str) -> Actor:
    """A new administrator of the account, `admin@domain`, to act as."""
    admin = run(
        ctx,
        Actor.platform(),
        CreateAdmin(
            account_id=account_id,
            address=f"admin@{domain}",
            primary_email="admin@else.example",
            role_ids=frozenset({"system:administrator"}),
        ),
    )
    return Actor.user(admin.id)


def clock(work: Callable[[], Any]) -> tuple[float, Any]:
    """How long `work()` took, in seconds, and what it returned."""
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def interleaved(
    rounds: int,
    one: Callable[[int], object],
    other: Callable[[int], object],
    *,
    before: Callable[[], object] | None = None,
) -> tuple[float, float]:
    """The median seconds of `one(round)` and `other(round)`, in turns, which first alternating.

    `before`, if given, runs untimed before each of them (putting back what
    the last one changed).
    """
    timed: tuple[list[float], list[float]] = ([], [])
    for round_ in range(rounds):
        order = [(timed[0], one), (timed[1], other)]
        for times, work in order if round_ % 2 else order[::-1]:
            if before is not None:
                before()
            start = time.perf_counter()
            work(round_)
            times.append(time.perf_counter() - start)
    return statistics.median(timed[0]), statistics.median(timed[1])


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


def raw_insert(
    dbapi: Any,  # noqa: ANN401 - a driver connection
    rows: dict[sa.Table, list[tuple[Any, ...]]],
    marker: str,
    *,
    begin: str = "BEGIN",
) -> None:
    """`executemany` of the rows into their tables on a plain driver connection, one transaction.

    On SQLite (`marker` "?", the driver in autocommit mode) the transaction
    opens with `begin`: `BEGIN IMMEDIATE` where other processes write too.
    """
    cursor = dbapi.cursor()
    if marker == "?":
        cursor.execute(begin)
    for table, values in rows.items():
        names = ", ".join(f'"{column.name}"' for column in table.columns)
        marks = ", ".join([marker] * len(table.columns))
        cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", values)
    dbapi.commit()


@contextlib.contextmanager
def postgres(url: str | None) -> Iterator[str | None]:
    """`url`, or a database on a throwaway server when PostgreSQL is installed (else None)."""
    if url is not None:
        yield url
        return
    sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
    import pg_server  # noqa: PLC0415 - the test-suite's throwaway server

    server = pg_server.start()
    if server is None:
        yield None
        return
    try:
        driver = sa.engine.make_url(server.url).set(drivername="postgresql+psycopg")
        admin = sa.create_engine(driver)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as sql:
            sql.exec_driver_sql("CREATE DATABASE bench")
        admin.dispose()
        yield (
            sa.engine.make_url(server.url)
            .set(database="bench")
            .render_as_string(hide_password=False)
        )
    finally:
        server.stop()


def empty_store(kind: str, where: str) -> SqlStore:
    """A store with no rows: a new SQLite file, or every PostgreSQL table truncated."""
    if kind == "sqlite":
        Path(where).unlink(missing_ok=True)
        return SqliteStore(where)
    store = PostgresStore(where)
    with store.engine.begin() as sql:
        names = ", ".join(t.name for t in METADATA.sorted_tables if t.name != "provisioning_meta")
        sql.exec_driver_sql(f"TRUNCATE {names}")
    return store


Keys = dict[str, set[tuple[Any, ...]]]
"""Per table, the primary keys of its rows."""


def stored_keys(store: SqlStore) -> Keys:
    """The primary keys of every row of the store, per table."""
    with store.engine.connect() as sql:
        return {
            table.name: {
                tuple(row) for row in sql.execute(sa.select(*table.primary_key.columns)).fetchall()
            }
            for table in METADATA.sorted_tables
        }


def raw_rewrite(store: SqlStore, before: Keys, *, postgres: bool) -> float:
    """The rows added since `before`, taken out and put back by a bare executemany: seconds.

    What it costs the database to take exactly the rows a batch wrote, in one
    transaction, with the schema's indexes, references and triggers: the
    floor under any write of that batch.
    """
    deletes: list[tuple[str, list[tuple[Any, ...]]]] = []
    taken: list[tuple[str, list[str], list[tuple[Any, ...]]]] = []
    driver = store.engine.raw_connection()
    cursor = driver.cursor()
    marker = "%s" if postgres else "?"
    for table in METADATA.sorted_tables:
        cursor.execute(f'SELECT * FROM "{table.name}"')
        names = [column[0] for column in cursor.description]
        keys = [names.index(column.name) for column in table.primary_key.columns]
        old = before[table.name]
        rows = [
            _driver_ready(row, postgres=postgres)
            for row in cursor.fetchall()
            if tuple(row[k] for k in keys) not in old
        ]
        if rows:
            taken.append((table.name, names, rows))
            where = " AND ".join(f'"{names[k]}" = {marker}' for k in keys)
            deletes.append(
                (
                    f'DELETE FROM "{table.name}" WHERE {where}',
                    [tuple(row[k] for k in keys) for row in rows],
                )
            )
    for statement, keys_of in reversed(deletes):  # the children first, so that the parents may go
        cursor.executemany(statement, keys_of)
    driver.commit()
    start = time.perf_counter()
    if not postgres:
        cursor.execute("BEGIN")
    for name, names, rows in taken:
        columns = ", ".join(f'"{column}"' for column in names)
        marks = ", ".join([marker] * len(names))
        cursor.executemany(f'INSERT INTO "{name}" ({columns}) VALUES ({marks})', rows)
    driver.commit()
    took = time.perf_counter() - start
    driver.close()
    return took


def _driver_ready(row: Any, *, postgres: bool) -> tuple[Any, ...]:  # noqa: ANN401 - a driver row
    if not postgres:
        return tuple(row)
    from psycopg.types.json import Jsonb  # noqa: PLC0415 - PostgreSQL's driver, when used

    return tuple(Jsonb(value) if isinstance(value, dict | list) else value for value in row)
