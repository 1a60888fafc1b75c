"""Commands on administrators (owners and admins of an account)."""

from __future__ import annotations

import attrs

from provisioning.commands._base import (
    UNCHANGED,
    AddressText,
    Command,
    Unchanged,
    VersionNumber,
    _names,
    _names_or_unchanged,
)
from provisioning.model import (
    User,
)

__all__ = ["CreateAdmin", "DeleteAdmin", "UpdateAdmin"]


@attrs.frozen(kw_only=True)
class CreateAdmin(Command[User]):
    """Create an administrator `<admin-id>@<domain>` holding `role_ids` in the account."""

    account_id: str
    address: AddressText
    primary_email: AddressText
    role_ids: frozenset[str] = attrs.field(converter=_names)
    user_id: str | None = None


@attrs.frozen(kw_only=True)
class UpdateAdmin(Command[User]):
    """Change an administrator's primary email or roles (a super admin's roles are fixed)."""

    user_id: str
    version: VersionNumber
    primary_email: AddressText | Unchanged = UNCHANGED
    role_ids: frozenset[str] | Unchanged = attrs.field(
        default=UNCHANGED, converter=_names_or_unchanged
    )


@attrs.frozen(kw_only=True)
class DeleteAdmin(Command[None]):
    """Delete an administrator; the super admin cannot be deleted."""

    user_id: str
    version: VersionNumber | None = None
