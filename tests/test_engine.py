"""plan / apply / run: two phases, all or nothing, audit and notifications after commit."""

from __future__ import annotations

import threading
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path

import attrs
import pytest

from conftest import OPERATOR, START
from provisioning import (
    Command,
    Conflict,
    Context,
    CreateAccount,
    CreateClassOfService,
    InternalError,
    NotFound,
    NotificationFailed,
    UpdateAccount,
    ValidationFailed,
    apply,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import FixedClock, Outbox
from provisioning.engine import apply_lean, deliver, plan_parts
from provisioning.handlers import HANDLERS
from provisioning.model import Account, MessageStatus
from provisioning.ports import Message
from provisioning.rules._tx import Step, Tx


def _accounts(ctx: Context) -> list[str]:
    with ctx.store.unit_of_work() as uow:
        return sorted(
            a.name for a in uow.accounts.get_many([f"id-{n}" for n in range(1, 50)]).values()
        )


def test_plan_validates_against_the_store_and_writes_nothing(ctx: Context) -> None:
    run(ctx, OPERATOR, CreateAccount(name="Acme"))
    result = plan(ctx, OPERATOR, [CreateAccount(name="Globex"), CreateAccount(name="acme")])
    assert not result.ok
    assert [(i.code, i.command) for i in result.issues] == [("account.name_taken", 1)]
    assert _accounts(ctx) == ["Acme"]
    with ctx.store.unit_of_work() as uow:
        assert [(e.action, e.entity) for e in uow.audit.events()] == [
            ("CreateAccount", "account"),
            ("CreateAccount", "cos"),
            ("CreateAccount", "cos"),
        ]


def test_plan_checks_the_commands_of_a_batch_against_each_other(ctx: Context) -> None:
    result = plan(
        ctx,
        OPERATOR,
        [CreateAccount(name="Acme"), CreateAccount(name="Globex"), CreateAccount(name="ACME")],
    )
    (issue,) = result.errors
    assert (issue.code, issue.command, issue.field) == ("account.name_taken", 2, "name")
    assert "command 0 of this batch" in issue.message


def test_plan_collects_every_issue_of_every_command(ctx: Context) -> None:
    result = plan(
        ctx,
        OPERATOR,
        [
            CreateAccount(name=""),
            CreateClassOfService(name="bad name!", quota_mb=-1, features=frozenset({"OK", "fine"})),
            CreateAccount(name="Fine"),
        ],
    )
    assert [(i.code, i.command) for i in result.issues] == [
        ("account.name_invalid", 0),
        ("cos.name_invalid", 1),
        ("cos.quota_invalid", 1),
        ("cos.feature_invalid", 1),
    ]


def test_apply_executes_a_clean_plan_in_one_unit_of_work(ctx: Context) -> None:
    result = plan(ctx, OPERATOR, [CreateAccount(name="Acme"), CreateAccount(name="Globex")])
    assert result.ok
    assert _accounts(ctx) == []
    outcome = apply(ctx, result)
    assert [a.name for a in outcome.results] == ["Acme", "Globex"]
    assert _accounts(ctx) == ["Acme", "Globex"]
    assert [(e.action, e.entity, e.actor, e.occurred_at) for e in outcome.events] == [
        ("CreateAccount", entity, "platform:ops", START)
        for _ in ("Acme", "Globex")
        for entity in ("account", "cos", "cos")
    ]


def test_apply_refuses_a_plan_with_blocking_issues(ctx: Context) -> None:
    result = plan(ctx, OPERATOR, [CreateAccount(name="Acme"), CreateAccount(name="")])
    with pytest.raises(ValidationFailed) as caught:
        apply(ctx, result)
    assert caught.value.codes == ["account.name_invalid"]
    assert _accounts(ctx) == []


def test_apply_validates_again_and_writes_nothing_if_the_store_moved_on(ctx: Context) -> None:
    result = plan(ctx, OPERATOR, [CreateAccount(name="Initech"), CreateAccount(name="Acme")])
    run(ctx, OPERATOR, CreateAccount(name="acme"))  # someone else was faster
    with pytest.raises(ValidationFailed) as caught:
        apply(ctx, result)
    assert [(i.code, i.command) for i in caught.value.issues] == [("account.name_taken", 1)]
    assert _accounts(ctx) == ["acme"]  # Initech was not half-applied


def test_run_returns_the_result_of_one_command(ctx: Context) -> None:
    account = run(ctx, OPERATOR, CreateAccount(name="  Acme  "))
    assert isinstance(account, Account)
    assert (account.id, account.name, account.created_at, account.version) == (
        "id-1",
        "Acme",
        START,
        1,
    )


def test_run_raises_conflict_for_a_stale_version_and_keeps_the_newer_change(ctx: Context) -> None:
    account = run(ctx, OPERATOR, CreateAccount(name="Acme"))
    run(ctx, OPERATOR, UpdateAccount(account_id=account.id, version=1, name="Acme AG"))
    with pytest.raises(Conflict) as caught:
        run(ctx, OPERATOR, UpdateAccount(account_id=account.id, version=1, name="Lost"))
    assert caught.value.code == "version.stale"
    assert _accounts(ctx) == ["Acme AG"]


def test_a_stale_version_is_an_issue_in_a_plan(ctx: Context) -> None:
    account = run(ctx, OPERATOR, CreateAccount(name="Acme"))
    run(ctx, OPERATOR, UpdateAccount(account_id=account.id, version=1, name="Acme AG"))
    result = plan(ctx, OPERATOR, [UpdateAccount(account_id=account.id, version=1, name="Lost")])
    assert [i.code for i in result.issues] == ["version.stale"]


def test_run_raises_not_found_for_a_missing_target(ctx: Context) -> None:
    with pytest.raises(NotFound) as caught:
        run(ctx, OPERATOR, UpdateAccount(account_id="nope", version=1, name="X"))
    assert caught.value.code == "account.not_found"


def test_an_object_that_is_not_a_command_is_an_issue(ctx: Context) -> None:
    result = plan(ctx, OPERATOR, [object()])  # type: ignore[list-item]
    assert [i.code for i in result.issues] == ["command.unknown"]


# An application embedding the library adds a command of its own; it takes the same road.


@attrs.define
class Tripwire:
    armed: bool = False


@attrs.frozen
class Greet(Command[Account]):
    account_name: str
    to: str
    trip: Tripwire | None = attrs.field(default=None, eq=False)


class Kaboom(Exception):
    pass


def greet(tx: Tx, command: Greet) -> Step[Account]:
    def go() -> Account:
        account = Account(id=tx.new_id(), name=command.account_name, created_at=tx.now)
        tx.uow.accounts.add(account)
        tx.record("Greet", "account", account.id, account_id=account.id)
        tx.notify(Message(template="greeting", to=command.to, data={"account": account.name}))
        if command.trip is not None and command.trip.armed:
            raise Kaboom
        return account

    return Step.proceed(go)


@pytest.fixture
def greeting_ctx(ctx: Context) -> Context:
    return attrs.evolve(ctx, handlers={**HANDLERS, Greet: greet})


def test_messages_are_sent_after_commit_only(greeting_ctx: Context) -> None:
    outbox = greeting_ctx.notifier
    outcome = apply(greeting_ctx, plan(greeting_ctx, OPERATOR, [Greet("Acme", "ann@acme.example")]))
    assert [m.to for m in outcome.messages] == ["ann@acme.example"]
    assert outbox.messages == list(outcome.messages)  # type: ignore[union-attr]
    # Planning runs the handler too, but sends nothing.
    plan(greeting_ctx, OPERATOR, [Greet("Globex", "bob@globex.example")])
    assert len(outbox.messages) == 1  # type: ignore[union-attr]


def test_a_failure_while_planning_is_typed_and_leaves_nothing(greeting_ctx: Context) -> None:
    outbox = greeting_ctx.notifier
    with pytest.raises(InternalError) as caught:
        plan(
            greeting_ctx,
            OPERATOR,
            [Greet("Acme", "a@x.example"), Greet("Globex", "b@x.example", Tripwire(armed=True))],
        )
    assert caught.value.code == "internal.error"
    assert isinstance(caught.value.__cause__, Kaboom)
    assert _accounts(greeting_ctx) == []
    assert outbox.messages == []  # type: ignore[union-attr]


def test_a_failure_mid_apply_rolls_back_everything_and_sends_nothing(greeting_ctx: Context) -> None:
    outbox = greeting_ctx.notifier
    trip = Tripwire()
    planned = plan(
        greeting_ctx,
        OPERATOR,
        [Greet("Acme", "a@x.example"), Greet("Globex", "b@x.example", trip)],
    )
    run(greeting_ctx, OPERATOR, CreateAccount(name="Initech"))
    greeting_ctx.clock.advance(minutes=16)  # type: ignore[attr-defined] # older than fresh_for: re-checked
    trip.armed = True
    with pytest.raises(InternalError) as caught:
        apply(greeting_ctx, planned)
    assert isinstance(caught.value.__cause__, Kaboom)
    assert _accounts(greeting_ctx) == ["Initech"]
    assert [m.template for m in outbox.messages] == []  # type: ignore[union-attr]
    with greeting_ctx.store.unit_of_work() as uow:
        assert [(e.action, e.entity) for e in uow.audit.events()] == [
            ("CreateAccount", "account"),
            ("CreateAccount", "cos"),
            ("CreateAccount", "cos"),
        ]


class BrokenNotifier:
    def send(self, messages: Collection[Message], /) -> None:
        raise OSError(f"mail relay down, {len(messages)} message(s) kept")


def test_a_notifier_failure_after_commit_leaves_the_message_waiting_in_the_outbox(
    greeting_ctx: Context, clock: FixedClock
) -> None:
    broken = attrs.evolve(greeting_ctx, notifier=BrokenNotifier())
    with pytest.raises(NotificationFailed) as caught:
        run(broken, OPERATOR, Greet("Acme", "ann@acme.example"))
    assert caught.value.code == "notification.failed"
    assert [m.template for m in caught.value.outcome.messages] == ["greeting"]
    assert "relay down" not in str(caught.value)  # the server's words are not repeated
    assert _accounts(greeting_ctx) == ["Acme"]  # committed
    (waiting,), _ = greeting_ctx.store.queued_messages(
        status=MessageStatus.PENDING, offset=0, limit=10
    )
    assert (waiting.attempts, waiting.failure) == (1, "delivery.failed: OSError")
    assert waiting.message.secrets == {}  # a listing never shows one
    later = Outbox()
    assert deliver(greeting_ctx, later).delivered == ()  # not due before its retry
    clock.advance(minutes=1)
    assert deliver(greeting_ctx, later).delivered == (waiting.id,)
    assert [(m.template, m.id) for m in later.messages] == [("greeting", waiting.id)]
    assert deliver(greeting_ctx, later).delivered == ()  # once


def test_context_defaults_suit_a_notebook() -> None:
    ctx = Context.in_memory()
    account = run(ctx, OPERATOR, CreateAccount(name="Acme"))
    assert len(account.id) == 36  # a UUID
    assert account.created_at.tzinfo is not None


def test_a_batch_planned_in_parts_is_written_as_planned_unless_parts_clash(
    ctx: Context,
) -> None:
    names = ["Acme", "Globex", "ACME", "Initech"]
    parts = [range(2), range(2, 4)]
    planned = plan_parts(ctx, OPERATOR, [CreateAccount(name=n) for n in names], parts)
    # Each part is checked on its own: the clash across parts is the caller's to find ...
    assert planned.ok
    assert planned.change_count == 4 * 6  # an account, two classes of service, an event each
    assert "24 change(s)" in repr(planned)
    # ... and apply, whose write of the kept parts the unique index refuses, checks each part
    # against the parts written before it, and refuses it.
    with pytest.raises(ValidationFailed) as caught:
        apply(ctx, planned)
    assert [(i.code, i.command) for i in caught.value.issues] == [("account.name_taken", 2)]
    assert _accounts(ctx) == []

    clean = plan_parts(
        ctx, OPERATOR, [CreateAccount(name=n) for n in ["A", "B", "C"]], [range(1), range(1, 3)]
    )
    outcome = apply(ctx, clean)
    assert [account.name for account in outcome.results] == ["A", "B", "C"]
    assert outcome.actions == {"CreateAccount": 9}
    assert len(outcome.events) == 9
    assert not outcome.revalidated  # each command checked once: the kept parts, written
    checked_only = plan_parts(
        ctx,
        OPERATOR,
        [CreateAccount(name=n) for n in ["E", "F"]],
        [range(1), range(1, 2)],
        keep=False,
    )
    again = apply(ctx, checked_only)
    assert again.revalidated  # nothing kept: checked again as it is written
    assert [account.name for account in again.results] == ["E", "F"]
    lean = apply_lean(
        ctx,
        plan_parts(ctx, OPERATOR, [CreateAccount(name="D")], [range(1)]),
        keep=lambda account: account.name,
    )
    assert lean.events == ()
    assert lean.actions == {"CreateAccount": 3}
    assert "3 change(s) (CreateAccount 3)" in repr(lean)
    assert lean.results == ("D",)


def test_a_dry_run_in_parts_counts_the_events_it_does_not_make(ctx: Context) -> None:
    names = ["A", "B", "C", "a"]  # the last clashes with the first in its own part
    commands = [CreateAccount(name=n) for n in names]
    whole = plan(ctx, OPERATOR, commands[:3])
    parted = plan_parts(ctx, OPERATOR, commands[:3], [range(1), range(1, 3)])
    assert parted.change_count == whole.change_count == 3 * 6
    refused = plan_parts(ctx, OPERATOR, commands, [range(4)])
    assert [i.code for i in refused.errors] == ["account.name_taken"]
    assert refused.change_count == 3 * 6  # nothing of the refused command


def test_the_parts_of_a_batch_cover_it_in_order(ctx: Context) -> None:
    commands = [CreateAccount(name=n) for n in ["A", "B", "C"]]
    for parts in ([range(2)], [range(1, 3), range(1)], [range(2), range(1, 3)]):
        with pytest.raises(ValueError, match="consecutive ranges covering every command"):
            plan_parts(ctx, OPERATOR, commands, parts)


def test_one_context_serves_many_threads_at_once(ctx: Context) -> None:
    """What `docs/architecture.md` promises: a Context shared by threads, a unit of work each."""
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def create(n: int) -> None:
        start.wait()
        try:
            for k in range(5):
                run(ctx, OPERATOR, CreateAccount(name=f"Tenant {n}-{k}", account_id=f"t{n}-{k}"))
                queries.get_account(ctx, OPERATOR, f"t{n}-{k}")
        except BaseException as failed:  # noqa: BLE001 - handed to the test, which fails on it
            failures.append(failed)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(queries.accounts(ctx, OPERATOR)) == 40


@attrs.frozen
class Twins(Command[tuple[Account, Account]]):
    """Two accounts in one command, with a time limit noted between them."""

    first: str
    second: str


def twins(tx: Tx, command: Twins) -> Step[tuple[Account, Account]]:
    def go() -> tuple[Account, Account]:
        first = Account(id=tx.new_id(), name=command.first, created_at=tx.now)
        tx.uow.accounts.add(first)
        tx.until(tx.now + timedelta(hours=1))  # as a handler that checked an expiring link does
        second = Account(id=tx.new_id(), name=command.second, created_at=tx.now)
        tx.uow.accounts.add(second)
        return first, second

    return Step.proceed(go)


def test_noting_a_time_limit_mid_command_draws_no_id_twice(ctx: Context) -> None:
    twinned = attrs.evolve(ctx, handlers={**HANDLERS, Twins: twins})
    first, second = run(twinned, OPERATOR, Twins(first="Acme", second="Globex"))
    assert first.id != second.id
    assert {a.name for a in queries.accounts(twinned, OPERATOR)} == {"Acme", "Globex"}


def test_the_parts_kept_on_disk_are_sealed_and_gone_once_applied(ctx: Context) -> None:
    commands = [CreateAccount(name=f"Sealed {n}") for n in range(4)]
    planned = plan_parts(ctx, OPERATOR, commands, [range(2), range(2, 4)])
    spill = planned._work.spill
    assert spill is not None
    assert len(spill) == 2
    files = [Path(name) for _, name in spill.files()]
    assert all(b"Sealed" not in path.read_bytes() for path in files)  # nothing in the clear
    assert files[0].parent.stat().st_mode & 0o077 == 0  # a folder of this user's only
    apply(ctx, planned)
    assert not files[0].parent.exists()
    twice = [CreateAccount(name="Twice"), CreateAccount(name="Twice")]
    blocked = plan_parts(ctx, OPERATOR, twice, [range(1), range(1, 2)])
    assert blocked.ok  # the clash crosses parts: found by apply, nothing kept after it
    with pytest.raises(ValidationFailed):
        apply(ctx, blocked)
