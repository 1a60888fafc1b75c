"""What some commands return besides an entity: secrets shown once, sign-in outcomes, reports.

Secret fields are hidden from `repr`; show them to the person they are for,
then let them go: the library keeps only hashes.
"""

from __future__ import annotations

import attrs

from provisioning.model import Invitation, User

__all__ = [
    "Authentication",
    "DirectorySyncReport",
    "InvitationIssued",
    "MfaEnrollment",
    "PasswordReset",
]


@attrs.frozen
class PasswordReset:
    """A generated password, returned this once; the user must change it at next sign-in."""

    user: User
    password: str = attrs.field(repr=False)


@attrs.frozen
class MfaEnrollment:
    """A new TOTP secret and the `otpauth://` URI an authenticator app reads."""

    user: User
    secret: str = attrs.field(repr=False)
    uri: str = attrs.field(repr=False)


@attrs.frozen
class Authentication:
    """A successful sign-in, and what the user must do next."""

    user_id: str
    must_change_password: bool
    mfa_setup_required: bool


@attrs.frozen
class DirectorySyncReport:
    """What a directory synchronisation did, by username."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()


@attrs.frozen
class InvitationIssued:
    """An invitation and its raw token, for the link in the email; returned this once."""

    invitation: Invitation
    token: str = attrs.field(repr=False)
    registered: bool
