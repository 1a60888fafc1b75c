"""Commands on shared and personal mailboxes."""

from __future__ import annotations

import attrs

from provisioning.commands._base import UNCHANGED, AddressText, Command, Unchanged, VersionNumber
from provisioning.model import (
    Mailbox,
)

__all__ = ["CreateMailbox", "CreatePersonalMailbox", "DeleteMailbox", "RenameMailbox"]


@attrs.frozen(kw_only=True)
class CreateMailbox(Command[Mailbox]):
    """Create a shared mailbox of the account at an address on one of its active domains."""

    account_id: str
    address: AddressText
    display_name: str = ""
    mailbox_id: str | None = None


@attrs.frozen(kw_only=True)
class RenameMailbox(Command[Mailbox]):
    """Change a mailbox's address and/or display name."""

    mailbox_id: str
    version: VersionNumber
    address: AddressText | Unchanged = UNCHANGED
    display_name: str | Unchanged = UNCHANGED


@attrs.frozen(kw_only=True)
class DeleteMailbox(Command[None]):
    """Delete a mailbox and every grant in it."""

    mailbox_id: str
    version: VersionNumber | None = None


@attrs.frozen(kw_only=True)
class CreatePersonalMailbox(Command[Mailbox]):
    """Create a user's personal mailbox at its username; the user manages it."""

    user_id: str
