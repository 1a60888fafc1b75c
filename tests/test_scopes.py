"""Freshness by what a plan read: writers in different tenants never make each other check again.

A plan records the change scopes it read (its tenant, the platform, the
look-up buckets of what it looked for) and `apply` writes it as it is when
none of them moved. These tests count the applies that checked again, on
every store; and the moves that would break the rule: a change in the
tenant read, a look-alike claimed by another tenant meanwhile, one value
claimed by two tenants at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from conftest import OPERATOR, active_domain
from provisioning import (
    Actor,
    AddDomain,
    Context,
    CreateAccount,
    CreateAdmin,
    CreateClassOfService,
    CreateUser,
    Plan,
    UpdateAccount,
    ValidationFailed,
    apply,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.adapters.sql._store import SqlUnitOfWork
from provisioning.model import skeleton
from provisioning.storage import (
    PLATFORM,
    TABLES,
    Overlay,
    UnitOfWork,
    change_scopes,
    lookup_scope,
)
from provisioning.storage._scopes import ACCOUNT_VALUED, BUCKETED, REFERENCES


def _tenant(ctx: Context, dns: MemoryDns, name: str) -> Actor:
    """The account `name` with its active domain `name.example` and an administrator."""
    run(ctx, OPERATOR, CreateAccount(name=name.title(), account_id=name))
    active_domain(ctx, dns, name, f"{name}.example", admin_email="it@else.example")
    admin = run(
        ctx,
        OPERATOR,
        CreateAdmin(
            account_id=name,
            address=f"admin@{name}.example",
            primary_email="admin@else.example",
            role_ids=frozenset({"system:administrator"}),
        ),
    )
    return Actor.user(admin.id)


def _user(account: str, local: str) -> CreateUser:
    return CreateUser(
        account_id=account, username=f"{local}@{account}.example", first_name="Ann", last_name="Lee"
    )


def test_two_tenants_write_fresh_plans_without_checking_again(ctx: Context, dns: MemoryDns) -> None:
    acme, globex = _tenant(ctx, dns, "acme"), _tenant(ctx, dns, "globex")
    rechecked = 0
    for n in range(5):  # interleaved: each plan is made before the other tenant's apply
        ours = plan(ctx, acme, [_user("acme", f"ann{n}")])
        theirs = plan(ctx, globex, [_user("globex", f"bob{n}")])
        rechecked += apply(ctx, theirs).revalidated
        rechecked += apply(ctx, ours).revalidated
    assert rechecked == 0


def test_a_change_in_the_tenant_a_plan_read_makes_its_apply_check_again(
    ctx: Context, dns: MemoryDns
) -> None:
    acme = _tenant(ctx, dns, "acme")
    planned = plan(ctx, acme, [_user("acme", "ann")])
    run(ctx, OPERATOR, CreateClassOfService(account_id="acme", name="Gold"))
    assert apply(ctx, planned).revalidated
    # A change the check again finds fatal is refused, and nothing is written.
    planned = plan(ctx, acme, [_user("acme", "bob")])
    run(ctx, acme, _user("acme", "bob"))
    with pytest.raises(ValidationFailed) as taken:
        apply(ctx, planned)
    assert [issue.code for issue in taken.value.issues if issue.blocking] == ["address.taken"]


def test_the_operator_moves_what_it_changes_and_nothing_else(ctx: Context, dns: MemoryDns) -> None:
    acme = _tenant(ctx, dns, "acme")
    planned = plan(ctx, acme, [_user("acme", "ann")])
    reads = planned._work.reads
    assert reads is not None
    assert "acme" in reads
    assert PLATFORM not in reads  # it read no row of the platform's
    run(ctx, OPERATOR, CreateClassOfService(name="Platform wide", system=True))
    run(ctx, OPERATOR, CreateAccount(name="Globex"))
    assert not apply(ctx, planned).revalidated
    planned = plan(ctx, acme, [_user("acme", "bob")])
    with ctx.store.snapshot() as uow:
        version = uow.accounts.get("acme").version
    run(ctx, OPERATOR, UpdateAccount(account_id="acme", version=version, name="Acme Inc"))
    assert apply(ctx, planned).revalidated  # the operator changed the tenant the plan read


def _domain(ctx: Context, account: str, name: str) -> Plan:
    """The operator's plan to add the domain `name` to `account`."""
    return plan(
        ctx, OPERATOR, [AddDomain(account_id=account, name=name, admin_email="it@x.example")]
    )


def _two_accounts(ctx: Context) -> None:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    run(ctx, OPERATOR, CreateAccount(name="Globex", account_id="globex"))


def test_a_look_alike_claimed_by_another_tenant_meanwhile_is_found(ctx: Context) -> None:
    _two_accounts(ctx)
    ours = _domain(ctx, "acme", "paypal.example")
    theirs = _domain(ctx, "globex", "paypa1.example")
    assert ours.ok
    assert theirs.ok  # each looked, and found no domain that looks like its own
    assert not apply(ctx, theirs).revalidated
    with pytest.raises(ValidationFailed) as caught:
        apply(ctx, ours)  # the bucket of the look-alike moved: checked again, and refused
    assert [issue.code for issue in caught.value.issues if issue.blocking] == [
        "domain.confusable",
        "address.confusable",  # its postmaster too
    ]


def test_one_value_claimed_by_two_tenants_has_one_winner(ctx: Context) -> None:
    _two_accounts(ctx)
    ours = _domain(ctx, "acme", "shared.example")
    theirs = _domain(ctx, "globex", "shared.example")
    apply(ctx, theirs)
    with pytest.raises(ValidationFailed) as caught:
        apply(ctx, ours)  # the unique index refuses it; checked again, it says why
    assert [issue.code for issue in caught.value.issues if issue.blocking] == ["domain.taken"]


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_racing_writers_of_one_value_in_two_tenants_have_exactly_one_winner(
    ctx: Context,
) -> None:
    _two_accounts(ctx)

    def add(account: str, name: str) -> Callable[[], object]:
        return lambda: run(
            ctx, OPERATOR, AddDomain(account_id=account, name=name, admin_email="it@else.example")
        )

    for n in range(10):
        name = f"race{n}.example"
        outcomes = _race([add("acme", name), add("globex", name)])
        assert sorted(type(o).__name__ for o in outcomes) == ["Domain", "ValidationFailed"]


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_racing_writers_in_their_own_tenants_never_check_again(
    ctx: Context, dns: MemoryDns
) -> None:
    crew = [(name, _tenant(ctx, dns, name)) for name in ("acme", "globex", "initech")]

    def worker(account: str, actor: Actor) -> Callable[[], int]:
        def go() -> int:
            return sum(
                apply(ctx, plan(ctx, actor, [_user(account, f"u{n}")])).revalidated
                for n in range(8)
            )

        return go

    assert _race([worker(account, actor) for account, actor in crew]) == [0, 0, 0]


def _race(works: list[Callable[[], Any]]) -> list[Any]:
    """Run `works` in threads released at once; what each returned, or raised."""
    start = threading.Barrier(len(works))
    outcomes: list[Any] = [None] * len(works)

    def go(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = works[index]()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[index] = exc

    threads = [threading.Thread(target=go, args=(n,)) for n in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


# -- what is a scope ------------------------------------------------------------------------


def test_every_look_up_has_a_scope_or_a_unique_index() -> None:
    """A new key must be placed: else a plan could miss another tenant's write."""
    for table in TABLES.all():
        for key in table.keys:
            kinds = [
                key.namespace in ACCOUNT_VALUED,
                key.namespace in BUCKETED,
                key.namespace in REFERENCES,
                key.unique,
            ]
            assert kinds.count(True) == 1, key.namespace


def test_an_account_valued_look_up_reads_that_account_and_the_star_the_platform() -> None:
    assert lookup_scope("user.account", "acme") == "acme"
    assert lookup_scope("role.account", "*") == PLATFORM
    assert lookup_scope("user.address", "ann@acme.example") is None  # a unique index decides
    bucket = lookup_scope("user.skeleton", "ann@acme.example")
    assert bucket is not None
    assert bucket.startswith("~")
    assert bucket == lookup_scope("user.skeleton", "ann@acme.example")


def test_a_batch_writes_the_scopes_of_its_rows_and_claims_none_only_it_knows(
    ctx: Context, dns: MemoryDns
) -> None:
    acme = _tenant(ctx, dns, "acme")
    planned = plan(ctx, acme, [_user("acme", "ann")])
    changes = planned._work.changes
    written = change_scopes(changes)
    assert "acme" in written
    assert lookup_scope("user.skeleton", skeleton("ann@acme.example")) in written
    made = plan(ctx, OPERATOR, [CreateAccount(name="New", account_id="new")])
    assert "new" in change_scopes(made._work.changes)
    assert "new" not in change_scopes(made._work.changes, claimed=True)  # nobody knows it yet


def test_an_overlay_records_what_it_read(ctx: Context, dns: MemoryDns) -> None:
    _tenant(ctx, dns, "acme")
    with ctx.store.snapshot() as base:
        assert isinstance(base, UnitOfWork)
        overlay = Overlay(base)
        overlay.accounts.get("acme")
        overlay.users.by_address("nobody@acme.example")
        assert overlay.reads == {"acme"}  # the address: a unique index decides
        overlay.users.with_skeleton("nobody@acme.example")
        assert lookup_scope("user.skeleton", "nobody@acme.example") in overlay.reads
        overlay.accounts.every()
        assert "*everything" in overlay.reads  # a whole table: never written as planned


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_a_row_gone_behind_the_counters_is_caught_by_its_foreign_key(
    ctx: Context, dns: MemoryDns
) -> None:
    acme = _tenant(ctx, dns, "acme")
    gold = run(ctx, OPERATOR, CreateClassOfService(account_id="acme", name="Gold"))
    planned = plan(ctx, acme, [attrs.evolve(_user("acme", "ann"), cos_id=gold.id)])
    assert planned.ok
    before = queries.users(ctx, OPERATOR, "acme").total
    with ctx.store.unit_of_work() as uow:  # removed by hand, in SQL: no counter moves
        assert isinstance(uow, SqlUnitOfWork)
        gone = sa.text("DELETE FROM classes_of_service WHERE id = :id")
        uow.connection(write=True).execute(gone, {"id": gold.id})
        uow.commit()
    with pytest.raises(ValidationFailed) as caught:
        apply(ctx, planned)  # written as planned, refused at commit, checked again: gone
    assert [issue.code for issue in caught.value.issues if issue.blocking] == ["cos.not_found"]
    assert queries.users(ctx, OPERATOR, "acme").total == before  # nothing of it written
