"""What a grant may hold, and how two grants of one holder merge.

One rule for roles, admins, invitations and mailboxes alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

import attrs

from provisioning.errors import Issue, codes
from provisioning.model import (
    PERMISSIONS,
    Grant,
    Role,
    Scope,
)
from provisioning.ports import UnitOfWork
from provisioning.rules._tx import Tx, error
from provisioning.rules.access import roles

__all__ = [
    "escalation",
    "grant_issues",
    "grantable",
    "granted",
    "merge_grant",
    "permission_issues",
    "write_grant",
    "wrong_scope",
]

CODES: Final = codes(
    invalid=(
        "permission.unknown",
        "permission.wrong_scope",
        "role.wrong_scope",
    ),
    not_found=("role.not_found",),
    denied=("grant.escalation",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def grantable(
    held_in: Callable[[str | None], frozenset[str]],
    mailbox_id: str | None,
    *,
    everything: bool = False,
) -> frozenset[str] | None:
    """What a principal may hand out in the account, or one of its mailboxes; None: anything.

    `held_in(None)` is what the principal holds in the account, `held_in(m)`
    what it holds in mailbox `m`. Nobody hands out what it does not hold,
    but the account's grant managers hand out access to any of its mailboxes;
    `everything` is the operator's case.
    """
    if everything:
        return None
    account_held = held_in(None)
    if mailbox_id is None:
        return account_held
    if "grants.manage" in account_held:
        return None
    return held_in(mailbox_id)


def granted(
    uow: UnitOfWork, role_ids: frozenset[str], permissions: frozenset[str]
) -> frozenset[str]:
    """Every permission these roles (those that exist) and individual permissions give."""
    return permissions.union(*(role.permissions for role in roles(uow, role_ids).values()))


def grant_issues(
    tx: Tx,
    account_id: str,
    mailbox_id: str | None,
    role_ids: frozenset[str],
    permissions: frozenset[str],
    *,
    field: str = "role_ids",
) -> list[Issue]:
    """Whether these roles and permissions may be granted, by this actor, in that scope.

    Roles must exist (system or the account's own) and, like the permissions,
    be of the scope; and nobody hands out a permission it does not hold.
    """
    scope = Scope.ACCOUNT if mailbox_id is None else Scope.MAILBOX
    issues = permission_issues(permissions, scope, field="permissions")
    found = roles(tx.uow, role_ids)
    for role_id in sorted(role_ids):
        role = found.get(role_id)
        if role is None or role.account_id not in (None, account_id):
            issues.append(
                error("role.not_found", f"no role {role_id!r} in this account", field=field)
            )
        elif role.scope is not scope:
            issues.append(wrong_scope(role, field=field))
    allowed = grantable(
        lambda mailbox: tx.permissions(account_id, mailbox),
        mailbox_id,
        everything=tx.actor.is_platform,
    )
    if allowed is not None:
        wanted = permissions.union(*(role.permissions for role in found.values()))
        issues += escalation(
            wanted - allowed, "you cannot grant permissions you do not hold yourself", field=field
        )
    return issues


def wrong_scope(role: Role, *, field: str) -> Issue:
    """`role.wrong_scope`: the role is not of the scope it is given in."""
    return error("role.wrong_scope", f"{role.name!r} is a {role.scope}-scope role", field=field)


def escalation(beyond: Iterable[str], what: str, *, field: str) -> list[Issue]:
    """`grant.escalation` when `beyond` names permissions the actor does not hold.

    Nobody hands out what it does not hold: not in a grant, an invitation,
    an admin's roles, nor a role it makes. `what` says which of these.
    """
    missing = sorted(beyond)
    if not missing:
        return []
    return [error("grant.escalation", f"{what}: {', '.join(missing)}", field=field)]


def merge_grant(
    tx: Tx,
    *,
    user_id: str,
    account_id: str,
    mailbox_id: str | None,
    role_ids: frozenset[str],
    permissions: frozenset[str],
    action: str,
) -> None:
    """Add roles and permissions to what the user holds in that scope (creating the grant)."""
    current = tx.uow.grants.for_scope(user_id, account_id, mailbox_id)
    if current is None:
        wanted = Grant(
            id=tx.new_id(),
            user_id=user_id,
            account_id=account_id,
            mailbox_id=mailbox_id,
            role_ids=role_ids,
            permissions=permissions,
        )
    else:
        wanted = attrs.evolve(
            current,
            role_ids=current.role_ids | role_ids,
            permissions=current.permissions | permissions,
        )
    grant = write_grant(tx, current, wanted)
    assert grant is not None  # noqa: S101 - a grant written, not removed
    tx.record(action, "grant", grant.id, account_id=account_id, detail=describe_grant(grant))


def write_grant(tx: Tx, old: Grant | None, new: Grant | None) -> Grant | None:
    """Write a grant as it is to be (None: removed), from `old` (None: a new one); it as stored.

    Each custom role the change gives or takes away moves its version and
    `updated_at`: a role's version follows its members (see `Role`).
    """
    if new is None:
        if old is not None:
            tx.uow.grants.remove(old.id)
        stored = None
    else:
        stored = tx.uow.grants.add(new) if old is None else tx.uow.grants.update(new)
    before = frozenset() if old is None else old.role_ids
    after = frozenset() if new is None else new.role_ids
    for role_id in sorted(before ^ after):
        role = tx.uow.roles.find(role_id)  # a system role has no row: no version to move
        if role is not None:
            tx.uow.roles.update(attrs.evolve(role, updated_at=tx.now))
    return stored


def permission_issues(permissions: frozenset[str], scope: Scope, *, field: str) -> list[Issue]:
    """Each permission must be catalogued and of `scope`."""
    issues = []
    for name in sorted(permissions):
        known = PERMISSIONS.get(name)
        if known is None:
            issues.append(error("permission.unknown", f"no permission {name!r}", field=field))
        elif known.scope is not scope:
            issues.append(
                error(
                    "permission.wrong_scope",
                    f"{name!r} is a {known.scope}-scope permission, not {scope}",
                    field=field,
                )
            )
    return issues


def describe_grant(grant: Grant) -> str:
    where = f"mailbox {grant.mailbox_id}" if grant.mailbox_id else "account"
    held = ", ".join(sorted(grant.role_ids | grant.permissions)) or "nothing"
    return f"{where}: {held}"
