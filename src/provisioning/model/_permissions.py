"""The catalogue of permissions the platform knows.

A permission is a dotted name with a scope. Account-scope permissions are held
in an account; mailbox-scope permissions in one mailbox of an account. Each
feature adds the permissions its services check.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from provisioning.model._entities import Permission, Role, Scope

__all__ = ["PERMISSIONS", "SYSTEM_ROLES", "permission"]

_CATALOGUE = (
    Permission(
        name="accounts.create",
        scope=Scope.ACCOUNT,
        description="Create customer accounts under this account.",
    ),
    Permission(
        name="accounts.manage",
        scope=Scope.ACCOUNT,
        description="Change the account's name and settings.",
    ),
    Permission(
        name="cos.manage",
        scope=Scope.ACCOUNT,
        description="Create, change and delete the account's classes of service.",
    ),
    Permission(
        name="accounts.delete",
        scope=Scope.ACCOUNT,
        description="Delete the account, irreversibly.",
    ),
    Permission(
        name="audit.read",
        scope=Scope.ACCOUNT,
        description="Read the account's audit log.",
    ),
    Permission(
        name="domains.manage",
        scope=Scope.ACCOUNT,
        description="Add, verify, activate, deactivate, change and delete the account's domains.",
    ),
    Permission(
        name="users.create",
        scope=Scope.ACCOUNT,
        description="Create users on the account's active domains.",
    ),
    Permission(
        name="users.manage",
        scope=Scope.ACCOUNT,
        description=(
            "Change, rename and delete users; reset their passwords and multi-factor set-up."
        ),
    ),
    Permission(
        name="users.read",
        scope=Scope.ACCOUNT,
        description="List and search the account's users.",
    ),
    Permission(
        name="admins.manage",
        scope=Scope.ACCOUNT,
        description="Create, change and delete the account's administrators.",
    ),
)

PERMISSIONS: Final[Mapping[str, Permission]] = MappingProxyType({p.name: p for p in _CATALOGUE})
"""Every known permission by name (read-only)."""


def _system_role(name: str, description: str, permissions: frozenset[str]) -> Role:
    return Role(
        id=f"system:{name}",
        name=name,
        scope=Scope.ACCOUNT,
        permissions=permissions,
        account_id=None,
        description=description,
    )


_EVERYTHING = frozenset(p.name for p in _CATALOGUE if p.scope is Scope.ACCOUNT)

SYSTEM_ROLES: Final[Mapping[str, Role]] = MappingProxyType(
    {
        role.id: role
        for role in (
            _system_role("owner", "Everything in the account.", _EVERYTHING),
            _system_role(
                "administrator",
                "Runs the account day to day: users, domains, classes of service, settings.",
                frozenset(
                    {
                        "accounts.manage",
                        "cos.manage",
                        "domains.manage",
                        "audit.read",
                        "users.create",
                        "users.manage",
                        "users.read",
                    }
                ),
            ),
            _system_role(
                "member", "Belongs to the account; no administrative rights.", frozenset()
            ),
        )
    }
)
"""The roles every account can use, by id (`system:owner` ...); they belong to no account."""


def permission(name: str) -> Permission:
    """The catalogued permission called `name`; KeyError if there is none."""
    return PERMISSIONS[name]
