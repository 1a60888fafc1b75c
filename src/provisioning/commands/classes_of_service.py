"""Commands on classes of service: create, update, delete."""

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
    ClassOfService,
    PasswordPolicy,
)

__all__ = ["CreateClassOfService", "DeleteClassOfService", "UpdateClassOfService"]


@attrs.frozen(kw_only=True)
class CreateClassOfService(Command[ClassOfService]):
    """Define a class of service for an account, or platform-wide with `account_id` None.

    Only the platform operator defines platform-wide classes of service, and
    only those may be `system` (reserved, never assigned to a user). `cos_id`
    chooses the new id, as `CreateAccount.account_id` does.
    """

    name: str
    account_id: str | None = None
    cos_id: str | None = None
    description: DescriptionText = ""
    system: bool = False
    admin_panel: bool = False
    quota_mb: int | None = None
    features: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    password_policy: PasswordPolicy | None = None


@attrs.frozen(kw_only=True)
class UpdateClassOfService(Command[ClassOfService]):
    """Change a class of service; its name and `system` flag are fixed once created."""

    cos_id: str
    version: VersionNumber
    description: DescriptionText | Unchanged = UNCHANGED
    admin_panel: bool | Unchanged = UNCHANGED
    quota_mb: int | Unchanged | None = UNCHANGED
    features: frozenset[str] | Unchanged = attrs.field(
        default=UNCHANGED, converter=_names_or_unchanged
    )
    password_policy: PasswordPolicy | Unchanged | None = UNCHANGED


@attrs.frozen(kw_only=True)
class DeleteClassOfService(Command[None]):
    """Delete a class of service that no user and no domain uses."""

    cos_id: str
    version: VersionNumber | None = None
