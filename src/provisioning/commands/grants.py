"""Commands on roles and on the grants of roles and permissions to users."""

from __future__ import annotations

import attrs

from provisioning.commands._base import (
    UNCHANGED,
    Command,
    DescriptionText,
    Unchanged,
    VersionNumber,
    _names,
    _names_or_unchanged,
)
from provisioning.model import (
    Grant,
    Role,
    Scope,
)

__all__ = [
    "AddRoleMember",
    "CreateRole",
    "DeleteRole",
    "RemoveRoleMember",
    "SetGrant",
    "UpdateRole",
]


@attrs.frozen(kw_only=True)
class CreateRole(Command[Role]):
    """Create a custom role of the account: a named preset of permissions of one scope."""

    account_id: str
    name: str
    scope: Scope = Scope.ACCOUNT
    permissions: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    description: DescriptionText = ""
    external_id: str | None = None
    """The id an identity provider knows the role by (unique in the account, case-exact)."""
    role_id: str | None = None


@attrs.frozen(kw_only=True)
class UpdateRole(Command[Role]):
    """Rename a custom role or change its permissions (its scope is fixed)."""

    role_id: str
    version: VersionNumber
    name: str | Unchanged = UNCHANGED
    permissions: frozenset[str] | Unchanged = attrs.field(
        default=UNCHANGED, converter=_names_or_unchanged
    )
    description: DescriptionText | Unchanged = UNCHANGED
    external_id: str | Unchanged | None = UNCHANGED


@attrs.frozen(kw_only=True)
class DeleteRole(Command[None]):
    """Delete a custom role; refused while grants use it unless `detach` removes it from them."""

    role_id: str
    detach: bool = False


@attrs.frozen(kw_only=True)
class SetGrant(Command[Grant | None]):
    """Set exactly what a user holds in the account (`mailbox_id` None) or one of its mailboxes.

    Roles and individually selected permissions; both empty removes the grant.
    """

    user_id: str
    account_id: str
    mailbox_id: str | None = None
    role_ids: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    permissions: frozenset[str] = attrs.field(default=frozenset(), converter=_names)


@attrs.frozen(kw_only=True)
class AddRoleMember(Command[Role]):
    """Give the user an account-scope role in the role's account, keeping what else it holds.

    The change is the user's grant there, as `SetGrant` makes it (the same
    rights, rank and rules), with the role added; a member already holding
    it is left as it is. `version`, when given, is the custom role's as it
    was read: a member added or removed since makes it `version.stale`, so
    two changes of the members never lose one. A system role names its
    account with `account_id` (a custom role's is its own). The result is
    the role as stored after the change.
    """

    role_id: str
    user_id: str
    version: VersionNumber | None = None
    account_id: str | None = None


@attrs.frozen(kw_only=True)
class RemoveRoleMember(Command[Role]):
    """Take an account-scope role from the user, keeping what else it holds (see `AddRoleMember`).

    A user that does not hold it is left as it is; a grant left empty goes.
    """

    role_id: str
    user_id: str
    version: VersionNumber | None = None
    account_id: str | None = None
