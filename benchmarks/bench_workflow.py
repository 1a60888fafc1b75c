"""The road at scale: plan and apply of many `CreateUser`, beside the floor under them.

The floor is what no implementation can avoid: validating the same addresses
with email-validator, plus a raw `executemany` of exactly the rows the SQLite
store writes (users, audit events and their look-up keys) into the same
tables of a fresh file. Every figure is printed beside it as a ratio, so runs
on different machines compare. Run with `nox -s bench -- --users 100000`.

Also measured: 1,000 users with passwords and the default argon2id hasher
against hashing 1,000 passwords one after another, a second process's
queries while an apply runs, and the peak memory of the whole run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import active_account, administrator, clock, raw_insert, raw_rows
from email_validator import validate_email

from provisioning import (
    Actor,
    Context,
    CreateUser,
    apply,
    plan,
    queries,
)
from provisioning.adapters.memory import MemoryDns, MemoryStore
from provisioning.adapters.sql import SqliteStore
from provisioning.commands import Command
from provisioning.engine import collecting_less
from provisioning.ports import Store
from provisioning.security import Argon2Hasher
from provisioning.storage import TABLES

OPERATOR = Actor.platform("bench")
FAST = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)


def _tenant(store: Store, *, hasher: Argon2Hasher = FAST) -> tuple[Context, Actor]:
    dns = MemoryDns()
    ctx = Context(store=store, dns=dns, hasher=hasher)
    active_account(ctx, dns, "acme", "acme.example")
    return ctx, administrator(ctx, "acme", "acme.example")


def _commands(count: int) -> list[Command[Any]]:
    return [
        CreateUser(
            account_id="acme",
            username=f"user{n:06d}@acme.example",
            first_name="Ann",
            last_name=f"Lee{n}",
        )
        for n in range(count)
    ]


def floor(count: int, folder: Path) -> float:
    """Validating the addresses plus a raw executemany of the rows the store writes."""
    addresses = [f"user{n:06d}@acme.example" for n in range(count)]
    validating, _ = clock(
        lambda: [
            validate_email(a, check_deliverability=False, allow_smtputf8=True) for a in addresses
        ]
    )
    path = folder / "floor.db"
    store = SqliteStore(path)
    ctx, actor = _tenant(store)  # the parents the rows refer to
    planned = plan(ctx, actor, _commands(count))
    changes = {c.table.name: [row.new for row in c.rows] for c in planned._work.changes}  # noqa: SLF001
    with store.snapshot() as uow:
        first_seq = uow.audit.count() + 1
    prepared = {}
    for table in (TABLES.users, TABLES.audit):
        rows = raw_rows(table, changes[table.name], store.engine.dialect, first_seq=first_seq)
        prepared.update(rows)
    store.close()
    sql = sqlite3.connect(path)
    sql.execute("PRAGMA foreign_keys = ON")
    writing, _ = clock(lambda: raw_insert(sql, prepared, "?"))
    sql.close()
    return validating + writing


def road(label: str, store: Store, count: int, *, as_admin: bool, base: float) -> None:
    ctx, admin = _tenant(store)
    actor = admin if as_admin else OPERATOR
    commands = _commands(count)
    planning, planned = clock(lambda: plan(ctx, actor, commands))
    planned.raise_for_issues()
    applying, outcome = clock(lambda: apply(ctx, planned))
    if outcome.revalidated:
        print("  (the plan was validated again: the figures include a second check)")
    total = planning + applying
    print(
        f"{label:<34} plan {planning:6.2f} s  apply {applying:6.2f} s  total {total:6.2f} s"
        f"  = {total / base:4.2f}x floor ({planning / base:4.2f} + {applying / base:4.2f})"
    )


def _peak_rss_mb() -> float:
    """This process's own high-water mark (ru_maxrss would include the parent's, on Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _apply_alone(path: str, count: int, report: Any) -> None:  # noqa: ANN401 - a queue
    ctx, admin = _tenant(SqliteStore(path))
    apply(ctx, plan(ctx, admin, _commands(count)))
    report.put(_peak_rss_mb())


def peak_memory(count: int, folder: Path) -> None:
    """The peak RSS of a process that plans and applies `count` users into SQLite, alone."""
    spawn = multiprocessing.get_context("spawn")
    report: multiprocessing.Queue[float] = spawn.Queue()
    job = spawn.Process(target=_apply_alone, args=(str(folder / "alone.db"), count, report))
    job.start()
    peak = report.get(timeout=1800)
    job.join()
    print(f"peak RSS of a process planning and applying {count} users into SQLite: {peak:.0f} MB")


def hashing(count: int) -> None:
    hasher = Argon2Hasher()
    passwords = [f"correct horse {n} battery staple" for n in range(count)]
    serial, _ = clock(lambda: [hasher.hash(p) for p in passwords])
    ctx, admin = _tenant(MemoryStore(), hasher=hasher)
    commands = [
        CreateUser(
            account_id="acme",
            username=f"user{n:06d}@acme.example",
            password=p,
            password_repeat=p,
        )
        for n, p in enumerate(passwords)
    ]
    total, _ = clock(lambda: apply(ctx, plan(ctx, admin, commands)))
    print(
        f"{count} users with passwords (argon2id defaults): {total:6.2f} s;"
        f" hashing them one by one {serial:6.2f} s = {total / serial:4.2f}x"
    )


def _reader(path: str, stop: Any, report: Any) -> None:  # noqa: ANN401 - multiprocessing objects
    ctx = Context(store=SqliteStore(path))
    slowest, count, refused = 0.0, 0, 0
    while not stop.is_set():
        start = time.perf_counter()
        try:
            queries.users(ctx, OPERATOR, "acme", limit=20)
        except Exception:  # noqa: BLE001 - counted, that is the measurement
            refused += 1
        slowest = max(slowest, time.perf_counter() - start)
        count += 1
    report.put((count, refused, slowest))


def concurrent_reader(count: int, folder: Path) -> None:
    path = str(folder / "shared.db")
    ctx, admin = _tenant(SqliteStore(path))
    planned = plan(ctx, admin, _commands(count))
    stop = multiprocessing.Event()
    report: multiprocessing.Queue[tuple[int, int, float]] = multiprocessing.Queue()
    reader = multiprocessing.Process(target=_reader, args=(path, stop, report))
    reader.start()
    time.sleep(0.5)
    applying, _ = clock(lambda: apply(ctx, planned))
    stop.set()
    queries_run, refused, slowest = report.get(timeout=60)
    reader.join()
    print(
        f"reader during a {count}-command apply ({applying:.2f} s): {queries_run} queries,"
        f" {refused} refused, slowest {slowest * 1000:.1f} ms"
    )


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--hashed", type=int, default=200)
    args = parser.parse_args()
    # As the command line does (and an application may): large batches collect less often.
    with collecting_less(), tempfile.TemporaryDirectory() as folder:
        base = floor(args.users, Path(folder))
        print(f"floor for {args.users} users: {base:.2f} s (email-validator + raw executemany)")
        for as_admin in (False, True):
            who = "admin" if as_admin else "operator"
            road(
                f"sqlite, as {who}",
                SqliteStore(Path(folder) / f"{who}.db"),
                args.users,
                as_admin=as_admin,
                base=base,
            )
            road(f"memory, as {who}", MemoryStore(), args.users, as_admin=as_admin, base=base)
        concurrent_reader(args.users, Path(folder))
        peak_memory(args.users, Path(folder))
    hashing(args.hashed)


if __name__ == "__main__":
    main()
