"""Security: no escalation, no reach across tenants, brute force, secrets (issue 10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import OPERATOR
from provisioning import (
    Context,
    CreateClassOfService,
    DeleteAdmin,
    DeleteDomain,
    DeleteUser,
    EnrollMfa,
    FinalizeMfa,
    ReinitializeMfa,
    RenameUser,
    ResetPassword,
    SetGrant,
    SetPassword,
    TargetOutranks,
    UpdateAdmin,
    UpdateClassOfService,
    UpdateUser,
    plan,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.commands import Command
from provisioning.model import User
from security_world import Tenant, build_tenant

NEW = "Amber-Orchard-Rivers-31"


@pytest.fixture
def tenant(ctx: Context, dns: MemoryDns) -> Tenant:
    return build_tenant(ctx, dns)


ON_TARGET: dict[str, Callable[[User], Command[Any]]] = {
    "ResetPassword": lambda target: ResetPassword(user_id=target.id),
    "SetPassword": lambda target: SetPassword(user_id=target.id, password=NEW, password_repeat=NEW),
    "EnrollMfa": lambda target: EnrollMfa(user_id=target.id),
    "FinalizeMfa": lambda target: FinalizeMfa(user_id=target.id, code="123456"),
    "ReinitializeMfa": lambda target: ReinitializeMfa(user_id=target.id),
    "UpdateUser": lambda target: UpdateUser(
        user_id=target.id, version=target.version, enabled=False
    ),
    "RenameUser": lambda target: RenameUser(
        user_id=target.id, version=target.version, username=f"renamed-{target.id}@acme.example"
    ),
    "DeleteUser": lambda target: DeleteUser(user_id=target.id),
    "UpdateAdmin": lambda target: UpdateAdmin(
        user_id=target.id, version=target.version, primary_email="evil@home.example"
    ),
    "DeleteAdmin": lambda target: DeleteAdmin(user_id=target.id),
}


@pytest.mark.parametrize("target", ["super", "owner"])
@pytest.mark.parametrize("name", list(ON_TARGET))
def test_an_administrator_cannot_act_on_an_owner(tenant: Tenant, name: str, target: str) -> None:
    command = ON_TARGET[name](tenant.users[target])
    planned = plan(tenant.ctx, tenant.actor("lead"), [command])
    assert [issue.code for issue in planned.errors] == ["permission.target_outranks"]
    with pytest.raises(TargetOutranks):
        run(tenant.ctx, tenant.actor("lead"), command)
    assert tenant.fresh(target).version == tenant.users[target].version


@pytest.mark.parametrize("name", ["ResetPassword", "UpdateUser", "RenameUser", "EnrollMfa"])
def test_only_the_operator_acts_on_the_super_admin_even_among_owners(
    tenant: Tenant, name: str
) -> None:
    command = ON_TARGET[name](tenant.users["super"])
    with pytest.raises(TargetOutranks):
        run(tenant.ctx, tenant.actor("owner"), command)
    run(tenant.ctx, OPERATOR, command)


@pytest.mark.parametrize("name", ["ResetPassword", "UpdateUser", "RenameUser", "SetPassword"])
def test_an_owner_acts_on_an_administrator_and_an_administrator_on_its_equal(
    tenant: Tenant, name: str
) -> None:
    run(tenant.ctx, tenant.actor("admin"), ON_TARGET[name](tenant.users["admin2"]))
    run(tenant.ctx, tenant.actor("owner"), ON_TARGET[name](tenant.users["admin"]))


def test_an_administrator_is_below_the_lead_who_manages_admins(tenant: Tenant) -> None:
    with pytest.raises(TargetOutranks):  # the lead lacks the administrator's other permissions
        run(tenant.ctx, tenant.actor("lead"), ON_TARGET["DeleteAdmin"](tenant.users["admin"]))
    run(tenant.ctx, tenant.actor("owner"), ON_TARGET["DeleteAdmin"](tenant.users["admin"]))


def test_a_disabled_owner_still_outranks_an_administrator(tenant: Tenant) -> None:
    owner = tenant.users["owner"]
    disabled = run(tenant.ctx, OPERATOR, UpdateUser(user_id=owner.id, version=1, enabled=False))
    enable = UpdateUser(user_id=owner.id, version=disabled.version, enabled=True)
    with pytest.raises(TargetOutranks):
        run(tenant.ctx, tenant.actor("lead"), enable)


def test_a_grant_manager_cannot_strip_an_owner_of_its_grants(tenant: Tenant) -> None:
    strip = SetGrant(user_id=tenant.users["owner"].id, account_id="acme")
    with pytest.raises(TargetOutranks):
        run(tenant.ctx, tenant.actor("granter"), strip)
    demote = SetGrant(
        user_id=tenant.users["member"].id,
        account_id="acme",
        permissions=frozenset({"grants.manage"}),
    )
    run(tenant.ctx, tenant.actor("granter"), demote)  # its equals and those below it it may


def test_deleting_a_domain_with_its_users_needs_rank_over_every_one(tenant: Tenant) -> None:
    with tenant.ctx.store.snapshot() as snapshot:
        domain = snapshot.domains.get(tenant.domain_id)
    # The super admin's domain is protected anyway; an owner-level admin on it must be too.
    planned = plan(
        tenant.ctx,
        tenant.actor("admin"),
        [DeleteDomain(domain_id=domain.id, confirm_name="acme.example", remove_dependents=True)],
    )
    outranked = [i for i in planned.errors if i.code == "permission.target_outranks"]
    assert {i.message.partition(" ")[0] for i in outranked} >= {
        "owner2@acme.example",
        "admin@acme.example",
    }


def test_opening_the_admin_panel_of_a_class_of_service_in_use_needs_admins_manage(
    tenant: Tenant,
) -> None:
    cos = run(tenant.ctx, OPERATOR, CreateClassOfService(name="Staff", account_id="acme"))
    member = tenant.users["member"]
    run(tenant.ctx, OPERATOR, UpdateUser(user_id=member.id, version=member.version, cos_id=cos.id))
    planned = plan(
        tenant.ctx,
        tenant.actor("admin"),
        [UpdateClassOfService(cos_id=cos.id, version=1, admin_panel=True)],
    )
    assert [i.code for i in planned.errors] == ["cos.admin_panel_forbidden"]
    run(
        tenant.ctx,
        tenant.actor("owner"),
        UpdateClassOfService(cos_id=cos.id, version=1, admin_panel=True),
    )
