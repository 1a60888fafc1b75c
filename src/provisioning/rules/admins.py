"""The account's super admin (`postmaster@` its first domain) outlives every change but two."""

from __future__ import annotations

from provisioning.exceptions import Issue
from provisioning.model import User
from provisioning.rules._issues import error

__all__ = ["super_admin_fixed", "super_admin_protected"]


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
