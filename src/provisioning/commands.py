"""Commands: one frozen class per intent.

A command holds raw input as a caller, a spreadsheet row or a JSON document
gives it (strings, numbers, flags); validation turns it into model values and
reports every problem as an `Issue`. Update commands carry the `version` the
entity was read at, and `UNCHANGED` for every field they leave alone.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Final, TypeAlias

import attrs

__all__ = [
    "UNCHANGED",
    "Command",
    "CreateAccount",
    "CreateClassOfService",
    "DeleteClassOfService",
    "Unchanged",
    "UpdateAccount",
    "UpdateClassOfService",
]


class Unchanged(enum.Enum):
    """The type of `UNCHANGED`."""

    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = Unchanged.UNCHANGED
"""Marks a field an update command leaves as it is (None may be a real new value)."""


def _names(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@attrs.frozen(kw_only=True)
class CreateAccount:
    """Create a tenant account; with `parent_id`, a customer account under that parent.

    `account_id` chooses the new account's id (so later commands of the same
    batch can refer to it); by default the context's `IdSource` picks one.
    """

    name: str
    account_id: str | None = None
    parent_id: str | None = None
    personal_mailbox_on_create: bool = False


@attrs.frozen(kw_only=True)
class UpdateAccount:
    """Rename an account or change its settings."""

    account_id: str
    version: int
    name: str | Unchanged = UNCHANGED
    personal_mailbox_on_create: bool | Unchanged = UNCHANGED


@attrs.frozen(kw_only=True)
class CreateClassOfService:
    """Define a class of service for an account, or platform-wide with `account_id` None.

    Only the platform operator defines platform-wide classes of service, and
    only those may be `system` (reserved, never assigned to a user). `cos_id`
    chooses the new id, as `CreateAccount.account_id` does.
    """

    name: str
    account_id: str | None = None
    cos_id: str | None = None
    description: str = ""
    system: bool = False
    admin_panel: bool = False
    quota_mb: int | None = None
    features: frozenset[str] = attrs.field(default=frozenset(), converter=_names)


@attrs.frozen(kw_only=True)
class UpdateClassOfService:
    """Change a class of service; its name and `system` flag are fixed once created."""

    cos_id: str
    version: int
    description: str | Unchanged = UNCHANGED
    admin_panel: bool | Unchanged = UNCHANGED
    quota_mb: int | Unchanged | None = UNCHANGED
    features: frozenset[str] | Unchanged = UNCHANGED


@attrs.frozen(kw_only=True)
class DeleteClassOfService:
    """Delete a class of service that no user and no domain uses."""

    cos_id: str
    version: int | None = None


Command: TypeAlias = (
    CreateAccount
    | UpdateAccount
    | CreateClassOfService
    | UpdateClassOfService
    | DeleteClassOfService
)
"""Every command the workflow accepts."""
