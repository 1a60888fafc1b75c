"""The SQL stores beside raw SQL on the same tables, on SQLite and PostgreSQL.

- writing users through the store (the set-based write `apply` uses) against a
  raw driver `executemany` of exactly the same rows into the same tables;
- the file size per user (SQLite);
- searching: "contains", by id, the first and the last page, against the best
  raw SQL query for the same answer (the page and its total);
- several processes creating different users at once: throughput, and
  whether every write landed.

Run with `nox -s bench -- --users 100000`; PostgreSQL runs on
`--postgres URL`, or on a throwaway server when PostgreSQL is installed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import best, clock, empty_store, postgres, raw_insert, raw_rows

from provisioning import Actor, Context, CreateUser, queries, run
from provisioning.adapters.sql import PostgresStore, SqliteStore, SqlStore
from provisioning.model import (
    Account,
    ClassOfService,
    Domain,
    DomainName,
    DomainStatus,
    Profile,
    User,
    Username,
)
from provisioning.security import Argon2Hasher
from provisioning.storage import TABLES, Change, TableChanges

WHEN = datetime(2026, 1, 1, tzinfo=UTC)
OPERATOR = Actor.platform("bench")
FIRST = ["Ann", "Bob", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hal", "Ida", "Jon"]
LAST = ["Lee", "Muster", "Rossi", "Novak", "Silva", "Kim", "Weber", "Dubois"]


def _users(count: int, prefix: str = "") -> list[User]:
    return [
        User(
            id=f"{prefix}u-{n:06d}",
            username=Username.parse(f"{prefix}{FIRST[n % 10].lower()}.{n}@acme.example"),
            created_at=WHEN,
            updated_at=WHEN,
            account_id="acme",
            domain_id="d-1",
            profile=Profile(first_name=FIRST[n % 10], last_name=LAST[n % 8]),
        )
        for n in range(count)
    ]


def _tenant(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.accounts.add(Account(id="acme", name="Acme", created_at=WHEN, default_cos_id="c-users"))
        uow.classes_of_service.add(ClassOfService(id="c-users", name="Users", account_id="acme"))
        uow.domains.add(
            Domain(
                id="d-1",
                account_id="acme",
                name=DomainName.parse("acme.example"),
                created_at=WHEN,
                verification_token="t",
                status=DomainStatus.ACTIVE,
            )
        )
        uow.commit()


def _driver(store: SqlStore) -> Any:  # noqa: ANN401 - a driver connection
    return store.engine.raw_connection()


def writes(kind: str, where: str, users: list[User]) -> SqlStore:
    """Users written through the store against a raw executemany; leaves them stored."""
    store = empty_store(kind, where)
    _tenant(store)
    rows = raw_rows(TABLES.users, users, store.engine.dialect)
    marker = "?" if kind == "sqlite" else "%s"
    driver = _driver(store)
    raw, _ = clock(lambda: raw_insert(driver, rows, marker))
    driver.close()
    store.close()
    store = empty_store(kind, where)
    _tenant(store)
    changes = (TableChanges(TABLES.users, tuple(Change(None, u) for u in users)),)

    def through_store() -> None:
        with store.unit_of_work() as uow:
            uow.write(changes)
            uow.commit()

    ours, _ = clock(through_store)
    size = ""
    if kind == "sqlite":
        with store.engine.connect() as sql:
            sql.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        size = f", file {Path(where).stat().st_size / 2**20:.0f} MB"
    print(
        f"{kind}: write {len(users)} users: store {ours:.2f} s, raw executemany {raw:.2f} s"
        f" = {ours / raw:.2f}x{size}"
    )
    return store


def searches(kind: str, store: SqlStore, count: int) -> None:
    """Each query through `queries.users` against the best raw SQL for the same page."""
    ctx = Context(store=store)
    driver = _driver(store)
    marker = "?" if kind == "sqlite" else "%s"
    last_id = f"u-{count - 1:06d}"
    contains_raw = (
        f"SELECT count(*) FROM users WHERE rowid IN (SELECT rowid FROM users_search"
        f" WHERE users_search MATCH {marker})"
        if kind == "sqlite"
        else f"SELECT count(*) FROM users WHERE full_name LIKE {marker}"
    )
    contains_arg = '"muster"' if kind == "sqlite" else "%muster%"
    page = "SELECT * FROM users WHERE account_id = {m} ORDER BY username_key {d}, id {d} LIMIT 50"

    def raw(statement: str, *args: Any) -> Callable[[], Any]:  # noqa: ANN401
        def go() -> Any:  # noqa: ANN401
            cursor = driver.cursor()
            cursor.execute(statement, args)
            found = cursor.fetchall()
            cursor.close()
            return found

        return go

    def count_and(statement: str, *args: Any) -> Callable[[], Any]:  # noqa: ANN401
        counted = raw(f"SELECT count(*) FROM users WHERE account_id = {marker}", "acme")
        listed = raw(statement, *args)
        return lambda: (counted(), listed())

    cases = {
        "contains 'muster'": (
            lambda: queries.users(ctx, OPERATOR, "acme", search="muster", limit=50),
            lambda: (
                raw(contains_raw, contains_arg)(),
                raw(
                    f"SELECT * FROM users WHERE full_name LIKE {marker}"
                    " ORDER BY username_key LIMIT 50",
                    "%muster%",
                )(),
            ),
        ),
        "by id": (
            lambda: queries.users(ctx, OPERATOR, "acme", search=last_id, limit=50),
            raw(f"SELECT * FROM users WHERE id = {marker}", last_id),
        ),
        "first page": (
            lambda: queries.users(ctx, OPERATOR, "acme", limit=50),
            count_and(page.format(m=marker, d="ASC"), "acme"),
        ),
        "last page": (
            lambda: queries.users(ctx, OPERATOR, "acme", limit=50, descending=True),
            count_and(page.format(m=marker, d="DESC"), "acme"),
        ),
        "last page by offset": (
            lambda: queries.users(ctx, OPERATOR, "acme", limit=50, offset=count - 50),
            count_and(page.format(m=marker, d="DESC"), "acme"),
        ),
    }
    for label, (ours, theirs) in cases.items():
        mine, raw_time = best(ours), best(theirs)
        print(
            f"{kind}: {label:<20} store {mine * 1000:8.2f} ms, raw SQL {raw_time * 1000:8.2f} ms"
            f" = {mine / raw_time:5.2f}x"
        )
    driver.close()


def _create(kind: str, where: str, prefix: str, count: int, go: Any, done: Any) -> None:  # noqa: ANN401
    store = SqliteStore(where) if kind == "sqlite" else PostgresStore(where)
    ctx = Context(store=store, hasher=Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1))
    run(ctx, OPERATOR, CreateUser(account_id="acme", username=f"{prefix}warm@acme.example"))
    done.put(("ready", 0))
    go.wait()
    landed = 0
    for n in range(count):
        run(ctx, OPERATOR, CreateUser(account_id="acme", username=f"{prefix}{n}@acme.example"))
        landed += 1
    done.put(("landed", landed))


def processes(kind: str, where: str, workers: int, each: int) -> None:
    """`workers` processes creating `each` users apiece, at once."""
    store = empty_store(kind, where)
    _tenant(store)
    spawn = multiprocessing.get_context("spawn")
    done, go = spawn.Queue(), spawn.Event()
    jobs = [
        spawn.Process(target=_create, args=(kind, where, f"p{p}-", each, go, done))
        for p in range(workers)
    ]
    for job in jobs:
        job.start()
    for _ in jobs:  # every process is up and has written once
        done.get(timeout=600)
    start = time.perf_counter()
    go.set()
    landed = sum(done.get(timeout=600)[1] for _ in jobs)
    elapsed = time.perf_counter() - start
    for job in jobs:
        job.join()
    with store.snapshot() as uow:
        stored = uow.users.count() - workers  # less the warm-up users
    print(
        f"{kind}: {workers} processes x {each} CreateUser: {landed / elapsed:.0f} users/s,"
        f" {stored} of {workers * each} stored"
    )
    store.close()


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--each", type=int, default=50)
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    users = _users(args.users)
    with postgres(args.postgres) as url, tempfile.TemporaryDirectory() as folder:
        places = [("sqlite", str(Path(folder) / "bench.db"))]
        if url is not None:
            places.append(("postgres", url))
        for kind, where in places:
            store = writes(kind, where, users)
            searches(kind, store, args.users)
            store.close()
            for workers in (4, 16):
                processes(kind, where, workers, args.each)


if __name__ == "__main__":
    main()
