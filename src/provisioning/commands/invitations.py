"""Commands on invitations: invite, revoke, resend, accept, decline, register."""

from __future__ import annotations

import attrs

from provisioning.commands._base import (
    AddressText,
    Command,
    PasswordText,
    TokenText,
    _names,
    _offers,
)
from provisioning.model import (
    SECRET,
    Invitation,
    MailboxOffer,
    User,
)
from provisioning.results import (
    InvitationIssued,
)

__all__ = [
    "AcceptInvitation",
    "DeclineInvitation",
    "InviteUser",
    "RegisterWithInvitation",
    "ResendInvitation",
    "RevokeInvitation",
]


@attrs.frozen(kw_only=True)
class InviteUser(Command[InvitationIssued]):
    """Invite an address to the account, offering roles and permissions (or nothing yet).

    The raw token comes back once, for the link in the invitation email.
    """

    account_id: str
    email: AddressText
    role_ids: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    permissions: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    mailboxes: tuple[MailboxOffer, ...] = attrs.field(default=(), converter=_offers)
    valid_for_days: int = 7
    invitation_id: str | None = None


@attrs.frozen(kw_only=True)
class RevokeInvitation(Command[Invitation]):
    """Withdraw a pending invitation."""

    invitation_id: str


@attrs.frozen(kw_only=True)
class ResendInvitation(Command[InvitationIssued]):
    """Send a pending (or expired) invitation again, with a new token and a new expiry."""

    invitation_id: str
    valid_for_days: int = 7


@attrs.frozen(kw_only=True)
class AcceptInvitation(Command[Invitation]):
    """A registered user accepts an invitation addressed to it: it gets what was offered."""

    invitation_id: str


@attrs.frozen(kw_only=True)
class DeclineInvitation(Command[Invitation]):
    """A registered user declines an invitation addressed to it: nothing is granted."""

    invitation_id: str


@attrs.frozen(kw_only=True)
class RegisterWithInvitation(Command[User]):
    """Someone new registers through an invitation link.

    Creates the profile (username = the invited address), a personal mailbox,
    and grants what was offered, in one transaction.
    """

    token: TokenText = attrs.field(repr=False, metadata={SECRET: True})
    password: PasswordText = attrs.field(repr=False, metadata={SECRET: True})
    password_repeat: PasswordText = attrs.field(repr=False, metadata={SECRET: True})
    first_name: str = ""
    last_name: str = ""
