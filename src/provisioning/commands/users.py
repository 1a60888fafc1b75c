"""Commands on users: create, update, rename, delete."""

from __future__ import annotations

import attrs

from provisioning.commands._base import (
    UNCHANGED,
    AddressText,
    Command,
    LanguageText,
    MobileText,
    PasswordText,
    Unchanged,
    VersionNumber,
    ZoneText,
    _texts,
    _texts_or_unchanged,
)
from provisioning.model import (
    SECRET,
    User,
)

__all__ = [
    "CreateUser",
    "DeleteUser",
    "RenameUser",
    "RequestUsersReport",
    "UpdateUser",
]


@attrs.frozen(kw_only=True)
class CreateUser(Command[User]):
    """Create a user on an active domain of the account.

    `password` and `password_repeat` must be equal and satisfy the password
    policy; without both, the user has no password yet and cannot sign in
    until one is set. Without `cos_id` the domain's default class of service
    applies.
    `display_name` None means "first and last name"; aliases are full
    addresses on the account's active domains. `personal_mailbox` None
    follows the account's `personal_mailbox_on_create` setting.
    `must_change_password` makes the user change the given password at its
    first sign-in. A user created with `enabled` False (suspended where it
    came from) cannot sign in and gets no welcome message; without a
    password, its set-password link goes out when it is enabled.
    `external_id` is the id the user's directory knows it by (unique in the
    account among that directory's users); `title` to `preferred_language`
    are the organisation's attributes (see `provisioning.model.Profile`).
    """

    account_id: str
    username: AddressText
    password: PasswordText | None = attrs.field(default=None, repr=False, metadata={SECRET: True})
    password_repeat: PasswordText | None = attrs.field(
        default=None, repr=False, metadata={SECRET: True}
    )
    must_change_password: bool = False
    enabled: bool = True
    cos_id: str | None = None
    mfa_required: bool = False
    first_name: str = ""
    last_name: str = ""
    display_name: str | None = None
    alternate_email: AddressText | None = None
    mobile: MobileText | None = None
    timezone: ZoneText | None = None
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    personal_mailbox: bool | None = None
    external_id: str | None = None
    title: str = ""
    department: str = ""
    employee_number: str = ""
    cost_center: str = ""
    organization: str = ""
    division: str = ""
    manager: str = ""
    locale: LanguageText = ""
    preferred_language: LanguageText = ""
    user_id: str | None = None


@attrs.frozen(kw_only=True)
class UpdateUser(Command[User]):
    """Change a user's profile, aliases, class of service, MFA requirement or default mailbox.

    Setting `display_name` to None returns it to "first and last name";
    `default_mailbox_id` None, to the personal mailbox; `external_id` None
    forgets it. Users change their own profile and default mailbox (not the
    organisation's attributes, nor their external id); administrators change
    the settings of their account's corporate users only.
    """

    user_id: str
    version: VersionNumber
    first_name: str | Unchanged = UNCHANGED
    last_name: str | Unchanged = UNCHANGED
    display_name: str | Unchanged | None = UNCHANGED
    alternate_email: AddressText | Unchanged | None = UNCHANGED
    mobile: MobileText | Unchanged | None = UNCHANGED
    timezone: ZoneText | Unchanged | None = UNCHANGED
    aliases: tuple[str, ...] | Unchanged = attrs.field(
        default=UNCHANGED, converter=_texts_or_unchanged
    )
    cos_id: str | Unchanged | None = UNCHANGED
    mfa_required: bool | Unchanged = UNCHANGED
    enabled: bool | Unchanged = UNCHANGED
    default_mailbox_id: str | Unchanged | None = UNCHANGED
    external_id: str | Unchanged | None = UNCHANGED
    title: str | Unchanged = UNCHANGED
    department: str | Unchanged = UNCHANGED
    employee_number: str | Unchanged = UNCHANGED
    cost_center: str | Unchanged = UNCHANGED
    organization: str | Unchanged = UNCHANGED
    division: str | Unchanged = UNCHANGED
    manager: str | Unchanged = UNCHANGED
    locale: LanguageText | Unchanged = UNCHANGED
    preferred_language: LanguageText | Unchanged = UNCHANGED


@attrs.frozen(kw_only=True)
class RenameUser(Command[User]):
    """Change a user's username (local part and/or domain); id, aliases and grants stay.

    The user's personal mailbox moves to the new address with it. The old
    address is freed, or, with `keep_old_as_alias`, kept as one of the
    user's aliases (on an active domain of the account, like any alias).
    """

    user_id: str
    version: VersionNumber
    username: AddressText
    keep_old_as_alias: bool = False


@attrs.frozen(kw_only=True)
class DeleteUser(Command[None]):
    """Delete a user and its grants. Corporate users cannot delete themselves."""

    user_id: str
    version: VersionNumber | None = None


@attrs.frozen(kw_only=True)
class RequestUsersReport(Command[None]):
    """Ask for the users report of the account by e-mail (seed 002).

    The report is made when its message is delivered, with the requester's
    rights at that moment, and attached as .xlsx. It goes to the
    requester's primary email if it is an administrator with one, else to
    its username. Needs `users.read`.
    """

    account_id: str
