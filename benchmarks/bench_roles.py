"""What a role's version costs a batch that gives it to many users, and one member at a time.

A custom role's version moves with its members (every grant that gives or
takes it writes the role's row too); a system role has no row. Both batches
give one role to the same users, so the difference is the role's row. The
same run also times `AddRoleMember` against the `SetGrant` it stands for.
Run with `nox -s bench -- --members 5000`.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import active_account, interleaved

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

    def batch(role_id: str) -> Callable[[int], object]:
        return lambda _: apply(ctx, plan(ctx, OPERATOR, _grants(users, role_id)))

    def undo() -> None:  # back as it was, untimed
        apply(ctx, plan(ctx, OPERATOR, _revoke(users)))

    one, other = interleaved(rounds, batch(custom.id), batch("system:member"), before=undo)
    print(
        f"{name}: {members} grants of a custom role {one:.2f} s, of a system role {other:.2f} s:"
        f" ratio {one / other:.2f}"
    )
    few = users[:200]

    def adding() -> object:
        return [run(ctx, OPERATOR, AddRoleMember(role_id=custom.id, user_id=u.id)) for u in few]

    def granting() -> object:
        grants = [SetGrant(user_id=u.id, account_id="acme", role_ids={custom.id}) for u in few]
        return [run(ctx, OPERATOR, grant) for grant in grants]

    one, other = interleaved(
        rounds,
        lambda _: adding(),
        lambda _: granting(),
        before=lambda: apply(ctx, plan(ctx, OPERATOR, _revoke(few))),
    )
    one, other = one / len(few), other / len(few)
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
