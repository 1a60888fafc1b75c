"""The account's super admin (`postmaster@` its first domain) outlives every change but two."""

from __future__ import annotations

from typing import Final

from provisioning.errors import InvalidValue, Issue, codes
from provisioning.model import Domain, EmailAddress, Grant, MfaState, User, Username
from provisioning.ports import Message
from provisioning.rules._issues import error
from provisioning.rules._tx import Tx
from provisioning.rules.grants import grant_issues, write_grant

__all__ = [
    "new_admin",
    "primary_email_issues",
    "role_issues",
    "super_admin_fixed",
    "super_admin_protected",
]

CODES: Final = codes(
    invalid=(
        "admin.primary_email_same",
        "admin.role_required",
    ),
    immutable=(
        "admin.super_admin_fixed",
        "admin.super_admin_protected",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def super_admin_protected(user: User, change: str, *, field: str = "user_id") -> Issue:
    """`admin.super_admin_protected`: the super admin cannot undergo `change`.

    Only its password and its primary email change; it is never deleted,
    demoted, disabled, renamed, nor stripped of its ownership.
    """
    return error(
        "admin.super_admin_protected",
        f"{user.username} is the account's super admin: {change}",
        field=field,
    )


def super_admin_fixed(user: User, change: str) -> list[Issue]:
    """`admin.super_admin_fixed` if `user` is the super admin: it stays `postmaster@`, enabled.

    `change` says what it cannot be ("renamed", "disabled" ...).
    """
    if not user.super_admin:
        return []
    return [
        error(
            "admin.super_admin_fixed",
            f"{user.username} is the account's super admin: it cannot be {change}",
            field="user_id",
        )
    ]


def primary_email_issues(
    text: str, admin: Username, *, field: str = "primary_email"
) -> tuple[list[Issue], EmailAddress | None]:
    """Parse an administrator's primary email, which must differ from the admin address."""
    try:
        email = EmailAddress.parse(text, field=field)
    except InvalidValue as invalid:
        return [invalid.issue()], None
    if email.key == admin.key:
        return [
            error(
                "admin.primary_email_same",
                "the primary email receives one-time codes, so it must not be the admin"
                f" address {admin} itself",
                field=field,
            )
        ], None
    return [], email


def role_issues(
    tx: Tx, account_id: str, role_ids: frozenset[str], *, field: str = "role_ids"
) -> list[Issue]:
    """Issues with the roles an administrator is to hold in the account.

    At least one; each must exist, be of account scope, and grant nothing the
    acting principal does not hold itself.
    """
    if not role_ids:
        return [
            error("admin.role_required", "an administrator holds at least one role", field=field)
        ]
    return grant_issues(tx, account_id, None, role_ids, frozenset(), field=field)


def new_admin(
    tx: Tx,
    *,
    account_id: str,
    domain: Domain,
    username: Username,
    primary_email: EmailAddress,
    role_ids: frozenset[str],
    super_admin: bool,
    action: str,
    cos_id: str | None,
    user_id: str | None = None,
) -> User:
    """Store an administrator and its grant, audit both, and welcome it by email."""
    new_id = tx.new_id(user_id)
    # An administrator has no password yet: its welcome, at its primary email, links to one.
    link = tx.setup_link(new_id)
    user = User(
        id=new_id,
        username=username,
        created_at=tx.now,
        updated_at=tx.now,
        account_id=account_id,
        domain_id=domain.id,
        cos_id=cos_id,
        corporate=True,
        admin=True,
        super_admin=super_admin,
        primary_email=primary_email,
        mfa=MfaState(required=domain.require_2fa),
        credentials=link.credentials,
    )
    tx.uow.users.add(user)
    kind = "super admin" if super_admin else "admin"
    tx.record(action, "user", user.id, account_id=account_id, detail=f"{kind} {username}")
    grant = Grant(id=tx.new_id(), user_id=user.id, account_id=account_id, role_ids=role_ids)
    write_grant(tx, None, grant)
    tx.record(action, "grant", grant.id, account_id=account_id, detail=", ".join(sorted(role_ids)))
    tx.notify(
        Message(
            template="admin.created",
            to=str(primary_email),
            data={"username": str(username), "role": kind, **link.data},
            secrets=link.secrets,
        )
    )
    return user
