"""A role's members, one at a time, with a version that moves with them (a SCIM group's ETag).

Whatever road gives or takes a role (`AddRoleMember`, `SetGrant`, deleting a
user), the custom role's version and `updated_at` move, so two changes of
the members planned against one version never both land.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import OPERATOR, active_domain
from provisioning import (
    Actor,
    AddRoleMember,
    Context,
    CreateAccount,
    CreateRole,
    CreateUser,
    DeleteUser,
    NotFound,
    PermissionDenied,
    RemoveRoleMember,
    SetGrant,
    UpdateRole,
    UsageError,
    ValidationFailed,
    apply,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import FixedClock, MemoryDns
from provisioning.model import Grant, Role, Scope, User


def _user(ctx: Context, name: str, account: str = "acme") -> User:
    user: User = run(
        ctx, OPERATOR, CreateUser(account_id=account, username=f"{name}@{account}.example")
    )
    return user


def _role(ctx: Context, **fields: Any) -> Role:
    values: dict[str, Any] = {"account_id": "acme", "name": "Sales", "permissions": {"users.read"}}
    role: Role = run(ctx, OPERATOR, CreateRole(**{**values, **fields}))
    return role


def _members(ctx: Context, role_id: str, account_id: str | None = None) -> list[str]:
    found = queries.role_members(ctx, OPERATOR, role_id, account_id=account_id)
    return [str(u.username) for u in found]


def _grant(ctx: Context, user_id: str) -> Grant | None:
    """The user's grant in Acme (None: none)."""
    found = queries.grants(ctx, OPERATOR, "acme", user_id=user_id).items
    return found[0] if found else None


def _codes(ctx: Context, actor: Actor, command: Any) -> list[str]:
    return [issue.code for issue in plan(ctx, actor, [command]).errors]


def test_a_role_keeps_when_it_was_made_and_last_changed(acme: Context, clock: FixedClock) -> None:
    role = _role(acme)
    assert role.created_at == role.updated_at == clock.now()
    clock.advance(minutes=5)
    renamed = run(acme, OPERATOR, UpdateRole(role_id=role.id, version=role.version, name="Deals"))
    assert (renamed.created_at, renamed.updated_at) == (role.created_at, clock.now())
    assert renamed.version == role.version + 1


def test_members_are_added_and_removed_one_at_a_time(acme: Context, clock: FixedClock) -> None:
    ann, bob = _user(acme, "ann"), _user(acme, "bob")
    role = _role(acme)
    clock.advance(minutes=1)
    role = run(acme, OPERATOR, AddRoleMember(role_id=role.id, user_id=ann.id, version=role.version))
    assert (role.version, role.updated_at) == (2, clock.now())
    role = run(acme, OPERATOR, AddRoleMember(role_id=role.id, user_id=bob.id, version=role.version))
    assert _members(acme, role.id) == ["ann@acme.example", "bob@acme.example"]
    assert "users.read" in queries.permissions(acme, Actor.user(ann.id), "acme")
    again = run(acme, OPERATOR, AddRoleMember(role_id=role.id, user_id=bob.id))
    assert again.version == role.version  # a member already: nothing changed
    role = run(
        acme, OPERATOR, RemoveRoleMember(role_id=role.id, user_id=ann.id, version=role.version)
    )
    assert _members(acme, role.id) == ["bob@acme.example"]
    assert not queries.permissions(acme, Actor.user(ann.id), "acme")
    assert _grant(acme, ann.id) is None  # an empty grant goes


def test_a_member_s_other_roles_and_permissions_stay(acme: Context) -> None:
    ann = _user(acme, "ann")
    run(
        acme,
        OPERATOR,
        SetGrant(
            user_id=ann.id,
            account_id="acme",
            role_ids={"system:administrator"},
            permissions={"audit.read"},
        ),
    )
    role = _role(acme)
    run(acme, OPERATOR, AddRoleMember(role_id=role.id, user_id=ann.id))
    grant = _grant(acme, ann.id)
    assert grant is not None
    assert grant.role_ids == {"system:administrator", role.id}
    assert grant.permissions == {"audit.read"}
    run(acme, OPERATOR, RemoveRoleMember(role_id=role.id, user_id=ann.id))
    grant = _grant(acme, ann.id)
    assert grant is not None
    assert grant.role_ids == {"system:administrator"}
    assert grant.permissions == {"audit.read"}


def test_two_changes_planned_against_one_version_never_both_land(acme: Context) -> None:
    ann, bob = _user(acme, "ann"), _user(acme, "bob")
    role = _role(acme)
    first = plan(acme, OPERATOR, [AddRoleMember(role_id=role.id, user_id=ann.id, version=1)])
    second = plan(acme, OPERATOR, [AddRoleMember(role_id=role.id, user_id=bob.id, version=1)])
    assert first.ok
    assert second.ok
    apply(acme, first)
    with pytest.raises(ValidationFailed) as refused:  # checked again: the role moved
        apply(acme, second)
    assert refused.value.codes == ["version.stale"]
    assert _members(acme, role.id) == ["ann@acme.example"]
    assert queries.get_role(acme, OPERATOR, role.id).version == 2


def test_every_road_that_gives_or_takes_a_role_moves_its_version(acme: Context) -> None:
    ann = _user(acme, "ann")
    role = _role(acme)
    run(acme, OPERATOR, SetGrant(user_id=ann.id, account_id="acme", role_ids={role.id}))
    assert queries.get_role(acme, OPERATOR, role.id).version == 2
    run(acme, OPERATOR, SetGrant(user_id=ann.id, account_id="acme", role_ids={role.id}))
    assert queries.get_role(acme, OPERATOR, role.id).version == 2  # the same members
    run(acme, OPERATOR, DeleteUser(user_id=ann.id))
    assert queries.get_role(acme, OPERATOR, role.id).version == 3
    assert _members(acme, role.id) == []


def test_a_stale_version_is_refused(acme: Context) -> None:
    ann = _user(acme, "ann")
    role = _role(acme)
    run(acme, OPERATOR, UpdateRole(role_id=role.id, version=role.version, description="x"))
    stale = AddRoleMember(role_id=role.id, user_id=ann.id, version=role.version)
    assert _codes(acme, OPERATOR, stale) == ["version.stale"]
    assert _members(acme, role.id) == []


def test_a_system_role_is_held_in_an_account_it_is_told(acme: Context) -> None:
    ann = _user(acme, "ann")
    no_account = AddRoleMember(role_id="system:administrator", user_id=ann.id)
    assert _codes(acme, OPERATOR, no_account) == ["role.account_required"]
    given = AddRoleMember(role_id="system:administrator", user_id=ann.id, account_id="acme")
    assert run(acme, OPERATOR, given).id == "system:administrator"
    assert _members(acme, "system:administrator", account_id="acme") == ["ann@acme.example"]
    with pytest.raises(UsageError):
        queries.role_members(acme, OPERATOR, "system:administrator")


def test_a_mailbox_role_and_another_account_s_role_are_refused(
    acme: Context, dns: MemoryDns
) -> None:
    ann = _user(acme, "ann")
    viewer = AddRoleMember(role_id="system:viewer", user_id=ann.id, account_id="acme")
    assert _codes(acme, OPERATOR, viewer) == ["role.wrong_scope"]
    custom = _role(acme, name="Readers", scope=Scope.MAILBOX, permissions={"mailbox.read"})
    assert _codes(acme, OPERATOR, AddRoleMember(role_id=custom.id, user_id=ann.id)) == [
        "role.wrong_scope"
    ]
    run(acme, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    active_domain(acme, dns, "globex", "globex.example", admin_email="it@gx.example")
    sales = _role(acme)
    elsewhere = AddRoleMember(role_id=sales.id, user_id=ann.id, account_id="globex")
    assert _codes(acme, OPERATOR, elsewhere) == ["role.not_found"]


def test_the_rights_and_the_rank_of_set_grant_hold(acme: Context, dns: MemoryDns) -> None:
    ann, bob = _user(acme, "ann"), _user(acme, "bob")
    big = _role(acme, name="Big", permissions={"users.manage", "users.read"})
    small = _role(acme, name="Small", permissions={"users.read"})
    run(
        acme,
        OPERATOR,
        SetGrant(user_id=ann.id, account_id="acme", permissions={"grants.manage", "users.read"}),
    )
    keeper = Actor.user(ann.id)
    assert _codes(acme, keeper, AddRoleMember(role_id=big.id, user_id=bob.id)) == [
        "grant.escalation"
    ]
    assert _codes(acme, keeper, AddRoleMember(role_id=small.id, user_id=bob.id)) == []
    run(acme, OPERATOR, SetGrant(user_id=bob.id, account_id="acme", role_ids={big.id}))
    assert _codes(acme, keeper, RemoveRoleMember(role_id=big.id, user_id=bob.id)) == [
        "permission.target_outranks"
    ]
    plain = Actor.user(bob.id)
    assert _codes(acme, plain, AddRoleMember(role_id=small.id, user_id=ann.id)) == [
        "permission.denied"
    ]
    with pytest.raises(PermissionDenied):
        queries.role_members(acme, plain, small.id)
    run(acme, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    active_domain(acme, dns, "globex", "globex.example", admin_email="it@gx.example")
    gus = _user(acme, "gus", "globex")
    run(acme, OPERATOR, SetGrant(user_id=gus.id, account_id="globex", role_ids={"system:owner"}))
    stranger = Actor.user(gus.id)
    assert _codes(acme, stranger, AddRoleMember(role_id=small.id, user_id=ann.id)) == [
        "role.not_found"
    ]
    with pytest.raises(NotFound):
        queries.role_members(acme, stranger, small.id)
    outsider = AddRoleMember(role_id="system:member", user_id=gus.id, account_id="acme")
    assert _codes(acme, OPERATOR, outsider) == []  # the operator may; an owner of Acme may not


def test_members_added_at_once_from_two_threads_all_land(acme: Context) -> None:
    import threading  # noqa: PLC0415 - this test's own

    users = [_user(acme, f"m{n}") for n in range(12)]
    role = _role(acme)
    failures: list[BaseException] = []

    def add(mine: list[User]) -> None:
        try:
            for user in mine:
                run(acme, OPERATOR, AddRoleMember(role_id=role.id, user_id=user.id))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    threads = [threading.Thread(target=add, args=(users[n::2],)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(_members(acme, role.id)) == len(users)
    assert queries.get_role(acme, OPERATOR, role.id).version == 1 + len(users)
