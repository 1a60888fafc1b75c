"""The SQL stores under stress: several processes at once, a failure at every statement, a kill."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from conftest import FAST_HASHER, OPERATOR, empty_postgres
from provisioning import (
    ActivateDomain,
    AddDomain,
    Context,
    CreateAccount,
    CreateClassOfService,
    CreateMailbox,
    CreateUser,
    InternalError,
    StoreError,
    UpdateAccount,
    ValidationFailed,
    VerifyDomain,
    apply,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.adapters.sql import METADATA, PostgresStore, SqliteStore, SqlStore

Opener = Callable[[], SqlStore]


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Opener]]:
    """How to open one shared database of each SQL kind (as another process would)."""
    if request.param == "sqlite":
        path = str(tmp_path / "shared.db")
        SqliteStore(path).close()
        yield path, lambda: SqliteStore(path)
    else:
        url = request.getfixturevalue("postgres_url")
        empty_postgres(url).close()
        yield url, lambda: PostgresStore(url)


def _tenant(store: SqlStore) -> Context:
    dns = MemoryDns()
    ctx = Context(store=store, dns=dns, hasher=FAST_HASHER)
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    domain = run(
        ctx,
        OPERATOR,
        AddDomain(account_id="acme", name="acme.example", admin_email="it@else.example"),
    )
    dns.publish("acme.example", domain.verification_token)
    run(ctx, OPERATOR, VerifyDomain(domain_id=domain.id))
    run(ctx, OPERATOR, ActivateDomain(domain_id=domain.id))
    return ctx


def _open(where: str) -> SqlStore:
    return PostgresStore(where) if where.startswith("postgresql") else SqliteStore(where)


def _create(where: str, first: int, count: int, results: Any) -> None:
    ctx = Context(store=_open(where), hasher=FAST_HASHER)
    for n in range(first, first + count):
        try:
            run(ctx, OPERATOR, CreateUser(account_id="acme", username=f"user{n}@acme.example"))
            results.put("created")
        except ValidationFailed as failed:
            results.put(",".join(i.code for i in failed.issues if i.blocking))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            results.put(f"{type(exc).__name__}: {exc}")


def _in_processes(where: str, jobs: list[tuple[int, int]]) -> list[str]:
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    workers = [spawn.Process(target=_create, args=(where, first, n, results)) for first, n in jobs]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in range(sum(n for _, n in jobs))]
    for worker in workers:
        worker.join(30)
    return outcomes


def test_processes_creating_different_users_all_land(opener: tuple[str, Opener]) -> None:
    where, open_store = opener
    store = open_store()
    ctx = _tenant(store)
    outcomes = _in_processes(where, [(p * 10, 10) for p in range(4)])
    assert outcomes == ["created"] * 40
    assert queries.users(ctx, OPERATOR, "acme").total == 41  # and the super admin
    store.close()


def test_processes_racing_for_one_address_leave_exactly_one_winner(
    opener: tuple[str, Opener],
) -> None:
    where, open_store = opener
    store = open_store()
    ctx = _tenant(store)
    outcomes = _in_processes(where, [(7, 1)] * 4)
    assert sorted(outcomes) == ["address.taken"] * 3 + ["created"]
    assert queries.users(ctx, OPERATOR, "acme", search="user7@").total == 1
    store.close()


# -- a failure at every statement of an apply -------------------------------------------------


def _dump(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as sql:
        return {
            table.name: sorted(
                tuple(str(value) for value in row) for row in sql.execute(sa.select(table)).all()
            )
            for table in METADATA.sorted_tables
        }


class Injected(Exception):
    pass


@attrs.define
class FailAt:
    """Fails the statement at position `failing` (from 0), as a driver would."""

    failing: int
    seen: int = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        del conn, cursor, rest
        self.seen += 1
        if self.seen == self.failing + 1:
            raise sa.exc.OperationalError(statement, {}, Injected("disk I/O error"))


def _batch() -> list[Any]:
    return [
        CreateUser(
            account_id="acme",
            username=f"user{n}@acme.example",
            aliases=(f"alias{n}@acme.example",),
        )
        for n in range(3)
    ] + [
        CreateMailbox(account_id="acme", address="support@acme.example"),
        UpdateAccount(account_id="acme", version=1, personal_mailbox_on_create=True),
    ]


@pytest.mark.parametrize("moved_on", [False, True], ids=["fresh", "validated-again"])
def test_a_failure_at_any_statement_of_an_apply_leaves_the_store_as_it_was(
    opener: tuple[str, Opener], moved_on: bool
) -> None:
    _, open_store = opener
    store = open_store()
    ctx = _tenant(store)
    engine = store.engine
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        del conn, cursor, rest
        statements.append(statement)

    def prepared() -> Any:
        planned = plan(ctx, OPERATOR, _batch())
        if moved_on:  # a change in the account the batch reads: it is checked again
            run(
                ctx,
                OPERATOR,
                CreateClassOfService(account_id="acme", name=f"Cos {time.monotonic_ns()}"),
            )
        return planned

    probe = prepared()
    event.listen(engine, "before_cursor_execute", count)
    try:  # how many statements an apply runs, measured on a plan whose commit is refused
        total = _statements_of_apply(ctx, probe, statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert total > 5
    for failing in range(total):
        planned = prepared()
        expected = _dump(engine)
        fail = FailAt(failing)
        event.listen(engine, "before_cursor_execute", fail)
        try:
            with pytest.raises(StoreError) as caught:
                apply(ctx, planned)
        finally:
            event.remove(engine, "before_cursor_execute", fail)
        assert isinstance(caught.value.__cause__, sa.exc.OperationalError)
        assert _dump(engine) == expected, f"statement {failing} of {total}"
    outcome = apply(ctx, prepared())  # and the store is still usable afterwards
    assert len(outcome.results) == 5
    store.close()


def _statements_of_apply(ctx: Context, planned: Any, statements: list[str]) -> int:
    """Apply `planned` in a transaction rolled back at the end; how many statements it ran."""
    store = ctx.store
    assert isinstance(store, SqlStore)
    engine = store.engine
    start = len(statements)
    rollback = Injected("measured")

    def stop(conn: Any) -> None:
        del conn
        raise rollback

    event.listen(engine, "commit", stop)
    try:
        with pytest.raises(InternalError):  # the refusal is no database error, so unexpected
            apply(ctx, planned)
    finally:
        event.remove(engine, "commit", stop)
    return len(statements) - start


def test_a_failing_commit_is_reported_and_leaves_nothing(opener: tuple[str, Opener]) -> None:
    _, open_store = opener
    store = open_store()
    ctx = _tenant(store)
    expected = _dump(store.engine)
    planned = plan(ctx, OPERATOR, _batch())

    def fail(conn: Any) -> None:
        del conn
        raise sa.exc.OperationalError("COMMIT", {}, Injected("disk is full"))

    event.listen(store.engine, "commit", fail)
    try:
        with pytest.raises(StoreError) as caught:
            apply(ctx, planned)
    finally:
        event.remove(store.engine, "commit", fail)
    assert caught.value.code == "store.full"
    assert _dump(store.engine) == expected
    assert len(apply(ctx, planned).results) == 5
    store.close()


# -- a process killed mid-apply -----------------------------------------------------------------

KILLED = """
import sys
import time
from provisioning import Actor, Context, CreateUser, apply, plan
from provisioning.adapters.sql import PostgresStore, SqliteStore

where = sys.argv[1]
store = PostgresStore(where) if where.startswith("postgresql") else SqliteStore(where)
ctx = Context(store=store)
commands = [CreateUser(account_id="acme", username=f"bulk{n}@acme.example") for n in range(20000)]
planned = plan(ctx, Actor.platform(), commands)

def ready(done, total):
    if done == total:  # every row is written; the commit comes next
        print("writing", flush=True)
        time.sleep(10)

print("planned", flush=True)
apply(ctx, planned, progress=ready)
print("applied", flush=True)
"""


@pytest.mark.parametrize("when", ["while-writing", "before-commit"])
def test_a_process_killed_mid_apply_leaves_all_or_nothing(
    opener: tuple[str, Opener], tmp_path: Path, when: str
) -> None:
    where, open_store = opener
    store = open_store()
    ctx = _tenant(store)
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(KILLED))
    child = subprocess.Popen(
        [sys.executable, str(script), where],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "planned"
    if when == "while-writing":
        time.sleep(0.3)  # somewhere inside the write transaction, or just before it
    else:
        assert child.stdout.readline().strip() == "writing"
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    child.stdout.close()
    total = queries.users(ctx, OPERATOR, "acme").total
    assert total in {1, 20001}
    if when == "before-commit":
        assert total == 1
    run(ctx, OPERATOR, CreateUser(account_id="acme", username="after@acme.example"))
    store.close()
