"""Permissions, roles, grants and mailboxes, with the authorization matrix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from access_world import World, build, user
from conftest import OPERATOR
from provisioning import (
    Actor,
    Context,
    CreateMailbox,
    CreatePersonalMailbox,
    CreateRole,
    DeleteMailbox,
    DeleteRole,
    InviteUser,
    NotFound,
    PermissionDenied,
    RenameMailbox,
    ResendInvitation,
    RevokeInvitation,
    SetGrant,
    UpdateAccount,
    UpdateRole,
    ValidationFailed,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.commands import Command
from provisioning.model import PERMISSIONS, SYSTEM_ROLES, MailboxKind, Scope


@pytest.fixture
def world(ctx: Context, dns: MemoryDns) -> World:
    return build(ctx, dns)


def codes(world: World, command: Command[Any], actor: str = "platform") -> list[str]:
    return [i.code for i in plan(world.ctx, world.actors[actor], [command]).errors]


def held(world: World, name: str, mailbox: str | None = None) -> frozenset[str]:
    return queries.permissions(world.ctx, world.actors[name], "acme", mailbox)


def test_every_permission_has_a_scope_and_every_system_role_one_scope() -> None:
    assert {p.scope for p in PERMISSIONS.values()} == {Scope.ACCOUNT, Scope.MAILBOX}
    for role in SYSTEM_ROLES.values():
        assert role.system
        assert {PERMISSIONS[name].scope for name in role.permissions} <= {role.scope}
    assert {r.name for r in SYSTEM_ROLES.values()} == {
        "owner",
        "administrator",
        "member",
        "support",
        "manager",
        "agent",
        "viewer",
    }


def test_effective_permissions_are_the_union_of_roles_and_grants(world: World) -> None:
    ann = world.users["ann"]
    run(
        world.ctx,
        OPERATOR,
        CreateRole(
            account_id="acme", name="auditors", permissions={"audit.read"}, role_id="auditors"
        ),
    )
    run(
        world.ctx,
        OPERATOR,
        SetGrant(
            user_id=ann.id, account_id="acme", role_ids={"auditors"}, permissions={"users.read"}
        ),
    )
    assert held(world, "ann") == {"audit.read", "users.read"}
    run(
        world.ctx,
        OPERATOR,
        SetGrant(user_id=ann.id, account_id="acme", mailbox_id="sales", role_ids={"system:viewer"}),
    )
    assert held(world, "ann", "sales") == {"mailbox.read"}
    assert held(world, "ann", "support") == frozenset()


def test_a_role_edit_reaches_every_holder(world: World) -> None:
    ann = world.users["ann"]
    role = run(
        world.ctx,
        OPERATOR,
        CreateRole(account_id="acme", name="auditors", permissions={"audit.read"}),
    )
    run(world.ctx, OPERATOR, SetGrant(user_id=ann.id, account_id="acme", role_ids={role.id}))
    role = queries.get_role(world.ctx, OPERATOR, role.id)  # its version moved with its members
    run(
        world.ctx,
        OPERATOR,
        UpdateRole(role_id=role.id, version=role.version, permissions={"audit.read", "users.read"}),
    )
    assert held(world, "ann") == {"audit.read", "users.read"}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (CreateRole(account_id="acme", name="", permissions={"audit.read"}), ["role.name_invalid"]),
        (CreateRole(account_id="acme", name="Owner"), ["role.name_taken"]),
        (CreateRole(account_id="acme", name="x", permissions={"mail.fly"}), ["permission.unknown"]),
        (
            CreateRole(account_id="acme", name="x", permissions={"mailbox.read"}),
            ["permission.wrong_scope"],
        ),
        (
            CreateRole(
                account_id="acme", name="x", scope=Scope.MAILBOX, permissions={"audit.read"}
            ),
            ["permission.wrong_scope"],
        ),
        (
            CreateRole(account_id="acme", name="x", role_id="system:owner"),
            ["id.taken"],
        ),
    ],
)
def test_role_rules(world: World, command: CreateRole, expected: list[str]) -> None:
    assert codes(world, command) == expected


def test_a_role_cannot_hold_more_than_its_maker(world: World) -> None:
    command = CreateRole(account_id="acme", name="superpowers", permissions={"accounts.delete"})
    assert codes(world, command, "holder") == ["grant.escalation"]
    assert (
        codes(
            world,
            CreateRole(account_id="acme", name="helpers", permissions={"invitations.send"}),
            "holder",
        )
        == []
    )


def test_a_role_in_use_is_deleted_only_when_detached(world: World) -> None:
    ann = world.users["ann"]
    role = run(
        world.ctx,
        OPERATOR,
        CreateRole(account_id="acme", name="auditors", permissions={"audit.read"}),
    )
    run(
        world.ctx,
        OPERATOR,
        SetGrant(user_id=ann.id, account_id="acme", role_ids={role.id}, permissions={"users.read"}),
    )
    assert codes(world, DeleteRole(role_id=role.id)) == ["role.in_use"]
    run(world.ctx, OPERATOR, DeleteRole(role_id=role.id, detach=True))
    assert held(world, "ann") == {"users.read"}
    with world.ctx.store.unit_of_work() as uow:
        assert uow.roles.find(role.id) is None


def test_system_roles_are_not_edited(world: World) -> None:
    with pytest.raises(NotFound) as caught:  # system roles live in the catalogue, not the store
        run(world.ctx, OPERATOR, DeleteRole(role_id="system:owner"))
    assert caught.value.code == "role.not_found"


@pytest.mark.parametrize(
    ("grant", "expected"),
    [
        ({"role_ids": {"nope"}}, ["role.not_found"]),
        ({"role_ids": {"system:viewer"}}, ["role.wrong_scope"]),
        ({"permissions": {"mailbox.read"}}, ["permission.wrong_scope"]),
        ({"permissions": {"made.up"}}, ["permission.unknown"]),
        ({"mailbox_id": "sales", "role_ids": {"system:owner"}}, ["role.wrong_scope"]),
        ({"mailbox_id": "gx-sales", "role_ids": {"system:viewer"}}, ["mailbox.not_in_account"]),
    ],
)
def test_grant_rules(world: World, grant: dict[str, Any], expected: list[str]) -> None:
    command = SetGrant(user_id=world.users["ann"].id, account_id="acme", **grant)
    assert codes(world, command) == expected


def test_nobody_grants_what_they_do_not_hold(world: World) -> None:
    ann = world.users["ann"].id
    assert codes(
        world, SetGrant(user_id=ann, account_id="acme", role_ids={"system:owner"}), "holder"
    ) == ["grant.escalation"]
    assert (
        codes(
            world,
            SetGrant(user_id=ann, account_id="acme", permissions={"invitations.send"}),
            "holder",
        )
        == []
    )
    # Account grant managers hand out mailbox access in the account's mailboxes.
    assert (
        codes(
            world,
            SetGrant(
                user_id=ann, account_id="acme", mailbox_id="sales", role_ids={"system:manager"}
            ),
            "holder",
        )
        == []
    )


def test_mailbox_managers_grant_within_their_mailbox_only(world: World) -> None:
    ann, without = world.users["ann"].id, world.users["without"].id
    run(
        world.ctx,
        OPERATOR,
        SetGrant(user_id=ann, account_id="acme", mailbox_id="sales", role_ids={"system:manager"}),
    )
    run(
        world.ctx,
        world.actors["ann"],
        SetGrant(user_id=without, account_id="acme", mailbox_id="sales", role_ids={"system:agent"}),
    )
    assert held(world, "without", "sales") == {"mailbox.read", "mailbox.send", "mailbox.organize"}
    with pytest.raises(PermissionDenied):
        run(
            world.ctx,
            world.actors["ann"],
            SetGrant(
                user_id=without, account_id="acme", mailbox_id="support", role_ids={"system:agent"}
            ),
        )
    with pytest.raises(PermissionDenied):
        run(
            world.ctx,
            world.actors["ann"],
            SetGrant(user_id=without, account_id="acme", permissions={"users.read"}),
        )


def test_the_last_owner_keeps_ownership(world: World) -> None:
    ann = world.users["ann"].id
    run(world.ctx, OPERATOR, SetGrant(user_id=ann, account_id="globex", role_ids={"system:owner"}))
    assert (
        codes(world, SetGrant(user_id=ann, account_id="globex", role_ids={"system:member"})) == []
    )
    with world.ctx.store.unit_of_work() as uow:
        boss = uow.users.by_address("postmaster@globex.example")
        assert boss is not None
        # Remove the super admin's grant behind the services' back: ann is the last owner.
        grant = uow.grants.for_scope(boss.id, "globex", None)
        assert grant is not None
        uow.grants.remove(grant.id)
        uow.commit()
    assert codes(world, SetGrant(user_id=ann, account_id="globex")) == ["grant.last_owner"]


def test_the_super_admin_keeps_ownership(world: World) -> None:
    with world.ctx.store.unit_of_work() as uow:
        boss = uow.users.by_address("postmaster@acme.example")
    assert boss is not None
    assert codes(
        world, SetGrant(user_id=boss.id, account_id="acme", role_ids={"system:administrator"})
    ) == ["admin.super_admin_protected"]


def test_an_empty_grant_removes_access(world: World) -> None:
    ann = world.users["ann"].id
    run(world.ctx, OPERATOR, SetGrant(user_id=ann, account_id="acme", permissions={"users.read"}))
    assert run(world.ctx, OPERATOR, SetGrant(user_id=ann, account_id="acme")) is None
    assert held(world, "ann") == frozenset()


# Mailboxes


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("team@acme.example", []),
        ("SALES@acme.example", ["mailbox.address_taken"]),
        ("ann@acme.example", ["address.taken"]),
        ("team@soon.example", ["domain.not_active"]),
        ("team@globex.example", ["domain.not_in_account"]),
        ("team@", ["email.invalid"]),
    ],
)
def test_shared_mailbox_addresses(world: World, address: str, expected: list[str]) -> None:
    assert codes(world, CreateMailbox(account_id="acme", address=address)) == expected


def test_mailboxes_are_renamed_and_deleted_with_their_grants(world: World) -> None:
    ann = world.users["ann"].id
    run(
        world.ctx,
        OPERATOR,
        SetGrant(user_id=ann, account_id="acme", mailbox_id="sales", role_ids={"system:agent"}),
    )
    with world.ctx.store.unit_of_work() as uow:
        sales = uow.mailboxes.get("sales")
    renamed = run(
        world.ctx,
        world.actors["holder"],
        RenameMailbox(
            mailbox_id="sales",
            version=sales.version,
            address="deals@acme.example",
            display_name="Deals",
        ),
    )
    assert (str(renamed.address), renamed.display_name) == ("deals@acme.example", "Deals")
    run(
        world.ctx,
        world.actors["holder"],
        DeleteMailbox(mailbox_id="sales", version=renamed.version),
    )
    assert held(world, "ann", "sales") == frozenset()
    with world.ctx.store.unit_of_work() as uow:
        assert uow.grants.of_mailbox("sales") == []


def test_personal_mailboxes_follow_the_account_setting_or_the_request(world: World) -> None:
    plain = user(world.ctx, "plain@acme.example")
    with world.ctx.store.unit_of_work() as uow:
        assert uow.mailboxes.of_owner(plain.id) == []
    account = queries.get_account(world.ctx, OPERATOR, "acme")
    run(
        world.ctx,
        OPERATOR,
        UpdateAccount(account_id="acme", version=account.version, personal_mailbox_on_create=True),
    )
    auto = user(world.ctx, "auto@acme.example")
    opted_out = user(world.ctx, "no-box@acme.example", personal_mailbox=False)
    with world.ctx.store.unit_of_work() as uow:
        (box,) = uow.mailboxes.of_owner(auto.id)
        assert uow.mailboxes.of_owner(opted_out.id) == []
    assert (box.kind, str(box.address), box.account_id) == (
        MailboxKind.PERSONAL,
        "auto@acme.example",
        "acme",
    )
    assert queries.permissions(world.ctx, world.actors["platform"], "acme", box.id)  # exists
    assert "mailbox.manage" in queries.permissions(world.ctx, Actor.user(auto.id), "acme", box.id)
    run(world.ctx, OPERATOR, CreatePersonalMailbox(user_id=plain.id))
    assert codes(world, CreatePersonalMailbox(user_id=plain.id)) == ["mailbox.personal_exists"]
    with world.ctx.store.unit_of_work() as uow:
        personal = uow.mailboxes.of_owner(plain.id)[0]
    assert codes(
        world,
        RenameMailbox(mailbox_id=personal.id, version=personal.version, address="x@acme.example"),
    ) == ["mailbox.personal_address"]


# Who may do what


COMMANDS: dict[str, Callable[[World], Command[Any]]] = {
    "CreateRole": lambda _: CreateRole(
        account_id="acme", name="helpers", permissions={"invitations.send"}
    ),
    "SetGrant": lambda w: SetGrant(
        user_id=w.users["ann"].id, account_id="acme", permissions={"invitations.send"}
    ),
    "SetGrant (mailbox)": lambda w: SetGrant(
        user_id=w.users["ann"].id, account_id="acme", mailbox_id="sales", role_ids={"system:viewer"}
    ),
    "CreateMailbox": lambda _: CreateMailbox(account_id="acme", address="team@acme.example"),
    "DeleteMailbox": lambda _: DeleteMailbox(mailbox_id="support"),
    "RenameMailbox": lambda _: RenameMailbox(mailbox_id="support", version=1, display_name="Help"),
    "InviteUser": lambda _: InviteUser(account_id="acme", email="guest@else.example"),
    "RevokeInvitation": lambda _: RevokeInvitation(invitation_id="inv-1"),
    "ResendInvitation": lambda _: ResendInvitation(invitation_id="inv-1"),
}


# What another account's actor is told does not exist, rather than refused.
HIDDEN = {
    "DeleteMailbox": "mailbox",
    "RenameMailbox": "mailbox",
    "RevokeInvitation": "invitation",
    "ResendInvitation": "invitation",
}


@pytest.mark.parametrize("principal", ["platform", "holder", "without", "outsider", "ann"])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_authorization_matrix(world: World, name: str, principal: str) -> None:
    run(
        world.ctx,
        OPERATOR,
        InviteUser(account_id="acme", email="x@else.example", invitation_id="inv-1"),
    )
    command = COMMANDS[name](world)
    if principal in {"platform", "holder"}:
        run(world.ctx, world.actors[principal], command)
    else:
        planned = plan(world.ctx, world.actors[principal], [command])
        hidden = HIDDEN.get(name) if principal == "outsider" else None
        code = f"{hidden}.not_found" if hidden else "permission.denied"
        assert [(i.code, i.command) for i in planned.errors] == [(code, 0)]
        with pytest.raises(NotFound if hidden else PermissionDenied):
            run(world.ctx, world.actors[principal], command)


def test_role_edits_and_deletes_are_checked_in_the_role_account(world: World) -> None:
    role = run(
        world.ctx,
        OPERATOR,
        CreateRole(account_id="acme", name="helpers", permissions={"invitations.send"}),
    )
    for principal in ["without", "outsider", "ann"]:
        # Another account's actor does not learn that the role exists.
        refused = NotFound if principal == "outsider" else PermissionDenied
        with pytest.raises(refused):
            run(
                world.ctx,
                world.actors[principal],
                UpdateRole(role_id=role.id, version=role.version, name="x"),
            )
        with pytest.raises(refused):
            run(world.ctx, world.actors[principal], DeleteRole(role_id=role.id))
    run(
        world.ctx,
        world.actors["holder"],
        UpdateRole(role_id=role.id, version=role.version, name="Helpers"),
    )


def test_a_failed_grant_changes_nothing(world: World) -> None:
    with pytest.raises(ValidationFailed):
        run(
            world.ctx,
            OPERATOR,
            SetGrant(
                user_id=world.users["ann"].id,
                account_id="acme",
                role_ids={"nope"},
                permissions={"users.read"},
            ),
        )
    assert held(world, "ann") == frozenset()
