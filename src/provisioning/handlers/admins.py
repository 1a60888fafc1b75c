"""Handlers for administrators: create, update (primary email, roles), delete."""

from __future__ import annotations

from typing import Any, Final

import attrs

from provisioning.commands import UNCHANGED, CreateAdmin, DeleteAdmin, UpdateAdmin
from provisioning.errors import InvalidValue, Issue, codes
from provisioning.model import Grant, User, Username
from provisioning.rules._tx import Step, Tx, error, requested_id_issues
from provisioning.rules.addresses import address_taken
from provisioning.rules.admins import (
    new_admin,
    primary_email_issues,
    role_issues,
    super_admin_protected,
)
from provisioning.rules.classes_of_service import cos_required
from provisioning.rules.domains import require_active
from provisioning.rules.grants import write_grant
from provisioning.rules.removal import remove_user

__all__ = ["create_admin", "delete_admin", "update_admin"]

CODES: Final = codes(
    invalid=("admin.not_admin",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def create_admin(tx: Tx, command: CreateAdmin) -> Step[User]:
    """Create `<admin-id>@<domain>` on an active domain of the account, with its roles."""
    tx.authorize("admins.manage", command.account_id)
    account = tx.uow.accounts.get(command.account_id)
    issues = requested_id_issues(command.user_id, tx.uow.users.find, field="user_id")
    try:
        username = Username.parse(command.address, field="address")
    except InvalidValue as invalid:
        return Step.refuse([*issues, invalid.issue()])
    domain = tx.uow.domains.by_name(username.domain)
    on_domain = require_active(domain, command.account_id, field="address")
    issues += on_domain or address_taken(tx, username, None, field="address")
    problems, email = primary_email_issues(command.primary_email, username)
    issues += problems
    issues += role_issues(tx, command.account_id, command.role_ids)
    # An administrator's rights are its roles': it gets the users' class of service.
    cos_id = (domain.default_cos_id if domain is not None else None) or account.default_cos_id
    if cos_id is None:
        issues.append(cos_required("give the domain or the account a default", field="address"))

    def run() -> User:
        assert domain is not None  # noqa: S101 - run() exists only when no issue blocked
        assert email is not None  # noqa: S101
        return new_admin(
            tx,
            account_id=command.account_id,
            domain=domain,
            username=username,
            primary_email=email,
            role_ids=command.role_ids,
            super_admin=False,
            action="CreateAdmin",
            cos_id=cos_id,
            user_id=command.user_id,
        )

    return Step.proceed(run, issues)


def _load_admin(tx: Tx, user_id: str) -> tuple[User, list[Issue]]:
    user = tx.user(user_id)
    if user.account_id is None:
        # An administrator always belongs to an account; anyone else is nobody's to manage here.
        tx.authorize("admins.manage", None)
        return user, [error("admin.not_admin", f"{user.username} is not an administrator")]
    tx.authorize("admins.manage", user.account_id)
    if not user.admin:
        return user, [error("admin.not_admin", f"{user.username} is not an administrator")]
    tx.require_rank("admins.manage", user)
    return user, []


def _protected(user: User, what: str) -> Issue:
    return super_admin_protected(
        user, f"it cannot be {what}; only its password and primary email change"
    )


def update_admin(tx: Tx, command: UpdateAdmin) -> Step[User]:
    """Change an administrator's primary email and/or roles."""
    user, issues = _load_admin(tx, command.user_id)
    changes: dict[str, Any] = {}
    if command.primary_email is not UNCHANGED:
        problems, email = primary_email_issues(command.primary_email, user.username)
        issues += problems
        changes["primary_email"] = email
    grant = None
    if command.role_ids is not UNCHANGED and user.account_id is not None:
        if user.super_admin:
            issues.append(_protected(user, "demoted"))
        issues += role_issues(tx, user.account_id, command.role_ids)
        grant = tx.uow.grants.for_scope(user.id, user.account_id, None)

    def run() -> User:
        stored = tx.uow.users.update(
            attrs.evolve(user, version=command.version, updated_at=tx.now, **changes)
        )
        tx.record(
            "UpdateAdmin",
            "user",
            user.id,
            account_id=user.account_id,
            detail=", ".join(sorted(changes)),
        )
        if command.role_ids is not UNCHANGED and user.account_id is not None:
            _set_roles(tx, user, grant, command.role_ids)
        return stored

    return Step.proceed(run, issues)


def _set_roles(tx: Tx, user: User, grant: Grant | None, role_ids: frozenset[str]) -> None:
    assert user.account_id is not None  # noqa: S101 - only account members are admins
    wanted = (
        Grant(id=tx.new_id(), user_id=user.id, account_id=user.account_id, role_ids=role_ids)
        if grant is None
        else attrs.evolve(grant, role_ids=role_ids)
    )
    write_grant(tx, grant, wanted)
    grant = wanted
    tx.record(
        "UpdateAdmin",
        "grant",
        grant.id,
        account_id=user.account_id,
        detail=", ".join(sorted(role_ids)),
    )


def delete_admin(tx: Tx, command: DeleteAdmin) -> Step[None]:
    """Delete an administrator and what it holds; never the super admin."""
    user, issues = _load_admin(tx, command.user_id)
    if user.super_admin:
        issues.append(_protected(user, "deleted"))

    return Step.proceed(
        lambda: remove_user(tx, user, "DeleteAdmin", version=command.version), issues
    )
