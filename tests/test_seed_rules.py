"""The seeds' rules, on every store: classes of service, renames, the address namespace ..."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import OPERATOR
from provisioning import (
    Actor,
    Context,
    CreateClassOfService,
    CreateUser,
    DeleteClassOfService,
    UpdateAccount,
    UpdateClassOfService,
    UpdateDomain,
    UpdateUser,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.commands import Command
from provisioning.model import SYSTEM_ROLES, Account, User
from security_world import Tenant, build_tenant

PASSWORD = "Blue-Lantern-Walks-42"
ADMINISTRATOR = SYSTEM_ROLES["system:administrator"].permissions


@pytest.fixture
def tenant(ctx: Context, dns: MemoryDns) -> Tenant:
    return build_tenant(ctx, dns)


def codes(tenant: Tenant, command: Command[Any], actor: Actor = OPERATOR) -> list[str]:
    return [issue.code for issue in plan(tenant.ctx, actor, [command]).errors]


def acme(tenant: Tenant) -> Account:
    return queries.get_account(tenant.ctx, OPERATOR, "acme")


def new_user(tenant: Tenant, username: str, **options: Any) -> User:
    created: User = run(
        tenant.ctx,
        OPERATOR,
        CreateUser(
            account_id="acme",
            username=username,
            password=PASSWORD,
            password_repeat=PASSWORD,
            alternate_email="someone@home.example",
            **options,
        ),
    )
    return created


# -- every user has a class of service ------------------------------------------------------


def test_an_account_starts_with_a_users_and_an_admins_class_of_service(tenant: Tenant) -> None:
    account = acme(tenant)
    own = {cos.id: cos for cos in queries.classes_of_service(tenant.ctx, OPERATOR, "acme")}
    assert account.default_cos_id in own
    assert account.admin_cos_id in own
    users, admins = own[account.default_cos_id], own[account.admin_cos_id]
    assert (users.name, users.admin_panel) == ("Users", False)
    assert (admins.name, admins.admin_panel) == ("Administrators", True)


def test_a_new_user_takes_the_domains_default_class_of_service_else_the_accounts(
    tenant: Tenant,
) -> None:
    assert new_user(tenant, "ann@acme.example").cos_id == acme(tenant).default_cos_id
    gold = run(tenant.ctx, OPERATOR, CreateClassOfService(name="Gold", account_id="acme"))
    domain = queries.get_domain(tenant.ctx, OPERATOR, tenant.domain_id)
    run(
        tenant.ctx,
        OPERATOR,
        UpdateDomain(domain_id=domain.id, version=domain.version, default_cos_id=gold.id),
    )
    assert new_user(tenant, "bob@acme.example").cos_id == gold.id


def test_a_users_class_of_service_cannot_be_taken_away(tenant: Tenant) -> None:
    member = tenant.fresh("member")
    command = UpdateUser(user_id=member.id, version=member.version, cos_id=None)
    assert codes(tenant, command) == ["cos.required"]


def test_the_accounts_own_classes_of_service_stay(tenant: Tenant) -> None:
    account = acme(tenant)
    assert account.default_cos_id is not None
    assert account.admin_cos_id is not None
    for cos_id in (account.default_cos_id, account.admin_cos_id):
        assert "cos.account_default" in codes(tenant, DeleteClassOfService(cos_id=cos_id))
    closing = UpdateClassOfService(cos_id=account.admin_cos_id, version=1, admin_panel=False)
    assert codes(tenant, closing) == ["cos.account_default"]
    opening = UpdateClassOfService(cos_id=account.default_cos_id, version=1, admin_panel=True)
    assert codes(tenant, opening) == ["cos.admin_panel_default"]
    to_admins = UpdateAccount(
        account_id="acme", version=account.version, default_cos_id=account.admin_cos_id
    )
    assert codes(tenant, to_admins) == ["cos.admin_panel_default"]
    gold = run(tenant.ctx, OPERATOR, CreateClassOfService(name="Gold", account_id="acme"))
    moved = run(
        tenant.ctx,
        OPERATOR,
        UpdateAccount(account_id="acme", version=account.version, default_cos_id=gold.id),
    )
    assert moved.default_cos_id == gold.id
    assert new_user(tenant, "cy@acme.example").cos_id == gold.id


# -- the admin class of service makes administrators -----------------------------------------


def _give_cos(tenant: Tenant, actor: str, user: str, cos_id: str | None) -> User:
    target = tenant.fresh(user)
    changed: User = run(
        tenant.ctx,
        tenant.actor(actor),
        UpdateUser(user_id=target.id, version=target.version, cos_id=cos_id),
    )
    return changed


def test_the_admin_class_of_service_makes_an_administrator_and_taking_it_unmakes_one(
    tenant: Tenant,
) -> None:
    account = acme(tenant)
    member = tenant.fresh("member")
    assert queries.permissions(tenant.ctx, tenant.actor("member"), "acme") == frozenset()

    promoted = _give_cos(tenant, "owner", "member", account.admin_cos_id)
    assert promoted.admin
    held = queries.permissions(tenant.ctx, tenant.actor("member"), "acme")
    assert held == ADMINISTRATOR

    demoted = _give_cos(tenant, "owner", "member", account.default_cos_id)
    assert not demoted.admin
    assert queries.permissions(tenant.ctx, tenant.actor("member"), "acme") == frozenset()
    log = queries.audit_log(tenant.ctx, OPERATOR, "acme", entity_id=member.id)
    details = [event.detail for event in log]
    assert "became an administrator (Administrators)" in details
    assert "is no longer an administrator (Users)" in details


@pytest.mark.parametrize("actor", ["admin", "lead"])
def test_only_who_holds_what_an_administrator_holds_and_admins_manage_makes_one(
    tenant: Tenant, actor: str
) -> None:
    """`admin` lacks `admins.manage`; `lead` has it but not the administrator's permissions."""
    account = acme(tenant)
    member = tenant.fresh("member")
    command = UpdateUser(user_id=member.id, version=member.version, cos_id=account.admin_cos_id)
    assert codes(tenant, command, tenant.actor(actor)) == ["cos.admin_panel_forbidden"]


def test_taking_the_admin_class_of_service_away_is_guarded_too(tenant: Tenant) -> None:
    account = acme(tenant)
    _give_cos(tenant, "owner", "member", account.admin_cos_id)
    member = tenant.fresh("member")
    command = UpdateUser(user_id=member.id, version=member.version, cos_id=account.default_cos_id)
    assert codes(tenant, command, tenant.actor("admin")) == ["cos.admin_panel_forbidden"]


def test_opening_the_panel_of_a_class_in_use_makes_its_holders_administrators(
    tenant: Tenant,
) -> None:
    gold = run(tenant.ctx, OPERATOR, CreateClassOfService(name="Gold", account_id="acme"))
    ann = new_user(tenant, "ann@acme.example", cos_id=gold.id)
    assert not ann.admin
    run(tenant.ctx, OPERATOR, UpdateClassOfService(cos_id=gold.id, version=1, admin_panel=True))
    assert tenant.fresh_by_id(ann.id).admin
    assert queries.permissions(tenant.ctx, Actor.user(ann.id), "acme") == ADMINISTRATOR
    run(tenant.ctx, OPERATOR, UpdateClassOfService(cos_id=gold.id, version=2, admin_panel=False))
    assert not tenant.fresh_by_id(ann.id).admin
    assert queries.permissions(tenant.ctx, Actor.user(ann.id), "acme") == frozenset()
