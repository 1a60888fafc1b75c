"""The road at scale: plan writes and locks nothing, expensive work runs once, fresh plans
write directly, and every command is typed and authorized one by one."""

from __future__ import annotations

import sqlite3
import threading
import typing
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Self

import attrs
import pytest
import sqlalchemy as sa

from conftest import FAST_HASHER, OPERATOR, START, active_domain
from provisioning import (
    Actor,
    AddDomain,
    Authenticate,
    CompletePasswordRecovery,
    Conflict,
    Context,
    CreateAccount,
    CreateAdmin,
    CreateClassOfService,
    CreateUser,
    DeactivateDomain,
    InviteUser,
    SetGrant,
    ValidationFailed,
    VerifyDomain,
    apply,
    command_from,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import (
    FixedClock,
    MemoryDns,
    MemoryStore,
    Outbox,
    SequentialIds,
    SequentialTokens,
)
from provisioning.adapters.sql import SqliteStore
from provisioning.commands import Command, Text, Whole
from provisioning.engine._input import command_issues, text_of
from provisioning.errors import UsageError
from provisioning.model import DomainName
from provisioning.ports import Store
from provisioning.storage import PLATFORM, UnitOfWork

SRC = Path(__file__).parent.parent / "src" / "provisioning"


@attrs.define
class CountingHasher:
    hashed: list[str] = attrs.Factory(list)
    verified: int = 0

    def hash(self, password: str, /) -> str:
        self.hashed.append(password)
        return FAST_HASHER.hash(password)

    def verify(self, password_hash: str, password: str, /) -> bool:
        self.verified += 1
        return FAST_HASHER.verify(password_hash, password)

    def needs_rehash(self, password_hash: str, /) -> bool:
        return FAST_HASHER.needs_rehash(password_hash)


@attrs.define
class CountingTokens:
    issued: int = 0

    def token(self) -> str:
        self.issued += 1
        return f"tok-{self.issued}"


@attrs.define
class CountingDns:
    dns: MemoryDns = attrs.Factory(MemoryDns)
    asked: list[str] = attrs.Factory(list)
    gate: threading.Event | None = None
    entered: threading.Event = attrs.Factory(threading.Event)

    def txt_records(self, name: DomainName, /) -> list[str]:
        self.asked.append(name.ascii)
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        return self.dns.txt_records(name)


def _ctx(store: Store, **ports: Any) -> Context:
    defaults: dict[str, Any] = {
        "clock": FixedClock(START),
        "ids": SequentialIds(),
        "notifier": Outbox(),
        "tokens": SequentialTokens(),
        "dns": MemoryDns(),
        "hasher": FAST_HASHER,
    }
    return Context(store=store, **{**defaults, **ports})


def _tenant(ctx: Context, dns: MemoryDns) -> None:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    active_domain(ctx, dns, "acme", "acme.example", admin_email="it@else.example")


def _user(n: int, **fields: Any) -> CreateUser:
    return CreateUser(**{"account_id": "acme", "username": f"user{n}@acme.example", **fields})


def _files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.parent.iterdir()) if p.is_file()}


def _data_version(path: Path) -> int:
    with sqlite3.connect(path) as other:
        (version,) = other.execute("PRAGMA data_version").fetchone()
        return int(version)


# -- plan writes nothing -------------------------------------------------------


def test_plan_leaves_the_sqlite_file_byte_for_byte_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "db" / "p.db"
    path.parent.mkdir()
    dns = MemoryDns()
    ctx = _ctx(SqliteStore(path), dns=dns)
    _tenant(ctx, dns)
    pending = run(ctx, OPERATOR, AddDomain(account_id="acme", name="second.example"))
    dns.publish("second.example", pending.verification_token)
    watcher = sqlite3.connect(path)
    (before_version,) = watcher.execute("PRAGMA data_version").fetchone()
    before = _files(path)
    planned = plan(
        ctx,
        OPERATOR,
        [
            _user(
                1, password="a long and good password", password_repeat="a long and good password"
            ),
            InviteUser(account_id="acme", email="guest@else.example"),
            VerifyDomain(domain_id=pending.id),
            CreateClassOfService(account_id="acme", name="gold"),
        ],
    )
    assert planned.ok, planned.issues
    (after_version,) = watcher.execute("PRAGMA data_version").fetchone()
    assert after_version == before_version
    assert _files(path) == before
    watcher.close()


def test_plan_sees_the_batch_s_own_changes_without_writing_them(
    ctx: Context, dns: MemoryDns
) -> None:
    _tenant(ctx, dns)
    planned = plan(ctx, OPERATOR, [_user(1), _user(2), _user(1)])
    assert [(i.code, i.command) for i in planned.errors] == [("address.taken", 2)]
    assert "command 0 of this batch" in planned.errors[0].message
    page = queries.users(ctx, OPERATOR, "acme")
    assert page.total == 1  # the super admin only


def test_a_plan_reads_the_store_as_often_for_fifty_users_as_for_five(tmp_path: Path) -> None:
    """The batch is read in sets: its own new users' grants and mailboxes are never looked up."""
    store = SqliteStore(tmp_path / "read.db")
    dns = MemoryDns()
    ctx = _ctx(store, dns=dns)
    _tenant(ctx, dns)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    sa.event.listen(store._engine, "before_cursor_execute", count)
    read = []
    for size in (5, 50):
        statements.clear()
        users = [_user(n + size * 100, personal_mailbox=True) for n in range(size)]
        planned = plan(ctx, OPERATOR, users)
        assert planned.ok, planned.issues
        read.append(len(statements))
    assert read[0] == read[1], read


# -- nothing waits for a plan, and a writer holds no reader up ------------------------------


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_others_read_and_write_while_a_plan_is_held_half_way(tmp_path: Path, kind: str) -> None:
    store: Store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "h.db")
    slow = CountingDns(gate=threading.Event())
    ctx = _ctx(store, dns=slow)
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    pending = run(
        ctx,
        OPERATOR,
        AddDomain(account_id="acme", name="acme.example", admin_email="it@else.example"),
    )
    slow.dns.publish("acme.example", pending.verification_token)
    result: dict[str, Any] = {}
    planner = threading.Thread(
        target=lambda: result.update(plan=plan(ctx, OPERATOR, [VerifyDomain(domain_id=pending.id)]))
    )
    planner.start()
    assert slow.entered.wait(5)  # the plan is inside its read transaction, waiting on DNS
    assert queries.get_account(ctx, OPERATOR, "acme").name == "Acme"
    run(ctx, OPERATOR, CreateAccount(name="Globex"))  # a writer is not held up either
    slow.gate.set()  # type: ignore[union-attr]
    planner.join(5)
    assert result["plan"].ok


def test_a_reader_in_another_connection_reads_while_an_apply_writes(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    dns = MemoryDns()
    ctx = _ctx(SqliteStore(path), dns=dns)
    _tenant(ctx, dns)
    inside, release = threading.Event(), threading.Event()

    def hold(done: int, total: int) -> None:  # called inside the write transaction
        if done == total:
            inside.set()
            release.wait(10)

    planned = plan(ctx, OPERATOR, [_user(n) for n in range(20)])
    writer = threading.Thread(target=lambda: apply(ctx, planned, progress=hold))
    writer.start()
    assert inside.wait(5)
    reader = Context(store=SqliteStore(path, timeout=0.5))
    assert queries.users(reader, OPERATOR, "acme").total == 1  # the committed state only
    release.set()
    writer.join(5)
    assert queries.users(reader, OPERATOR, "acme").total == 21


# -- expensive work runs once ----------------------------------------------------------------


@pytest.mark.parametrize("moved_on", [False, True], ids=["fresh", "validated-again"])
def test_hashes_tokens_and_dns_are_computed_once_per_command(store: Store, moved_on: bool) -> None:
    hasher, tokens, dns = CountingHasher(), CountingTokens(), CountingDns()
    ctx = _ctx(store, hasher=hasher, tokens=tokens, dns=dns)
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    domain = run(
        ctx,
        OPERATOR,
        AddDomain(account_id="acme", name="acme.example", admin_email="it@else.example"),
    )
    dns.dns.publish("acme.example", domain.verification_token)
    password = "a long and good password"
    before = (len(hasher.hashed), tokens.issued, len(dns.asked))
    planned = plan(
        ctx,
        OPERATOR,
        [
            VerifyDomain(domain_id=domain.id),
            InviteUser(account_id="acme", email="guest@else.example"),
            InviteUser(account_id="acme", email="other@else.example"),
        ],
    )
    run(ctx, OPERATOR, CreateAccount(name="Globex"))  # another tenant's change: never stale
    if moved_on:  # a change in the account the plan read
        run(ctx, OPERATOR, CreateClassOfService(account_id="acme", name="Extra"))
    outcome = apply(ctx, planned)
    assert outcome.revalidated is moved_on
    assert (tokens.issued - before[1], len(dns.asked) - before[2]) == (2, 1)
    # Users on the now verified domain: a hash per password, never while planning.
    from provisioning import ActivateDomain  # noqa: PLC0415 - read with the step it belongs to

    run(ctx, OPERATOR, ActivateDomain(domain_id=domain.id))
    hashed_before = len(hasher.hashed)
    planned = plan(
        ctx, OPERATOR, [_user(n, password=password, password_repeat=password) for n in range(3)]
    )
    assert len(hasher.hashed) == hashed_before  # a dry run hashes nothing
    if moved_on:
        run(ctx, OPERATOR, CreateClassOfService(account_id="acme", name="More"))
    users = apply(ctx, planned).results
    assert len(hasher.hashed) - hashed_before == 3
    assert all(FAST_HASHER.verify(u.credentials.password_hash, password) for u in users)
    with ctx.store.snapshot() as uow:
        stored = uow.users.get(users[0].id)
    assert stored.credentials.password_hash == users[0].credentials.password_hash


def test_a_sign_in_verifies_once_and_a_refusal_costs_a_verification_too(ctx: Context) -> None:
    hasher = CountingHasher()
    ctx = attrs.evolve(ctx, hasher=hasher)
    dns = ctx.dns
    assert isinstance(dns, MemoryDns)
    _tenant(ctx, dns)
    password = "a long and good password"
    run(ctx, OPERATOR, _user(1, password=password, password_repeat=password))
    verified = hasher.verified
    anonymous = Actor.anonymous()
    run(ctx, anonymous, Authenticate(username="user1@acme.example", password=password))
    assert hasher.verified - verified == 1
    with pytest.raises(ValidationFailed) as caught:
        run(ctx, anonymous, Authenticate(username="nobody@acme.example", password=password))
    assert caught.value.codes == ["auth.failed"]
    assert hasher.verified - verified == 2  # the unknown user cost a verification as well
    assert password not in str(caught.value)


# -- fresh plans write directly; stale ones are checked again -------------------------------------


def test_a_fresh_plan_is_written_without_being_checked_again(ctx: Context, dns: MemoryDns) -> None:
    _tenant(ctx, dns)
    outcome = apply(ctx, plan(ctx, OPERATOR, [_user(1), _user(2)]))
    assert not outcome.revalidated
    assert [u.username.local for u in outcome.results] == ["user1", "user2"]
    assert queries.users(ctx, OPERATOR, "acme").total == 3


def test_apply_after_a_concurrent_change_refuses_what_no_longer_holds(
    ctx: Context, dns: MemoryDns
) -> None:
    _tenant(ctx, dns)
    planned = plan(ctx, OPERATOR, [_user(1), _user(2)])
    run(ctx, OPERATOR, _user(2))  # someone else takes user2@ meanwhile
    with pytest.raises(ValidationFailed) as caught:
        apply(ctx, planned)
    assert [(i.code, i.command) for i in caught.value.issues if i.blocking] == [
        ("address.taken", 1)
    ]
    assert queries.users(ctx, OPERATOR, "acme").total == 2  # user1 was not written either


def test_apply_after_the_domain_was_deactivated_refuses_every_user(
    ctx: Context, dns: MemoryDns
) -> None:
    _tenant(ctx, dns)
    planned = plan(ctx, OPERATOR, [_user(1), _user(2)])
    with ctx.store.snapshot() as uow:
        (domain,) = uow.domains.of_account("acme")
    run(ctx, OPERATOR, DeactivateDomain(domain_id=domain.id))
    with pytest.raises(ValidationFailed) as caught:
        apply(ctx, planned)
    assert {i.code for i in caught.value.issues if i.blocking} == {"domain.not_active"}


def test_an_old_plan_is_checked_again_at_the_time_it_is_applied(
    ctx: Context, dns: MemoryDns, clock: FixedClock
) -> None:
    _tenant(ctx, dns)
    planned = plan(ctx, OPERATOR, [_user(1)])
    clock.advance(hours=1)
    outcome = apply(ctx, planned)
    assert outcome.revalidated
    assert outcome.results[0].created_at == START + timedelta(hours=1)


@attrs.frozen
class StuckIds:
    def new_id(self) -> str:
        return "acme"


def test_an_id_source_that_repeats_itself_gets_a_conflict_not_a_crash(ctx: Context) -> None:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    with pytest.raises(Conflict) as caught:
        run(attrs.evolve(ctx, ids=StuckIds()), OPERATOR, CreateAccount(name="Globex"))
    # The repeated id is refused by the account's id, or first by the names of its
    # classes of service, which are scoped by that id.
    assert caught.value.code in {"id.taken", "cos.name_taken"}
    assert [a.name for a in _accounts(ctx)] == ["Acme"]


def _accounts(ctx: Context) -> list[Any]:
    with ctx.store.snapshot() as uow:
        return list(uow.accounts.get_many(["acme", "globex"]).values())


# -- authorization per command --------------------------------------------------------------


def test_an_unauthorised_row_is_an_issue_and_every_other_row_is_still_checked(
    ctx: Context, dns: MemoryDns
) -> None:
    _tenant(ctx, dns)
    run(ctx, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    admin = run(
        ctx,
        OPERATOR,
        CreateAdmin(
            account_id="acme",
            address="helpdesk@acme.example",
            primary_email="helpdesk@else.example",
            role_ids=frozenset({"system:administrator"}),
        ),
    )
    planned = plan(
        ctx,
        Actor.user(admin.id),
        [
            _user(1),
            CreateUser(account_id="globex", username="x@acme.example"),
            _user(3, username="not an address"),
            SetGrant(user_id=admin.id, account_id="globex", role_ids=frozenset({"system:owner"})),
            _user(1),
        ],
    )
    assert [(i.code, i.command) for i in planned.errors] == [
        ("permission.denied", 1),
        ("username.invalid", 2),
        ("permission.denied", 3),
        ("address.taken", 4),
    ]
    assert "users.create" in planned.errors[0].message


# -- commands typed at the edge ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        (CreateAccount(name=123), ["value.type"]),  # type: ignore[arg-type]
        (CreateAccount(name=None), ["value.type"]),  # type: ignore[arg-type]
        (CreateAccount(name="Acme", personal_mailbox_on_create="yes"), ["value.type"]),  # type: ignore[arg-type]
        (CreateAccount(name="Ac\x00me"), ["text.invalid"]),
        (CreateAccount(name="Acme\u202e"), ["text.invalid"]),
        (CreateAccount(name="Acme\ud800"), ["text.invalid"]),
        (CreateAccount(name="A" * 257), ["text.too_long"]),
        (CreateClassOfService(name="std", features="imap"), ["value.type"]),
        (CreateClassOfService(name="std", features=5), ["value.type"]),  # type: ignore[arg-type]
        (CreateClassOfService(name="std", features={"imap", 3}), ["value.type"]),  # type: ignore[arg-type]
        (CreateClassOfService(name="std", quota_mb=2**63), ["value.out_of_range"]),
        (CreateClassOfService(name="std", quota_mb=1.5), ["value.type"]),  # type: ignore[arg-type]
        (SetGrant(user_id="u", account_id="a", role_ids="system:member"), ["value.type"]),
        (_user(1, timezone="Europe/" + "x" * 300), ["text.too_long"]),
        (_user(1, aliases=["ok@acme.example", 7]), ["value.type"]),
        (_user(1, password="pass\ud800word", password_repeat="x"), ["text.invalid"]),
    ],
)
def test_commands_with_wrong_types_or_texts_get_typed_issues(
    ctx: Context, dns: MemoryDns, command: Any, codes: list[str]
) -> None:
    _tenant(ctx, dns)
    planned = plan(ctx, OPERATOR, [command])
    assert [i.code for i in planned.errors] == codes
    assert all(i.command == 0 and i.field for i in planned.errors)


@attrs.frozen(kw_only=True)
class _Label(Command[None]):
    """An application's own command: its fields declare their limits in their types."""

    tag: Annotated[str, Text(5)]
    note: Annotated[str, Text(40, multiline=True)] = ""
    count: Annotated[int, Whole(0)] = 0
    plain: str = ""


@pytest.mark.parametrize(
    ("fields", "issues"),
    [
        ({"tag": "short"}, []),
        ({"tag": "longer"}, [("text.too_long", "tag")]),
        ({"tag": "a", "note": "two\nlines\tand a tab"}, []),
        ({"tag": "a\nb"}, [("text.invalid", "tag")]),
        ({"tag": "a", "note": "x" * 41}, [("text.too_long", "note")]),
        ({"tag": "a", "count": -1}, [("value.out_of_range", "count")]),
        ({"tag": "a", "plain": "y" * 257}, [("text.too_long", "plain")]),
        ({"tag": "a", "plain": "y" * 256}, []),
    ],
)
def test_a_fields_limits_are_read_from_its_type_by_both_roads_in(
    fields: dict[str, Any], issues: list[tuple[str, str]]
) -> None:
    """A command built by hand and one from a mapping meet the limits its fields declare."""
    by_hand = [(i.code, i.field) for i in command_issues(_Label(**fields))]
    try:
        command_from(_Label, fields)
        from_data: list[tuple[str, str | None]] = []
    except ValidationFailed as failed:
        from_data = [(i.code, i.field) for i in failed.issues]
    assert by_hand == from_data == issues


@pytest.mark.parametrize(
    ("command", "field", "longest"),
    [
        (CreateUser, "username", 320),
        (CreateUser, "password", 1024),
        (CreateUser, "timezone", 64),
        (CreateUser, "first_name", 256),
        (CreateClassOfService, "description", 2000),
        (CompletePasswordRecovery, "code", 64),
    ],
)
def test_the_librarys_fields_declare_their_limits(
    command: type[Any], field: str, longest: int
) -> None:
    hints = typing.get_type_hints(command, include_extras=True)
    text = text_of(hints[field])
    assert text is not None
    assert text.longest == longest
    assert text.multiline is (field == "description")


def test_characters_a_text_may_not_hold_hide_none_of_the_commands_other_problems(
    ctx: Context, dns: MemoryDns
) -> None:
    _tenant(ctx, dns)
    run(ctx, OPERATOR, _user(1))
    planned = plan(
        ctx,
        OPERATOR,
        [
            # Each such character reaches no store (PostgreSQL refuses a NUL in any text).
            _user(1, first_name="A\x00n", cos_id="gold\x00", aliases=("a\x00@acme.example",)),
            CreateAccount(name="Acme\u202e", account_id="globex"),
            CreateAccount(name="Globex", account_id="globex"),
        ],
    )
    assert [(i.code, i.command, i.field) for i in planned.errors] == [
        ("text.invalid", 0, "cos_id"),
        ("text.invalid", 0, "first_name"),
        ("text.invalid", 0, "aliases[0]"),
        ("address.taken", 0, "username"),
        ("text.invalid", 1, "name"),
    ]  # the refused account never ran: the next one may take its id
    with pytest.raises(ValidationFailed):
        apply(ctx, planned)


def test_a_command_holding_a_secret_is_only_checked_when_it_may_run(
    ctx: Context, dns: MemoryDns
) -> None:
    _tenant(ctx, dns)
    run(ctx, OPERATOR, _user(1, password="Correct horse 1", password_repeat="Correct horse 1"))
    for password in ("Correct horse 1", "a wrong guess"):  # a refused command tells neither
        guess = Authenticate(username="user1@acme.example\x07", password=password)
        assert [i.code for i in plan(ctx, Actor.anonymous(), [guess]).issues] == ["text.invalid"]
    new = _user(2, first_name="B\x07", cos_id="gold", password="short", password_repeat="short")
    assert [i.code for i in plan(ctx, OPERATOR, [new]).issues] == ["text.invalid"]


def test_a_secret_never_appears_in_a_type_issue(ctx: Context) -> None:
    secret = "hunter2\ud800hunter2"
    planned = plan(ctx, Actor.anonymous(), [Authenticate(username="a@b.example", password=secret)])
    assert [i.code for i in planned.errors] == ["text.invalid"]
    assert "hunter2" not in repr(planned) + str(planned.errors[0])


def test_queries_refuse_bad_paging_and_mistyped_arguments(ctx: Context) -> None:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    paging: list[dict[str, Any]] = [{"limit": 10_001}, {"limit": 0}, {"offset": -1}]
    for arguments in paging:
        with pytest.raises(UsageError) as caught:
            queries.users(ctx, OPERATOR, "acme", **arguments)
        assert caught.value.code == "query.page_invalid"
    mistyped: list[dict[str, Any]] = [
        {"search": 5},
        {"limit": "10"},
        {"search": "a\x00"},
        {"limit": 2**63},
    ]
    for bad in mistyped:
        with pytest.raises(UsageError) as caught:
            queries.users(ctx, OPERATOR, "acme", **bad)
        assert caught.value.code == "query.argument_invalid"
    with pytest.raises(UsageError):
        queries.get_account(ctx, OPERATOR, 42)  # type: ignore[arg-type]


# -- progress, reprs and bounded output ------------------------------------------------------


def test_plan_and_apply_report_progress(ctx: Context, dns: MemoryDns) -> None:
    _tenant(ctx, dns)
    seen: list[tuple[int, int]] = []
    planned = plan(ctx, OPERATOR, [_user(n) for n in range(5)], progress=lambda *p: seen.append(p))
    assert seen == [(n, 5) for n in range(1, 6)]
    written: list[tuple[int, int]] = []
    apply(ctx, planned, progress=lambda *p: written.append(p))
    assert written[-1][0] == written[-1][1] > 5  # users and their audit events


def test_reprs_of_a_large_batch_stay_short(ctx: Context, dns: MemoryDns) -> None:
    _tenant(ctx, dns)
    commands = [_user(n, username=f"bad{n}") for n in range(1000)]
    planned = plan(ctx, OPERATOR, commands)
    text = repr(planned)
    assert len(text) < 300
    assert "1000 command(s)" in text
    assert "username.invalid 1000" in text
    html = planned._repr_html_()
    assert html.count("<tr>") == 51  # the header and the first 50
    assert "950 more" in html
    with pytest.raises(ValidationFailed) as caught:
        planned.raise_for_issues()
    assert len(str(caught.value)) < 2500
    assert "and 990 more" in str(caught.value)
    assert len(repr(caught.value)) < 200
    assert len(repr(planned.errors[0])) < 300
    outcome = apply(ctx, plan(ctx, OPERATOR, [_user(n) for n in range(300)]))
    assert len(repr(outcome)) < 300
    assert "CreateUser 300" in repr(outcome)
    assert "<table>" in outcome._repr_html_()


def test_the_outbox_keeps_only_the_latest_messages() -> None:
    outbox = Outbox(limit=3)
    ctx = Context.in_memory(notifier=outbox, dns=MemoryDns(), hasher=FAST_HASHER)
    dns = ctx.dns
    assert isinstance(dns, MemoryDns)
    _tenant(ctx, dns)
    apply(ctx, plan(ctx, OPERATOR, [_user(n) for n in range(10)]))
    assert [m.to for m in outbox.messages] == [f"user{n}@acme.example" for n in (7, 8, 9)]
    assert outbox.dropped > 7


# -- the stores' read transactions --------------------------------------------------------------


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "s.db")
    yield store
    store.close()


def test_a_snapshot_refuses_writes(sqlite_store: SqliteStore) -> None:
    from provisioning.testing.builders import account  # noqa: PLC0415 - the builders are a test helper module

    for store in (sqlite_store, MemoryStore()):
        with store.snapshot() as uow, pytest.raises(UsageError) as caught:
            uow.accounts.add(account())
        assert caught.value.code == "store.read_only"


def test_a_commit_counts_the_scopes_it_changed_and_no_other(sqlite_store: SqliteStore) -> None:
    from provisioning.testing.builders import account  # noqa: PLC0415

    stores: list[Callable[[], Store]] = [lambda: sqlite_store, MemoryStore]
    for make in stores:
        store = make()
        made = account()
        with store.unit_of_work() as uow:
            uow.commit()  # nothing written: nothing counted
        with store.unit_of_work() as uow:
            uow.accounts.add(made)
            uow.commit()
        with store.snapshot() as uow:
            counts = uow.scope_counts([made.id, "other", PLATFORM])
            assert (counts.get(made.id), counts.get("other", 0), counts.get(PLATFORM, 0)) == (
                1,
                0,
                0,
            )
        with store.unit_of_work() as uow:
            uow.accounts.add(attrs.evolve(made, id="a-2", name="Other"))
            uow.rollback()  # rolled back: nothing counted
            uow.accounts.update(attrs.evolve(made, name="Renamed"))
            uow.commit()
        with store.snapshot() as uow:
            assert uow.scope_counts([made.id, "a-2"]) == {made.id: 2}


def test_a_store_without_the_primitives_is_a_usage_error() -> None:
    odd = Context(store=_Wrapped(MemoryStore()))
    with pytest.raises(UsageError) as caught:
        plan(odd, OPERATOR, [CreateAccount(name="Acme")])
    assert caught.value.code == "store.unsupported"


@attrs.define
class _Wrapped:
    """A store whose snapshots are not the library's units of work."""

    inner: MemoryStore

    def snapshot(self) -> Any:
        return _Plain()

    def unit_of_work(self) -> Any:
        return _Plain()

    def count_guesses(self, keys: Any, count: Any, /, *, now: Any) -> None:
        self.inner.count_guesses(keys, count, now=now)

    def guess_states(self, keys: Any, /) -> Any:
        return self.inner.guess_states(keys)

    def claim_messages(self, **claim: Any) -> Any:
        return self.inner.claim_messages(**claim)

    def settle_messages(self, delivered: Any, failed: Any, /, *, now: Any) -> None:
        self.inner.settle_messages(delivered, failed, now=now)

    def requeue_messages(self, ids: Any, /, *, now: Any) -> int:
        return self.inner.requeue_messages(ids, now=now)

    def queued_messages(self, **page: Any) -> Any:
        return self.inner.queued_messages(**page)


class _Plain:
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def scope_counts(self, scopes: Any, /) -> dict[str, int]:
        return dict.fromkeys(scopes, 0)


def test_an_overlay_rolled_back_forgets_even_released_writes(ctx: Context) -> None:
    from provisioning.storage import Overlay  # noqa: PLC0415 - the workflow's own machinery
    from provisioning.testing.builders import account  # noqa: PLC0415

    with ctx.store.snapshot() as base:
        assert isinstance(base, UnitOfWork)
        overlay = Overlay(base)
        with overlay.savepoint():
            overlay.accounts.add(account("a-1", "One"))
        assert overlay.accounts.find("a-1") is not None  # its undo record is released
        overlay.rollback()
        assert overlay.accounts.find("a-1") is None
        assert [c for c in overlay.changes() if c.rows] == []


def test_a_page_of_users_draws_as_an_escaped_html_table(ctx: Context, dns: MemoryDns) -> None:
    _tenant(ctx, dns)
    run(ctx, OPERATOR, _user(1, first_name="<b>Ann</b>", last_name="Lee"))
    html = queries.users(ctx, OPERATOR, "acme", search="user1", limit=1)._repr_html_()
    assert html.startswith("<p>1 to 1 of 1</p><table>")
    assert "&lt;b&gt;Ann&lt;/b&gt; Lee" in html
    assert "<b>Ann</b>" not in html
    empty = queries.users(ctx, OPERATOR, "acme", search="nobody")._repr_html_()
    assert "none of 0" in empty
