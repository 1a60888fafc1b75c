"""A fleet of workers on one database: N processes, each creating users in a tenant of its own.

Each library worker is a long-lived process with its own store object that
calls `plan` and `apply` (what `run` does) for one `CreateUser` at a time,
without a password, for a fixed time. Beside them, as the floor, raw workers
write exactly the rows the store writes for a user (the user, its addresses
and its audit event), one transaction per user, with the bare driver. Both
run with the same number of processes, one after the other, on SQLite and
(when PostgreSQL is installed, or `--postgres URL` is given) PostgreSQL.

Reported per N: users/s of each, their ratio, the p50 and p99 of one user,
and the share of the library's applies that checked their plan again (with
tenants disjoint, none should). `nox -s bench` runs it with its defaults;
`python benchmarks/bench_fleet.py --seconds 30 --rounds 3` measures longer.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa
from common import active_account, administrator, postgres, raw_insert, raw_rows

from provisioning import (
    Actor,
    Context,
    CreateUser,
    apply,
    plan,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.adapters.sql import PostgresStore, SqliteStore
from provisioning.model import AuditEvent, User, Username
from provisioning.security import Argon2Hasher
from provisioning.storage import TABLES

OPERATOR = Actor.platform("bench")
FAST = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)
SIZES = (1, 2, 4, 8)


@attrs.frozen
class Tenant:
    """One worker's tenant: its account, its domain and an administrator to act as."""

    account_id: str
    domain: str
    admin_id: str


@attrs.frozen
class Report:
    """What one worker did: how many users, each one's seconds, how many applies re-checked."""

    users: int
    seconds: list[float]
    rechecked: int


def _open(where: str) -> SqliteStore | PostgresStore:
    logging.getLogger("provisioning").setLevel(logging.ERROR)  # the unsealed store's warning
    if where.startswith("postgresql"):
        return PostgresStore(where, pool_size=1)
    return SqliteStore(where)


def tenants(where: str, count: int) -> list[Tenant]:
    """`count` tenants, each with an active domain and an administrator."""
    dns = MemoryDns()
    store = _open(where)
    ctx = Context(store=store, dns=dns, hasher=FAST)
    made = []
    for n in range(count):
        account_id, name = f"fleet{n}", f"fleet{n}.example"
        active_account(ctx, dns, account_id, name)
        made.append(Tenant(account_id, name, administrator(ctx, account_id, name).id))
    store.close()
    return made


def _command(tenant: Tenant, label: str) -> CreateUser:
    return CreateUser(
        account_id=tenant.account_id,
        username=f"{label}@{tenant.domain}",
        first_name="Ann",
        last_name="Lee",
    )


def library(where: str, tenant: Tenant, tag: str, seconds: float, start: Any, out: Any) -> None:  # noqa: ANN401 - multiprocessing objects
    """Create users through `plan` and `apply` until `seconds` have passed."""
    store = _open(where)
    ctx = Context(store=store, dns=MemoryDns(), hasher=FAST)
    actor = Actor.user(tenant.admin_id)
    times: list[float] = []
    rechecked = 0
    start.wait()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        begun = time.perf_counter()
        outcome = apply(ctx, plan(ctx, actor, [_command(tenant, f"{tag}{len(times)}")]))
        times.append(time.perf_counter() - begun)
        rechecked += outcome.revalidated
    store.close()
    out.put(Report(len(times), times, rechecked))


def raw(where: str, tenant: Tenant, tag: str, seconds: float, start: Any, out: Any) -> None:  # noqa: ANN401 - multiprocessing objects
    """Write the rows of one user per transaction, with the bare driver, until time is up."""
    store = _open(where)
    ctx = Context(store=store, dns=MemoryDns(), hasher=FAST)
    planned = plan(ctx, Actor.user(tenant.admin_id), [_command(tenant, f"{tag}model")])
    model = {type(c.new): c.new for table in planned._work.changes for c in table.rows}  # noqa: SLF001
    user, event = model[User], model[AuditEvent]
    assert isinstance(user, User)  # noqa: S101 - the model's rows
    assert isinstance(event, AuditEvent)  # noqa: S101
    dialect = store.engine.dialect
    postgresql = where.startswith("postgresql")
    store.close()
    if postgresql:
        import psycopg  # noqa: PLC0415 - the PostgreSQL driver, when it is the one measured

        url = sa.engine.make_url(where).set(drivername="postgresql")
        connection: Any = psycopg.connect(url.render_as_string(hide_password=False))
    else:
        connection = sqlite3.connect(where, isolation_level=None, timeout=30)
    first_seq = 10**12 + hash(tag) % 10**9 * 1000
    times: list[float] = []
    start.wait()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        begun = time.perf_counter()
        made = attrs.evolve(
            user,
            id=str(uuid.uuid4()),
            username=Username.parse(f"{tag}{len(times)}@{tenant.domain}"),
        )
        noted = attrs.evolve(event, id=str(uuid.uuid4()), entity_id=made.id)
        rows = raw_rows(TABLES.users, [made], dialect)
        rows.update(raw_rows(TABLES.audit, [noted], dialect, first_seq=first_seq + len(times)))
        raw_insert(connection, rows, "%s" if postgresql else "?", begin="BEGIN IMMEDIATE")
        times.append(time.perf_counter() - begun)
    connection.close()
    out.put(Report(len(times), times, 0))


Worker = Callable[[str, Tenant, str, float, Any, Any], None]


def fleet(worker: Worker, where: str, crew: Sequence[Tenant], tag: str, seconds: float) -> Report:
    """Run `worker` in one process per tenant at once; what they did, together."""
    spawn = multiprocessing.get_context("spawn")
    start, out = spawn.Event(), spawn.Queue()
    processes = [
        spawn.Process(target=worker, args=(where, tenant, f"{tag}w{n}n", seconds, start, out))
        for n, tenant in enumerate(crew)
    ]
    for process in processes:
        process.start()
    time.sleep(2.0)  # every process has imported and opened its store
    start.set()
    reports = [out.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join()
    return Report(
        sum(r.users for r in reports),
        [t for r in reports for t in r.seconds],
        sum(r.rechecked for r in reports),
    )


def _quantile(times: list[float], q: float) -> float:
    if len(times) < 2:
        return times[0] if times else 0.0
    return statistics.quantiles(times, n=100)[int(q * 100) - 1]


def measure(label: str, where: str, seconds: float, rounds: int) -> None:
    """Library and raw fleets of each size, `rounds` times, interleaved; the median ratio."""
    crew = tenants(where, max(SIZES))
    print(f"\n{label}: {seconds:.0f} s per fleet, {rounds} round(s)")
    print("  N   library/s  raw/s   ratio   lib p50/p99 ms   raw p50/p99 ms  re-checked")
    for size in SIZES:
        ratios, mine, floor = [], [], []
        for n in range(rounds):
            tag = f"r{n}s{size}"
            ours = fleet(library, where, crew[:size], f"lib{tag}", seconds)
            bare = fleet(raw, where, crew[:size], f"raw{tag}", seconds)
            ratios.append(ours.users / max(bare.users, 1))
            mine.append(ours)
            floor.append(bare)
        ours, bare = mine[-1], floor[-1]
        print(
            f"  {size}  {ours.users / seconds:9.0f}  {bare.users / seconds:6.0f}"
            f"  {statistics.median(ratios):6.2f}   {_spread(ours)}    {_spread(bare)}"
            f"   {sum(r.rechecked for r in mine) / max(sum(r.users for r in mine), 1):6.1%}",
            flush=True,
        )


def _spread(report: Report) -> str:
    """The p50 and p99 of one user, in milliseconds."""
    return (
        f"{_quantile(report.seconds, 0.5) * 1e3:6.1f}/{_quantile(report.seconds, 0.99) * 1e3:6.1f}"
    )


def main() -> None:
    """Measure on SQLite, then on PostgreSQL where there is one."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--only", choices=("sqlite", "postgres"), default=None)
    options, _ = parser.parse_known_args()  # the other benchmarks' options are theirs
    with tempfile.TemporaryDirectory() as folder:
        if options.only != "postgres":
            where = str(Path(folder) / "fleet.db")
            measure("SQLite", where, options.seconds, options.rounds)
        if options.only != "sqlite":
            with postgres(options.postgres) as url:
                if url is None:
                    print("\nPostgreSQL: not installed, skipped")
                else:
                    measure("PostgreSQL", url, options.seconds, options.rounds)


if __name__ == "__main__":
    main()
