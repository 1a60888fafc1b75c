"""The catalogue of permissions the platform knows.

A permission is a dotted name with a scope. Account-scope permissions are held
in an account; mailbox-scope permissions in one mailbox of an account. Each
feature adds the permissions its services check.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from provisioning.model._entities import Permission, Scope

__all__ = ["PERMISSIONS", "permission"]

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
        name="audit.read",
        scope=Scope.ACCOUNT,
        description="Read the account's audit log.",
    ),
)

PERMISSIONS: Final[Mapping[str, Permission]] = MappingProxyType({p.name: p for p in _CATALOGUE})
"""Every known permission by name (read-only)."""


def permission(name: str) -> Permission:
    """The catalogued permission called `name`; KeyError if there is none."""
    return PERMISSIONS[name]
