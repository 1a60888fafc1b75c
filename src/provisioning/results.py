"""What some commands return besides an entity: secrets shown once, sign-in outcomes, reports.

Secret fields are hidden from `repr`; show them to the person they are for,
then let them go: the library keeps only hashes.
"""

from __future__ import annotations

import attrs

from provisioning.model import SECRET, ApiClient, Invitation, User

__all__ = [
    "ApiClientIssued",
    "Authentication",
    "DirectorySyncReport",
    "InvitationIssued",
    "MfaEnrollment",
    "PasswordReset",
]


@attrs.frozen
class PasswordReset:
    """A generated password, returned this once; the user must change it at next sign-in.

    `password` is a one-time secret for the caller to hand to the user: it is
    left out of `repr` and of `to_export`, so read the attribute itself.
    """

    user: User
    password: str = attrs.field(repr=False, metadata={SECRET: True})


@attrs.frozen
class MfaEnrollment:
    """A new TOTP secret and the `otpauth://` URI an authenticator app reads.

    Both are secrets handed to the caller once, through these attributes:
    they are left out of `repr` and of `to_export`.
    """

    user: User
    secret: str = attrs.field(repr=False, metadata={SECRET: True})
    uri: str = attrs.field(repr=False, metadata={SECRET: True})


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
    """An invitation and its raw token, for the link in the email; returned this once.

    `token` is a one-time secret, read through the attribute: it is left out
    of `repr` and of `to_export`. `registered` says whether the address is a
    user this account knows already (one of its own or a member); a user of
    another account counts as not registered, so the answer reveals nothing.
    """

    invitation: Invitation
    token: str = attrs.field(repr=False, metadata={SECRET: True})
    registered: bool


@attrs.frozen
class ApiClientIssued:
    """An API client and its token, returned this once (the library keeps only a hash).

    `token` is what the client presents (`provisioning.queries.authenticate_client`):
    its id and its secret in one string. It is left out of `repr` and of
    `to_export`, so read the attribute itself, and hand it to the machine
    it is for.
    """

    client: ApiClient
    token: str = attrs.field(repr=False, metadata={SECRET: True})
