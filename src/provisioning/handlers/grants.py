"""Handlers for custom roles and grants, and the rules every grant follows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs

from provisioning.commands import (
    UNCHANGED,
    AddRoleMember,
    CreateRole,
    DeleteRole,
    RemoveRoleMember,
    SetGrant,
    UpdateRole,
)
from provisioning.errors import Issue, NotFound, PermissionDenied, TargetOutranks, codes
from provisioning.model import (
    OWNER_ROLE,
    SYSTEM_ROLES,
    Grant,
    Role,
    Scope,
    User,
    valid_name,
)
from provisioning.rules._tx import Step, Tx, error, requested_id_issues
from provisioning.rules.access import belongs_to, held_by
from provisioning.rules.admins import super_admin_protected
from provisioning.rules.grants import (
    describe_grant,
    escalation,
    grant_issues,
    permission_issues,
    write_grant,
    wrong_scope,
)

__all__ = [
    "OWNER",
    "add_role_member",
    "create_role",
    "delete_role",
    "remove_role_member",
    "set_grant",
    "update_role",
]

CODES: Final = codes(
    invalid=(
        "mailbox.not_in_account",
        "role.account_required",
        "role.external_id_invalid",
        "role.name_invalid",
    ),
    conflict=("role.external_id_taken", "role.name_taken"),
    state=(
        "grant.last_owner",
        "role.in_use",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

OWNER = OWNER_ROLE


def _load_role(tx: Tx, role_id: str) -> Role:
    role = tx.known("role", role_id, tx.uow.roles.find(role_id))
    if role.account_id is None:  # system roles live in the catalogue, never in the store
        raise PermissionDenied(actor=str(tx.actor), permission="roles.manage", account_id=None)
    tx.authorize("roles.manage", role.account_id)
    return role


def _name_issues(tx: Tx, account_id: str, name: str, own_id: str | None) -> list[Issue]:
    if not valid_name(name):
        return [error("role.name_invalid", f"{name!r} is not a valid role name", field="name")]
    holder = tx.uow.roles.by_name(account_id, name)
    system = any(r.name.casefold() == name.casefold() for r in SYSTEM_ROLES.values())
    if (holder is not None and holder.id != own_id) or system:
        return [error("role.name_taken", f"a role called {name!r} exists already", field="name")]
    return []


def _external_id_issues(
    tx: Tx, account_id: str, external_id: str | None, own_id: str | None
) -> list[Issue]:
    """An external id is text, and another role's of the account only once."""
    if external_id is None:
        return []
    if not external_id.strip():
        invalid = "an external id holds text (forget one with None)"
        return [error("role.external_id_invalid", invalid, field="external_id")]
    holder = tx.uow.roles.by_external_id(account_id, external_id)
    if holder is None or holder.id == own_id:
        return []
    taken = f"another role of the account is known as {external_id!r} already"
    return [error("role.external_id_taken", taken, field="external_id")]


def _find_role(tx: Tx) -> Callable[[str], Role | None]:
    def find(role_id: str) -> Role | None:
        return SYSTEM_ROLES.get(role_id) or tx.uow.roles.find(role_id)

    return find


def create_role(tx: Tx, command: CreateRole) -> Step[Role]:
    """Create a custom role; it holds no permission the creator lacks."""
    tx.authorize("roles.manage", command.account_id)
    tx.uow.accounts.get(command.account_id)
    name = command.name.strip()
    issues = requested_id_issues(command.role_id, _find_role(tx), field="role_id")
    issues += _name_issues(tx, command.account_id, name, None)
    issues += _role_permission_issues(tx, command.account_id, command.scope, command.permissions)
    issues += _external_id_issues(tx, command.account_id, command.external_id, None)

    def run() -> Role:
        role = Role(
            id=tx.new_id(command.role_id),
            name=name,
            scope=command.scope,
            permissions=command.permissions,
            account_id=command.account_id,
            description=command.description,
            created_at=tx.now,
            updated_at=tx.now,
            external_id=command.external_id,
        )
        tx.uow.roles.add(role)
        tx.record("CreateRole", "role", role.id, account_id=command.account_id, detail=name)
        return role

    return Step.proceed(run, issues)


def _role_permission_issues(
    tx: Tx, account_id: str, scope: Scope, permissions: frozenset[str]
) -> list[Issue]:
    issues = permission_issues(permissions, scope, field="permissions")
    if scope is Scope.ACCOUNT and not tx.actor.is_platform:
        issues += escalation(
            permissions - tx.permissions(account_id),
            "a role you make cannot hold what you do not",
            field="permissions",
        )
    return issues


def update_role(tx: Tx, command: UpdateRole) -> Step[Role]:
    """Rename a custom role or change its permissions; every holder is affected at once."""
    role = _load_role(tx, command.role_id)
    assert role.account_id is not None  # noqa: S101 - _load_role refuses system roles
    issues: list[Issue] = []
    changes: dict[str, Any] = {}
    if command.name is not UNCHANGED:
        name = command.name.strip()
        issues += _name_issues(tx, role.account_id, name, role.id)
        changes["name"] = name
    if command.permissions is not UNCHANGED:
        issues += _role_permission_issues(tx, role.account_id, role.scope, command.permissions)
        changes["permissions"] = command.permissions
    if command.description is not UNCHANGED:
        changes["description"] = command.description
    if command.external_id is not UNCHANGED:
        issues += _external_id_issues(tx, role.account_id, command.external_id, role.id)
        changes["external_id"] = command.external_id

    def run() -> Role:
        changed = attrs.evolve(role, version=command.version, updated_at=tx.now, **changes)
        stored = tx.uow.roles.update(changed)
        tx.record(
            "UpdateRole",
            "role",
            role.id,
            account_id=role.account_id,
            detail=", ".join(sorted(changes)),
        )
        return stored

    return Step.proceed(run, issues)


def delete_role(tx: Tx, command: DeleteRole) -> Step[None]:
    """Delete a custom role; while grants or API clients hold it, only with `detach`.

    `detach` takes it from them first (a grant left empty goes).
    """
    role = _load_role(tx, command.role_id)
    assert role.account_id is not None  # noqa: S101
    users = [g for g in tx.uow.grants.of_account(role.account_id) if role.id in g.role_ids]
    clients = [c for c in tx.uow.clients.of_account(role.account_id) if role.id in c.role_ids]
    issues = []
    if (users or clients) and not command.detach:
        holders = [f"{len(users)} grant(s)"] if users else []
        holders += [f"{len(clients)} API client(s)"] if clients else []
        issues.append(
            error(
                "role.in_use",
                f"{' and '.join(holders)} use {role.name!r}; set detach to remove it from them",
                field="role_id",
            )
        )

    def run() -> None:
        for grant in users:
            kept = attrs.evolve(grant, role_ids=grant.role_ids - {role.id})
            write_grant(tx, grant, kept if kept.role_ids or kept.permissions else None)
            tx.record(
                "DeleteRole", "grant", grant.id, account_id=role.account_id, detail="role removed"
            )
        for client in clients:
            tx.uow.clients.update(attrs.evolve(client, role_ids=client.role_ids - {role.id}))
            tx.record(
                "DeleteRole", "client", client.id, account_id=role.account_id, detail="role removed"
            )
        tx.uow.roles.remove(role.id)
        tx.record("DeleteRole", "role", role.id, account_id=role.account_id, detail=role.name)

    return Step.proceed(run, issues)


def _owners(tx: Tx, account_id: str) -> set[str]:
    return {
        g.user_id
        for g in tx.uow.grants.of_account(account_id)
        if g.mailbox_id is None and OWNER in g.role_ids
    }


def _ownership_issues(tx: Tx, user: User, current: Grant | None, command: SetGrant) -> list[Issue]:
    losing = (
        command.mailbox_id is None
        and current is not None
        and OWNER in current.role_ids
        and OWNER not in command.role_ids
    )
    if not losing:
        return []
    if user.super_admin and user.account_id == command.account_id:
        return [super_admin_protected(user, "its ownership stays", field="role_ids")]
    if _owners(tx, command.account_id) == {user.id}:
        return [
            error(
                "grant.last_owner",
                "the account's last owner cannot lose ownership",
                field="role_ids",
            )
        ]
    return []


def _grantee(tx: Tx, user_id: str, account_id: str) -> User:
    """The user a grant of the account is set for: one of its own, or a member already.

    Anyone else is brought in by an invitation, which the person accepts;
    to the account, such a user is as unknown as an id nobody holds.
    """
    user = tx.uow.users.find(user_id)
    if user is not None and (tx.actor.is_platform or belongs_to(tx.uow, user, account_id)):
        return user
    raise NotFound(entity="user", key=user_id)


def _require_rank_in_scope(tx: Tx, user: User, account_id: str, mailbox_id: str | None) -> None:
    """Changing someone else's grant needs all it holds: in the account, or in the mailbox."""
    if mailbox_id is None or "grants.manage" in tx.permissions(account_id):
        tx.require_rank("grants.manage", user, account_id)
        return
    if tx.actor.user_id == user.id or tx.actor.is_platform:
        return
    theirs = held_by(tx.uow, user.id, account_id, mailbox_id, user=user)
    if user.super_admin or not theirs <= tx.permissions(account_id, mailbox_id):
        raise TargetOutranks(
            actor=str(tx.actor), permission="mailbox.manage", account_id=account_id
        )


def set_grant(tx: Tx, command: SetGrant) -> Step[Grant | None]:
    """Set exactly what a user holds in the account or one of its mailboxes."""
    account_id, mailbox_id = command.account_id, command.mailbox_id
    if mailbox_id is None:
        tx.authorize("grants.manage", account_id)
    elif "grants.manage" not in tx.permissions(account_id):
        tx.authorize("mailbox.manage", account_id, mailbox_id)
    tx.uow.accounts.get(account_id)
    user = _grantee(tx, command.user_id, account_id)
    _require_rank_in_scope(tx, user, account_id, mailbox_id)
    issues = []
    if mailbox_id is not None and tx.uow.mailboxes.get(mailbox_id).account_id != account_id:
        issues.append(
            error("mailbox.not_in_account", "the mailbox is not the account's", field="mailbox_id")
        )
    issues += grant_issues(tx, account_id, mailbox_id, command.role_ids, command.permissions)
    current = tx.uow.grants.for_scope(user.id, account_id, mailbox_id)
    issues += _ownership_issues(tx, user, current, command)

    def run() -> Grant | None:
        if not command.role_ids and not command.permissions:
            if current is not None:
                write_grant(tx, current, None)
                tx.record("SetGrant", "grant", current.id, account_id=account_id, detail="removed")
            return None
        if current is None:
            wanted = Grant(
                id=tx.new_id(),
                user_id=user.id,
                account_id=account_id,
                mailbox_id=mailbox_id,
                role_ids=command.role_ids,
                permissions=command.permissions,
            )
        else:
            wanted = attrs.evolve(
                current, role_ids=command.role_ids, permissions=command.permissions
            )
        grant = write_grant(tx, current, wanted)
        assert grant is not None  # noqa: S101 - written, not removed
        tx.record(
            "SetGrant", "grant", grant.id, account_id=account_id, detail=describe_grant(grant)
        )
        return grant

    return Step.proceed(run, issues)


def _member_role(tx: Tx, role_id: str, account_id: str | None) -> tuple[Role, str | None]:
    """The role a membership change names, and the account it is held in (None: unnamed)."""
    system = SYSTEM_ROLES.get(role_id)
    if system is not None:
        return system, account_id
    role = tx.known("role", role_id, tx.uow.roles.find(role_id))
    if account_id not in (None, role.account_id):
        raise NotFound(entity="role", key=role_id)
    return role, role.account_id


def _membership(tx: Tx, command: AddRoleMember | RemoveRoleMember, *, add: bool) -> Step[Role]:
    """Add the role to, or take it from, the user's grant in the account: a `SetGrant`."""
    role, account_id = _member_role(tx, command.role_id, command.account_id)
    if account_id is None:
        needed = "name the account a system role is given in"
        return Step.refuse([error("role.account_required", needed, field="account_id")])
    if role.scope is not Scope.ACCOUNT:
        return Step.refuse([wrong_scope(role, field="role_id")])
    current = tx.uow.grants.for_scope(command.user_id, account_id, None)
    held = frozenset() if current is None else current.role_ids
    after = held | {role.id} if add else held - {role.id}
    step = tx.handle(
        SetGrant(
            user_id=command.user_id,
            account_id=account_id,
            role_ids=after,
            permissions=frozenset() if current is None else current.permissions,
        )
    )

    def run() -> Role:
        if command.version is not None and role.account_id is not None:
            tx.uow.roles.at_version(role.id, command.version)  # `version.stale` if it moved
        if after != held and step.run is not None:
            step.run()
        return tx.uow.roles.find(role.id) or role

    return Step.proceed(run, step.issues)


def add_role_member(tx: Tx, command: AddRoleMember) -> Step[Role]:
    """Give the user the role in its account, as `SetGrant` would; the role, as stored after."""
    return _membership(tx, command, add=True)


def remove_role_member(tx: Tx, command: RemoveRoleMember) -> Step[Role]:
    """Take the role from the user in its account, as `SetGrant` would."""
    return _membership(tx, command, add=False)
