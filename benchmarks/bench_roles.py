"""What a role's version costs a batch that gives it to many users, and one member at a time.

A custom role's version moves with its members (every grant that gives or
takes it writes the role's row too); a system role has no row. Both batches
give one role to the same users, so the difference is the role's row. The
same run also times `AddRoleMember` against the `SetGrant` it stands for.
Run with `nox -s bench -- --members 5000`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import active_account

from provisioning import (
    Actor,
    AddRoleMember,
    Context,
    CreateRole,
    CreateUser,
    SetGrant,
    apply,
    plan,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.adapters.sql import SqliteStore
from provisioning.model import User

OPERATOR = Actor.platform()


def _users(ctx: Context, count: int) -> list[User]:
    commands = [
        CreateUser(account_id="acme", username=f"member{n}@acme.example") for n in range(count)
    ]
    users: list[User] = list(apply(ctx, plan(ctx, OPERATOR, commands)).results)
    return users


def _grants(users: list[User], role_id: str) -> list[SetGrant]:
    return [SetGrant(user_id=u.id, account_id="acme", role_ids={role_id}) for u in users]


def _revoke(users: list[User]) -> list[SetGrant]:
    return [SetGrant(user_id=u.id, account_id="acme", role_ids=frozenset()) for u in users]


def bench(name: str, ctx: Context, dns: MemoryDns, members: int, rounds: int) -> None:
    active_account(ctx, dns, "acme", "acme.example")
    users = _users(ctx, members)
    custom = run(ctx, OPERATOR, CreateRole(account_id="acme", name="Sales"))

    def batch(role_id: str) -> Callable[[], object]:
        def work() -> object:
            outcome = apply(ctx, plan(ctx, OPERATOR, _grants(users, role_id)))
            apply(ctx, plan(ctx, OPERATOR, _revoke(users)))  # back as it was, untimed below
            return outcome

        return work

    timed: dict[str, list[float]] = {"custom": [], "system": []}
    for round_ in range(rounds):
        order = [("custom", batch(custom.id)), ("system", batch("system:member"))]
        for label, work in order if round_ % 2 else order[::-1]:
            start = time.perf_counter()
            work()
            timed[label].append(time.perf_counter() - start)
    one, other = statistics.median(timed["custom"]), statistics.median(timed["system"])
    print(
        f"{name}: {members} grants of a custom role {one:.2f} s, of a system role {other:.2f} s"
        f" (each with its undoing): ratio {one / other:.2f}"
    )
    few = users[:200]

    def adding() -> object:
        return [run(ctx, OPERATOR, AddRoleMember(role_id=custom.id, user_id=u.id)) for u in few]

    def granting() -> object:
        grants = [SetGrant(user_id=u.id, account_id="acme", role_ids={custom.id}) for u in few]
        return [run(ctx, OPERATOR, grant) for grant in grants]

    each: dict[str, list[float]] = {"add": [], "grant": []}
    singles: list[tuple[str, Callable[[], object]]] = [("add", adding), ("grant", granting)]
    for round_ in range(rounds):
        for kind, single in singles if round_ % 2 else singles[::-1]:
            apply(ctx, plan(ctx, OPERATOR, _revoke(few)))
            start = time.perf_counter()
            single()
            each[kind].append((time.perf_counter() - start) / len(few))
    one, other = statistics.median(each["add"]), statistics.median(each["grant"])
    print(
        f"{name}: AddRoleMember {one * 1e3:.2f} ms, SetGrant {other * 1e3:.2f} ms per member:"
        f" ratio {one / other:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    dns = MemoryDns()
    bench("memory", Context.in_memory(dns=dns), dns, args.members, args.rounds)
    with tempfile.TemporaryDirectory() as folder:
        dns = MemoryDns()
        store = SqliteStore(Path(folder) / "bench.db")
        bench("sqlite", Context(store=store, dns=dns), dns, args.members, args.rounds)
        store.close()


if __name__ == "__main__":
    main()
