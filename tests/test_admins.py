"""Administrators, and who may run the domain and admin commands (the authorization matrix)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest

from conftest import OPERATOR, active_domain
from provisioning import (
    ActivateDomain,
    Actor,
    AddDomain,
    Context,
    CreateAccount,
    CreateAdmin,
    DeactivateDomain,
    DeleteAccount,
    DeleteAdmin,
    DeleteDomain,
    NotFound,
    PermissionDenied,
    UnverifyDomain,
    UpdateAdmin,
    UpdateDomain,
    VerifyDomain,
    plan,
    run,
)
from provisioning.adapters.memory import MemoryDns, Outbox
from provisioning.commands import Command
from provisioning.model import Domain, Role, User, Username


def codes(ctx: Context, actor: Actor, *commands: Command[Any]) -> list[str]:
    return [issue.code for issue in plan(ctx, actor, commands).errors]


def find(ctx: Context, address: str) -> User:
    with ctx.store.unit_of_work() as uow:
        user = uow.users.by_address(Username.parse(address))
    assert user is not None
    return user


@attrs.frozen
class World:
    ctx: Context
    domain: Domain
    pending: Domain
    verified: Domain
    actors: dict[str, Actor]
    member_admin: User


@pytest.fixture
def world(ctx: Context, dns: MemoryDns) -> World:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    run(ctx, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    domain = active_domain(
        ctx, dns, "acme", "acme.example", require_2fa=True, admin_email="it@acme-holding.example"
    )
    active_domain(
        ctx,
        dns,
        "globex",
        "globex.example",
        require_2fa=True,
        admin_email="it@globex-holding.example",
    )
    with ctx.store.unit_of_work() as uow:
        uow.roles.add(
            Role(
                id="people",
                name="people",
                account_id="acme",
                permissions=frozenset({"admins.manage"}),
            )
        )
        uow.users.add(
            User(
                id="plain",
                username=Username.parse("plain@acme.example"),
                created_at=ctx.clock.now(),
                updated_at=ctx.clock.now(),
                account_id="acme",
                domain_id=domain.id,
                corporate=True,
            )
        )
        uow.commit()
    with_role = run(
        ctx,
        OPERATOR,
        CreateAdmin(
            account_id="acme",
            address="ops@acme.example",
            primary_email="ops@home.example",
            role_ids={"system:administrator", "people"},
        ),
    )
    member = run(
        ctx,
        OPERATOR,
        CreateAdmin(
            account_id="acme",
            address="intern@acme.example",
            primary_email="intern@home.example",
            role_ids={"system:member"},
        ),
    )
    pending = run(
        ctx, OPERATOR, AddDomain(account_id="acme", name="pending.example", require_2fa=True)
    )
    dns.publish("pending.example", pending.verification_token)
    verified = run(
        ctx, OPERATOR, AddDomain(account_id="acme", name="verified.example", require_2fa=True)
    )
    dns.publish("verified.example", verified.verification_token)
    verified = run(ctx, OPERATOR, VerifyDomain(domain_id=verified.id))
    actors = {
        "platform operator": OPERATOR,
        "super admin": Actor.user(find(ctx, "postmaster@acme.example").id),
        "admin with role": Actor.user(with_role.id),
        "admin without role": Actor.user(member.id),
        "user of the account": Actor.user("plain"),
        "admin of another account": Actor.user(find(ctx, "postmaster@globex.example").id),
    }
    return World(ctx, domain, pending, verified, actors, member)


ALLOWED = {"platform operator", "super admin", "admin with role"}
COMMANDS: dict[str, tuple[Callable[[World], Command[Any]], set[str]]] = {
    "AddDomain": (
        lambda _: AddDomain(account_id="acme", name="new.example", require_2fa=True),
        ALLOWED,
    ),
    "UpdateDomain": (
        lambda w: UpdateDomain(
            domain_id=w.domain.id, version=w.domain.version, captcha_on_login=True
        ),
        ALLOWED,
    ),
    "VerifyDomain": (lambda w: VerifyDomain(domain_id=w.pending.id), ALLOWED),
    "ActivateDomain": (lambda w: ActivateDomain(domain_id=w.verified.id), ALLOWED),
    "DeactivateDomain": (lambda w: DeactivateDomain(domain_id=w.domain.id), ALLOWED),
    "UnverifyDomain": (lambda w: UnverifyDomain(domain_id=w.verified.id), ALLOWED),
    "DeleteDomain": (
        lambda w: DeleteDomain(domain_id=w.pending.id, confirm_name="pending.example"),
        ALLOWED,
    ),
    "CreateAdmin": (
        lambda _: CreateAdmin(
            account_id="acme",
            address="new@acme.example",
            primary_email="new@home.example",
            role_ids={"system:member"},
        ),
        ALLOWED,
    ),
    "UpdateAdmin": (
        lambda w: UpdateAdmin(
            user_id=w.member_admin.id,
            version=w.member_admin.version,
            primary_email="x@home.example",
        ),
        ALLOWED,
    ),
    "DeleteAdmin": (lambda w: DeleteAdmin(user_id=w.member_admin.id), ALLOWED),
    "DeleteAccount": (
        lambda _: DeleteAccount(account_id="acme", confirm_name="Acme"),
        {"platform operator", "super admin"},
    ),
}


# What another account's administrator is told does not exist, rather than refused.
HIDDEN = {
    "UpdateAdmin": "user",
    "DeleteAdmin": "user",
    **dict.fromkeys(
        [
            "UpdateDomain",
            "VerifyDomain",
            "ActivateDomain",
            "DeactivateDomain",
            "UnverifyDomain",
            "DeleteDomain",
        ],
        "domain",
    ),
}


@pytest.mark.parametrize(
    "principal",
    [
        "platform operator",
        "super admin",
        "admin with role",
        "admin without role",
        "user of the account",
        "admin of another account",
    ],
)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_authorization_matrix(world: World, name: str, principal: str) -> None:
    make, allowed = COMMANDS[name]
    actor = world.actors[principal]
    with world.ctx.store.unit_of_work() as uow:
        before = len(uow.audit.events())
    if principal in allowed:
        run(world.ctx, actor, make(world))
        with world.ctx.store.unit_of_work() as uow:
            mine = [e for e in uow.audit.events()[before:] if e.actor == str(actor)]
        assert mine
        assert {e.action for e in mine} == {name}
    else:
        planned = plan(world.ctx, actor, [make(world)])
        # To another account, its administrators are as absent as ids nobody holds.
        hidden = HIDDEN.get(name) if principal == "admin of another account" else None
        code = f"{hidden}.not_found" if hidden else "permission.denied"
        assert [(i.code, i.command) for i in planned.errors] == [(code, 0)]
        with pytest.raises(NotFound if hidden else PermissionDenied):
            run(world.ctx, actor, make(world))
        with world.ctx.store.unit_of_work() as uow:
            assert len(uow.audit.events()) == before


def test_an_admin_is_created_with_its_roles_and_welcomed(world: World, outbox: Outbox) -> None:
    outbox.clear()
    admin = run(
        world.ctx,
        world.actors["admin with role"],
        CreateAdmin(
            account_id="acme",
            address="Helpdesk@ACME.example",
            primary_email="helpdesk@home.example",
            role_ids={"system:administrator"},
        ),
    )
    assert (str(admin.username), admin.admin, admin.super_admin, admin.corporate) == (
        "Helpdesk@acme.example",
        True,
        False,
        True,
    )
    assert admin.mfa.required  # acme.example requires 2FA
    with world.ctx.store.unit_of_work() as uow:
        grant = uow.grants.for_scope(admin.id, "acme", None)
    assert grant is not None
    assert grant.role_ids == {"system:administrator"}
    assert [(m.template, m.to) for m in outbox.messages] == [
        ("admin.created", "helpdesk@home.example")
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"address": "not-an-address"}, ["username.invalid"]),
        ({"address": "ops@ACME.example"}, ["address.taken"]),
        ({"address": "boss@globex.example"}, ["domain.not_in_account"]),
        ({"address": "boss@unknown.example"}, ["domain.not_in_account"]),
        ({"address": "boss@pending.example"}, ["domain.not_active"]),
        ({"primary_email": "boss@acme.example"}, ["admin.primary_email_same"]),
        ({"primary_email": "boss@"}, ["email.invalid"]),
        ({"role_ids": frozenset()}, ["admin.role_required"]),
        ({"role_ids": frozenset({"nope"})}, ["role.not_found"]),
        ({"user_id": "ops id"}, ["id.invalid"]),
    ],
)
def test_admin_input_rules(world: World, changes: dict[str, Any], expected: list[str]) -> None:
    command = CreateAdmin(
        account_id="acme",
        address="boss@acme.example",
        primary_email="boss@home.example",
        role_ids={"system:member"},
    )
    assert codes(world.ctx, OPERATOR, attrs.evolve(command, **changes)) == expected


def test_a_role_of_another_account_is_not_found(world: World) -> None:
    with world.ctx.store.unit_of_work() as uow:
        uow.roles.add(Role(id="globex-role", name="g", account_id="globex"))
        uow.commit()
    command = CreateAdmin(
        account_id="acme",
        address="boss@acme.example",
        primary_email="boss@home.example",
        role_ids={"globex-role"},
    )
    assert codes(world.ctx, OPERATOR, command) == ["role.not_found"]


def test_nobody_grants_more_than_they_hold(world: World) -> None:
    command = CreateAdmin(
        account_id="acme",
        address="boss@acme.example",
        primary_email="boss@home.example",
        role_ids={"system:owner"},
    )
    assert codes(world.ctx, world.actors["admin with role"], command) == ["grant.escalation"]
    assert codes(world.ctx, world.actors["super admin"], command) == []


def test_the_super_admin_keeps_its_roles_and_its_life(world: World) -> None:
    postmaster = find(world.ctx, "postmaster@acme.example")
    super_admin = world.actors["super admin"]
    assert codes(world.ctx, super_admin, DeleteAdmin(user_id=postmaster.id)) == [
        "admin.super_admin_protected"
    ]
    demote = UpdateAdmin(
        user_id=postmaster.id, version=postmaster.version, role_ids={"system:member"}
    )
    assert codes(world.ctx, OPERATOR, demote) == ["admin.super_admin_protected"]
    moved = run(
        world.ctx,
        super_admin,
        UpdateAdmin(
            user_id=postmaster.id,
            version=postmaster.version,
            primary_email="new-it@acme-holding.example",
        ),
    )
    assert str(moved.primary_email) == "new-it@acme-holding.example"
    same = UpdateAdmin(
        user_id=postmaster.id, version=moved.version, primary_email="postmaster@acme.example"
    )
    assert codes(world.ctx, OPERATOR, same) == ["admin.primary_email_same"]


def test_roles_of_an_admin_can_change(world: World) -> None:
    admin = world.member_admin
    changed = run(
        world.ctx,
        OPERATOR,
        UpdateAdmin(user_id=admin.id, version=admin.version, role_ids={"system:administrator"}),
    )
    assert changed.version == admin.version + 1
    with world.ctx.store.unit_of_work() as uow:
        grant = uow.grants.for_scope(admin.id, "acme", None)
    assert grant is not None
    assert grant.role_ids == {"system:administrator"}


def test_only_administrators_are_managed_as_such(world: World) -> None:
    plain = find(world.ctx, "plain@acme.example")
    assert codes(world.ctx, OPERATOR, DeleteAdmin(user_id="plain")) == ["admin.not_admin"]
    assert codes(
        world.ctx,
        OPERATOR,
        UpdateAdmin(user_id="plain", version=plain.version, primary_email="p@home.example"),
    ) == ["admin.not_admin"]
    assert codes(world.ctx, OPERATOR, DeleteAdmin(user_id="ghost")) == ["user.not_found"]


def test_deleting_an_admin_removes_its_grants(world: World) -> None:
    run(
        world.ctx,
        OPERATOR,
        DeleteAdmin(user_id=world.member_admin.id, version=world.member_admin.version),
    )
    with world.ctx.store.unit_of_work() as uow:
        assert uow.users.find(world.member_admin.id) is None
        assert uow.grants.of_user(world.member_admin.id) == []
