"""Throughput of the stores and the workflow; run with `nox -s bench`.

Prints one line per measurement. Numbers depend on the machine; compare runs
on the same one.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from provisioning import Actor, Context, CreateClassOfService, apply, plan
from provisioning.adapters.memory import MemoryStore
from provisioning.adapters.sqlite import SqliteStore
from provisioning.model import User, Username
from provisioning.ports import Store

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def _users(count: int) -> list[User]:
    return [
        User(
            id=f"u-{n}",
            account_id="a-1",
            domain_id="d-1",
            username=Username.parse(f"user{n}@acme.example"),
            created_at=WHEN,
            updated_at=WHEN,
        )
        for n in range(count)
    ]


def _timed(label: str, count: int, work: Callable[[], object], repeat: int = 3) -> None:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    best = min(times)
    print(
        f"{label:<48} {count:>7} items  best {best * 1000:9.1f} ms"
        f"  median {statistics.median(times) * 1000:9.1f} ms  {count / best:>10.0f}/s"
    )


def bench_store(name: str, make: Callable[[], Store], users: list[User]) -> None:
    def insert() -> Store:
        store = make()
        with store.unit_of_work() as uow:
            for user in users:
                uow.users.add(user)
            uow.commit()
        return store

    _timed(f"{name}: add users in one unit of work", len(users), insert)
    store = insert()
    keys = [user.username.key for user in users]

    def batched() -> None:
        with store.unit_of_work() as uow:
            uow.users.holders(keys)

    def one_by_one() -> None:
        with store.unit_of_work() as uow:
            for key in keys:
                uow.users.by_address(key)

    def fetch_many() -> None:
        with store.unit_of_work() as uow:
            uow.users.get_many(user.id for user in users)

    _timed(f"{name}: address look-up, batched", len(keys), batched)
    _timed(f"{name}: address look-up, one by one", len(keys), one_by_one)
    _timed(f"{name}: get_many", len(users), fetch_many)


def bench_workflow(name: str, make: Callable[[], Context], count: int) -> None:
    commands = [
        CreateClassOfService(name=f"cos-{n}", description="bench", quota_mb=n) for n in range(count)
    ]

    def plan_and_apply() -> None:
        ctx = make()
        apply(ctx, plan(ctx, Actor.platform(), commands))

    _timed(f"{name}: plan + apply classes of service", count, plan_and_apply)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--commands", type=int, default=2_000)
    args = parser.parse_args()
    users = _users(args.users)
    with tempfile.TemporaryDirectory() as folder:
        files = iter(range(1_000_000))

        def sqlite_file() -> SqliteStore:
            return SqliteStore(Path(folder) / f"bench-{next(files)}.db")

        bench_store("memory", MemoryStore, users)
        bench_store("sqlite", sqlite_file, users)
        bench_workflow("memory", Context.in_memory, args.commands)
        bench_workflow("sqlite", lambda: Context(store=sqlite_file()), args.commands)


if __name__ == "__main__":
    main()
