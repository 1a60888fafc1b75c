"""The catalogue of permissions and the system roles built from it.

A permission is a dotted name with a scope. Account-scope permissions are held
in an account; mailbox-scope permissions in one mailbox of an account. A role
is a named preset of permissions of one scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from provisioning.model._entities import Permission, Role, Scope

__all__ = ["ADMINISTRATOR_ROLE", "OWNER_ROLE", "PERMISSIONS", "SYSTEM_ROLES", "permission"]


def _account(name: str, description: str) -> Permission:
    return Permission(name=name, scope=Scope.ACCOUNT, description=description)


def _mailbox(name: str, description: str) -> Permission:
    return Permission(name=name, scope=Scope.MAILBOX, description=description)


_CATALOGUE = (
    _account("accounts.create", "Create customer accounts under this account."),
    _account("accounts.manage", "Change the account's name and settings."),
    _account("accounts.delete", "Delete the account, irreversibly."),
    _account("audit.read", "Read the account's audit log."),
    _account("cos.manage", "Create, change and delete the account's classes of service."),
    _account("domains.manage", "Add, verify, activate, deactivate, change and delete domains."),
    _account("admins.manage", "Create, change and delete the account's administrators."),
    _account("users.create", "Create users on the account's active domains."),
    _account("users.manage", "Change, rename and delete users; reset passwords and MFA."),
    _account("users.read", "List and search the account's users."),
    _account(
        "clients.manage",
        "Create, change, rotate and revoke the account's API clients; list them.",
    ),
    _account("roles.manage", "Create, change and delete the account's custom roles."),
    _account("grants.manage", "Give users roles and permissions in the account and mailboxes."),
    _account("invitations.send", "Invite people to the account; revoke and re-send invitations."),
    _account("mailboxes.manage", "Create, rename and delete the account's shared mailboxes."),
    _account(
        "phones.manage",
        "Add and remove the account's phone numbers and devices; set up phone users.",
    ),
    _account(
        "support.manage",
        "Ask customer accounts for support access, end it, and see its sessions.",
    ),
    _account("support.act", "Open support sessions in the customers that allow this account."),
    _account(
        "support.approve",
        "Approve and end a parent's support access to this account; see who used it.",
    ),
    _mailbox("mailbox.read", "Read the mailbox's messages."),
    _mailbox("mailbox.send", "Send messages from the mailbox."),
    _mailbox("mailbox.organize", "File, flag and delete the mailbox's messages."),
    _mailbox("mailbox.manage", "Change the mailbox's settings and who may use it."),
)

PERMISSIONS: Final[Mapping[str, Permission]] = MappingProxyType({p.name: p for p in _CATALOGUE})
"""Every known permission by name (read-only)."""


def _system_role(name: str, scope: Scope, description: str, permissions: frozenset[str]) -> Role:
    return Role(
        id=f"system:{name}",
        name=name,
        scope=scope,
        permissions=permissions,
        account_id=None,
        description=description,
    )


def _all(scope: Scope) -> frozenset[str]:
    return frozenset(p.name for p in _CATALOGUE if p.scope is scope)


_ADMINISTRATOR = frozenset(
    {
        "accounts.manage",
        "audit.read",
        "cos.manage",
        "domains.manage",
        "users.create",
        "users.manage",
        "users.read",
        "invitations.send",
        "mailboxes.manage",
        "phones.manage",
    }
)

SYSTEM_ROLES: Final[Mapping[str, Role]] = MappingProxyType(
    {
        role.id: role
        for role in (
            _system_role("owner", Scope.ACCOUNT, "Everything in the account.", _all(Scope.ACCOUNT)),
            _system_role(
                "administrator",
                Scope.ACCOUNT,
                "Runs the account day to day: users, domains, mailboxes, invitations.",
                _ADMINISTRATOR,
            ),
            _system_role("member", Scope.ACCOUNT, "Belongs to the account.", frozenset()),
            _system_role(
                "support",
                Scope.ACCOUNT,
                "Support staff: opens support sessions in the customers that allow them.",
                frozenset({"support.act"}),
            ),
            _system_role(
                "manager", Scope.MAILBOX, "Everything in the mailbox.", _all(Scope.MAILBOX)
            ),
            _system_role(
                "agent",
                Scope.MAILBOX,
                "Works the mailbox: reads, sends, files.",
                frozenset({"mailbox.read", "mailbox.send", "mailbox.organize"}),
            ),
            _system_role(
                "viewer", Scope.MAILBOX, "Reads the mailbox.", frozenset({"mailbox.read"})
            ),
        )
    }
)
"""The roles every account can use, by id (`system:owner` ...); they belong to no account."""

OWNER_ROLE: Final = "system:owner"
"""The system role that holds everything in an account (its owners hold it)."""
ADMINISTRATOR_ROLE: Final = "system:administrator"
"""The system role that runs an account day to day."""


def permission(name: str) -> Permission:
    """The catalogued permission called `name`; KeyError if there is none."""
    return PERMISSIONS[name]
