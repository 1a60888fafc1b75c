"""Commands on credentials: passwords, their recovery, MFA, and signing in."""

from __future__ import annotations

import attrs

from provisioning.commands._base import AddressText, CodeText, Command, PasswordText, TokenText
from provisioning.model import (
    SECRET,
    User,
)
from provisioning.results import (
    Authentication,
    MfaEnrollment,
    PasswordReset,
)

__all__ = [
    "Authenticate",
    "CompletePasswordRecovery",
    "CompletePasswordSetup",
    "EnrollMfa",
    "FinalizeMfa",
    "ReinitializeMfa",
    "ResetPassword",
    "SetPassword",
    "StartPasswordRecovery",
]


@attrs.frozen(kw_only=True)
class SetPassword(Command[User]):
    """Set a user's password. A user changing its own gives `current_password` too."""

    user_id: str
    password: PasswordText = attrs.field(repr=False, metadata={SECRET: True})
    password_repeat: PasswordText = attrs.field(repr=False, metadata={SECRET: True})
    current_password: PasswordText | None = attrs.field(
        default=None, repr=False, metadata={SECRET: True}
    )


@attrs.frozen(kw_only=True)
class ResetPassword(Command[PasswordReset]):
    """Replace a user's password by a generated one, returned once; it must be changed."""

    user_id: str


@attrs.frozen(kw_only=True)
class CompletePasswordSetup(Command[User]):
    """Set the first password through the one-time link sent when the user was created.

    Anyone holding the link may issue it (as `Actor.anonymous()`): the
    token is the proof. The link works once, until it expires.
    """

    user_id: str
    token: TokenText = attrs.field(repr=False, metadata={SECRET: True})
    password: PasswordText = attrs.field(repr=False, metadata={SECRET: True})
    password_repeat: PasswordText = attrs.field(repr=False, metadata={SECRET: True})


@attrs.frozen(kw_only=True)
class StartPasswordRecovery(Command[None]):
    """Forgot password: send a one-time recovery code to the alternate email or mobile.

    Anyone may issue it (as `Actor.anonymous()`). The answer is the same
    whether or not the username exists, can recover (an alternate email or a
    mobile number) or is managed by a directory, and whether or not too many
    codes were asked for lately: an application shows one message for all.
    """

    username: AddressText


@attrs.frozen(kw_only=True)
class CompletePasswordRecovery(Command[None]):
    """Set a new password with the recovery code `StartPasswordRecovery` sent.

    Any problem with the username or the code is `recovery.invalid`; the
    code works once, for a short while, and for a few tries only.
    """

    username: AddressText
    code: CodeText = attrs.field(repr=False, metadata={SECRET: True})
    password: PasswordText = attrs.field(repr=False, metadata={SECRET: True})
    password_repeat: PasswordText = attrs.field(repr=False, metadata={SECRET: True})


@attrs.frozen(kw_only=True)
class EnrollMfa(Command[MfaEnrollment]):
    """Start multi-factor set-up: a new secret and its `otpauth://` URI; MFA is pending."""

    user_id: str


@attrs.frozen(kw_only=True)
class FinalizeMfa(Command[User]):
    """Finish multi-factor set-up with a code from the authenticator: MFA is active."""

    user_id: str
    code: CodeText = attrs.field(repr=False, metadata={SECRET: True})


@attrs.frozen(kw_only=True)
class ReinitializeMfa(Command[MfaEnrollment]):
    """Reset an active MFA set-up (a new device, say): a new secret, pending again."""

    user_id: str


@attrs.frozen(kw_only=True)
class Authenticate(Command[Authentication]):
    """Check a username, a password and (when MFA is active) a one-time code.

    Set `captcha_passed` once the application has checked a CAPTCHA the
    previous attempt asked for (`auth.captcha_required`). Each attempt is
    counted against the name typed before it is checked, even by a `plan`
    that is never applied; a refusal is audited when it goes through `run`
    or `apply`.
    """

    username: AddressText
    password: PasswordText = attrs.field(repr=False, metadata={SECRET: True})
    code: CodeText | None = attrs.field(default=None, repr=False, metadata={SECRET: True})
    captcha_passed: bool = False
