"""A soak: worker processes of mixed commands, each in a tenant of its own, for minutes on end.

Each worker creates users (4 in 10 commands), changes one's name (3 in 10),
renames one (1 in 10) and deletes one (1 in 10), and lists a page of its
users (1 in 10), through `plan` and `apply` with the bare road's retries
only. Reported: each kind of write's p50 and p99, the writes per second,
the applies that checked their plan again, and every failure by its code
(none is expected: the tenants are disjoint). On PostgreSQL when it is
installed (or `--postgres URL`), else SQLite:

    python benchmarks/soak.py --minutes 10 --workers 8
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import time
from collections import Counter
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import attrs
from bench_fleet import FAST, Tenant, _open, tenants
from common import postgres

from provisioning import (
    Actor,
    Context,
    CreateUser,
    DeleteUser,
    ProvisioningError,
    RenameUser,
    UpdateUser,
    apply,
    plan,
    queries,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.commands import Command

KINDS = ("create", "update", "rename", "delete", "list")
WEIGHTS = (4, 3, 1, 1, 1)


@attrs.frozen
class Soaked:
    """What one worker did: seconds per kind of write, re-checks and failures by code."""

    seconds: dict[str, list[float]]
    rechecked: int
    failures: Counter[str]


def worker(where: str, tenant: Tenant, seconds: float, seed: int, start: Any, out: Any) -> None:  # noqa: ANN401 - multiprocessing objects
    """Mixed commands in `tenant` until `seconds` have passed."""
    ctx = Context(store=_open(where), dns=MemoryDns(), hasher=FAST)
    actor = Actor.user(tenant.admin_id)
    chance = random.Random(seed)
    users: list[str] = []
    made = 0
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    rechecked, failures = 0, Counter[str]()
    start.wait()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        kind = chance.choices(KINDS, WEIGHTS)[0]
        if kind != "create" and not users:
            kind = "create"
        begun = time.perf_counter()
        try:
            if kind == "list":
                queries.users(ctx, actor, tenant.account_id, limit=20)
            else:
                command = _command(ctx, actor, tenant, kind, users, chance, made)
                made += kind in {"create", "rename"}
                outcome = apply(ctx, plan(ctx, actor, [command]))
                rechecked += outcome.revalidated
                if kind == "create":
                    users.append(outcome.results[0].id)
                elif kind == "delete":
                    users.remove(command.user_id)  # type: ignore[attr-defined]
        except ProvisioningError as failed:
            failures[failed.code] += 1
            continue
        times[kind].append(time.perf_counter() - begun)
    out.put(Soaked(times, rechecked, failures))


def _command(
    ctx: Context,
    actor: Actor,
    tenant: Tenant,
    kind: str,
    users: list[str],
    chance: random.Random,
    made: int,
) -> Command[Any]:
    if kind == "create":
        return CreateUser(
            account_id=tenant.account_id,
            username=f"soak{made}@{tenant.domain}",
            first_name="Ann",
            last_name="Lee",
        )
    user = queries.get_user(ctx, actor, chance.choice(users))
    if kind == "update":
        return UpdateUser(user_id=user.id, version=user.version, first_name=f"Ann{made}")
    if kind == "rename":
        return RenameUser(
            user_id=user.id, version=user.version, username=f"moved{made}@{tenant.domain}"
        )
    return DeleteUser(user_id=user.id, version=user.version)


def soak(where: str, workers: int, seconds: float) -> None:
    """`workers` processes of mixed commands at once; what they did, together."""
    crew = tenants(where, workers)
    spawn = multiprocessing.get_context("spawn")
    start, out = spawn.Event(), spawn.Queue()
    processes = [
        spawn.Process(target=worker, args=(where, tenant, seconds, n, start, out))
        for n, tenant in enumerate(crew)
    ]
    for process in processes:
        process.start()
    time.sleep(3.0)
    start.set()
    found = [out.get(timeout=seconds + 300) for _ in processes]
    for process in processes:
        process.join()
    writes = 0
    for kind in KINDS:
        times = sorted(t for soaked in found for t in soaked.seconds[kind])
        if len(times) < 2:
            continue
        cut = statistics.quantiles(times, n=100)
        writes += len(times) if kind != "list" else 0
        print(
            f"  {kind:<7} {len(times):7,}  p50 {cut[49] * 1e3:7.1f} ms  p99 {cut[98] * 1e3:7.1f} ms"
        )
    failures = sum((soaked.failures for soaked in found), Counter[str]())
    rechecked = sum(soaked.rechecked for soaked in found)
    print(f"  writes/s {writes / seconds:.0f}; checked again {rechecked / max(writes, 1):.1%}")
    print(f"  failures: {dict(failures) or 'none'}")


def main() -> None:
    """Soak PostgreSQL when there is one, else SQLite."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--postgres", default=None)
    options, _ = parser.parse_known_args()
    with postgres(options.postgres) as url, TemporaryDirectory() as folder:
        where = url or str(Path(folder) / "soak.db")
        print(f"soak: {options.workers} workers, {options.minutes:g} min, on {where.split(':')[0]}")
        soak(where, options.workers, options.minutes * 60)


if __name__ == "__main__":
    main()
