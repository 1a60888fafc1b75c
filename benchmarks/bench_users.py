"""How long listing and searching users takes over a large account, in each store.

Users are written straight through the repositories (creating 100,000 users
through `CreateUser` would mostly measure argon2id). Run with
`nox -s bench -- --users 100000`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from common import interleaved

from provisioning import Actor, Context, queries
from provisioning.adapters.memory import MemoryStore
from provisioning.adapters.sql import SqliteStore
from provisioning.model import Account, Profile, User, Username, UserSource
from provisioning.ports import Store
from provisioning.testing import builders

WHEN = datetime(2026, 1, 1, tzinfo=UTC)
FIRST = ["Ann", "Bob", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hal", "Ida", "Jon"]
LAST = ["Lee", "Muster", "Rossi", "Novak", "Silva", "Kim", "Weber", "Dubois"]


def _fill(store: Store, count: int) -> None:
    with store.unit_of_work() as uow:
        uow.accounts.add(Account(id="acme", name="Acme", created_at=WHEN))
        uow.domains.add(builders.domain("d-1", "acme.example", "acme"))  # the users' domain
        for n in range(count):
            first, last = FIRST[n % len(FIRST)], LAST[n % len(LAST)]
            directory = "Corporate AD" if n % 10 == 0 else None
            uow.users.add(
                User(
                    id=f"u-{n:06d}",
                    username=Username.parse(f"{first.lower()}.{last.lower()}{n}@acme.example"),
                    created_at=WHEN,
                    updated_at=WHEN,
                    account_id="acme",
                    domain_id="d-1",
                    source=UserSource.DIRECTORY if directory else UserSource.MANUAL,
                    directory_service=directory,
                    external_id=f"00u{n:08x}",
                    profile=Profile(
                        first_name=first, last_name=last, display_name=f"{first} {last}"
                    ),
                )
            )
        uow.commit()


def _timed(label: str, work: Callable[[], object], repeat: int = 5) -> None:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    best, median = min(times) * 1000, statistics.median(times) * 1000
    print(f"{label:<58} best {best:8.1f} ms  median {median:8.1f} ms")


def bench(name: str, store: Store, count: int) -> None:
    start = time.perf_counter()
    _fill(store, count)
    print(f"{name}: {count} users written in {time.perf_counter() - start:.1f} s")
    ctx = Context(store=store)
    who = Actor.platform()

    def page(**options: object) -> Callable[[], object]:
        return lambda: queries.users(ctx, who, "acme", **options)  # type: ignore[arg-type]

    _timed(f"{name}: first page of 50, sorted by username", page())
    _timed(f"{name}: last page of 50, descending", page(descending=True, offset=count - 50))
    _timed(f"{name}: search 'muster' (contains, ~1/8 match)", page(search="muster"))
    _timed(f"{name}: search 'corporate ad' (directory, 1/10 match)", page(search="corporate ad"))
    _timed(f"{name}: search 'nobody' (no match)", page(search="nobody"))
    _timed(f"{name}: search by id", page(search=f"u-{count // 2:06d}"))
    _lookups(name, ctx, who, count)


def _lookups(name: str, ctx: Context, who: Actor, count: int, rounds: int = 7) -> None:
    """One user by what an integration knows of it, against one by its id (`get_user`).

    The look-ups a SCIM filter makes (`userName eq`, `externalId eq`) and
    `find_user`'s, each interleaved with `get_user` over the same users,
    rounds alternating which goes first; the median time per user of each.
    """
    picked = [(n * 7919) % count for n in range(200)]  # spread over the whole account
    addresses = [
        f"{FIRST[n % len(FIRST)].lower()}.{LAST[n % len(LAST)].lower()}{n}@ACME.example"
        for n in picked
    ]
    externals = [(f"00u{n:08x}", "Corporate AD" if n % 10 == 0 else None) for n in picked]
    ids = [f"u-{n:06d}" for n in picked]
    candidates: dict[str, Callable[[], list[object]]] = {
        "find_user(address=)": lambda: [
            queries.find_user(ctx, who, address=address) for address in addresses
        ],
        "find_users(username=)": lambda: [
            queries.find_users(ctx, who, "acme", username=address) for address in addresses
        ],
        "find_users(external_id=)": lambda: [
            queries.find_users(ctx, who, "acme", external_id=external, directory=directory)
            for external, directory in externals
        ],
    }
    for label, work in candidates.items():
        if not all(work()):  # each a user, or a page holding one
            raise SystemExit(f"{label} missed a user it should find")

    def by_id(_: int) -> object:
        return [queries.get_user(ctx, who, i) for i in ids]

    for label, work in candidates.items():
        one, other = interleaved(rounds, _each_round(work), by_id)
        one, other = one / len(picked), other / len(picked)
        print(
            f"{name}: {label:<26} {one * 1e6:7.0f} us, get_user(id) {other * 1e6:7.0f} us"
            f" per user: ratio {one / other:.2f}"
        )


def _each_round(work: Callable[[], object]) -> Callable[[int], object]:
    """`work`, run the same way whatever the round."""
    return lambda _: work()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20_000)
    args = parser.parse_args()
    bench("memory", MemoryStore(), args.users)
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "bench.db")
        bench("sqlite", store, args.users)
        store.close()


if __name__ == "__main__":
    main()
