"""Commands: one frozen class per intent.

A command holds raw input as a caller, a spreadsheet row or a JSON document
gives it (strings, numbers, flags); validation turns it into model values and
reports every problem as an `Issue`. Update commands carry the `version` the
entity was read at, and `UNCHANGED` for every field they leave alone.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any, Final, Generic, TypeVar

import attrs

from provisioning.model import (
    SECRET,
    Account,
    ClassOfService,
    Device,
    DirectNumber,
    Domain,
    Grant,
    Invitation,
    Mailbox,
    MailboxOffer,
    PasswordPolicy,
    PhoneSeat,
    Role,
    Scope,
    SignInPolicy,
    StationPackage,
    SupportRelationship,
    SupportSession,
    User,
)
from provisioning.results import (
    Authentication,
    DirectorySyncReport,
    InvitationIssued,
    MfaEnrollment,
    PasswordReset,
)

__all__ = [
    "UNCHANGED",
    "AcceptInvitation",
    "ActivateDomain",
    "AddDevice",
    "AddDomain",
    "AddPhoneNumbers",
    "ApproveSupportAccess",
    "AssignDevice",
    "Authenticate",
    "ChangeStation",
    "CloseSupportSession",
    "Command",
    "CompletePasswordRecovery",
    "CompletePasswordSetup",
    "CreateAccount",
    "CreateAdmin",
    "CreateClassOfService",
    "CreateMailbox",
    "CreatePersonalMailbox",
    "CreateRole",
    "CreateUser",
    "DeactivateDomain",
    "DeclineInvitation",
    "DeleteAccount",
    "DeleteAdmin",
    "DeleteClassOfService",
    "DeleteDomain",
    "DeleteMailbox",
    "DeleteRole",
    "DeleteUser",
    "DirectoryEntry",
    "EndSupportAccess",
    "EnrollMfa",
    "FinalizeMfa",
    "InviteUser",
    "OpenSupportSession",
    "RegisterWithInvitation",
    "ReinitializeMfa",
    "ReleaseNumber",
    "RemoveDevice",
    "RemovePhoneNumber",
    "RenameMailbox",
    "RenameUser",
    "RequestSupportAccess",
    "ResendInvitation",
    "ResetPassword",
    "RevokeInvitation",
    "SetDomainPolicy",
    "SetGrant",
    "SetPassword",
    "SetStationPackage",
    "SetUpPhoneUser",
    "SettleFormerUsers",
    "StartPasswordRecovery",
    "SyncDirectory",
    "UnassignDevice",
    "Unchanged",
    "UnverifyDomain",
    "UpdateAccount",
    "UpdateAdmin",
    "UpdateClassOfService",
    "UpdateDomain",
    "UpdateRole",
    "UpdateUser",
    "VerifyDomain",
]


_R_co = TypeVar("_R_co", covariant=True)
_T = TypeVar("_T")


class Command(Generic[_R_co]):
    """The base of every command; `_R_co` is what applying the command yields.

    `run(ctx, actor, CreateUser(...))` is typed as a `User`, and `plan` takes
    nothing but commands. An application's own commands derive from it too.
    """

    __slots__ = ()


class Unchanged(enum.Enum):
    """The type of `UNCHANGED`."""

    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = Unchanged.UNCHANGED
"""Marks a field an update command leaves as it is (None may be a real new value)."""


def _collect(kind: Callable[[Iterable[Any]], _T], values: object) -> _T:
    """`kind(values)` for a real collection; anything else is kept for the checks to refuse.

    A string is not split into its letters, and a number does not raise
    here: planning the command reports either as `value.type`.
    """
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        return values  # type: ignore[return-value]
    try:
        return kind(values)
    except TypeError:  # unhashable members
        return values  # type: ignore[return-value]


def _names(values: Iterable[str]) -> frozenset[str]:
    return _collect(frozenset, values)


def _offers(values: Iterable[MailboxOffer]) -> tuple[MailboxOffer, ...]:
    return _collect(tuple, values)


def _texts(values: Iterable[str]) -> tuple[str, ...]:
    return _collect(tuple, values)


def _texts_or_unchanged(values: Iterable[str] | Unchanged) -> tuple[str, ...] | Unchanged:
    return values if isinstance(values, Unchanged) else _texts(values)


def _names_or_unchanged(values: Iterable[str] | Unchanged) -> frozenset[str] | Unchanged:
    return values if isinstance(values, Unchanged) else _names(values)


@attrs.frozen(kw_only=True)
class CreateAccount(Command[Account]):
    """Create a tenant account; with `parent_id`, a customer account under that parent.

    `account_id` chooses the new account's id (so later commands of the same
    batch can refer to it); by default the context's `IdSource` picks one.
    """

    name: str
    account_id: str | None = None
    parent_id: str | None = None
    personal_mailbox_on_create: bool = False


@attrs.frozen(kw_only=True)
class UpdateAccount(Command[Account]):
    """Rename an account or change its settings.

    `default_cos_id` is the class of service new users get when their domain
    names none: one of the account's own, not one that opens the admin panel.
    `phone_region` (ISO 3166, `CH`) is where its phone numbers typed without
    their country code belong; `extension_min` and `extension_max` bound its
    phone extensions' digits (1 to 15), and every extension in use must fit.
    `support_consent` lets the parent's requests for support access be active
    at once, without asking; only the owner (`support.approve`) sets it.
    """

    account_id: str
    version: int
    name: str | Unchanged = UNCHANGED
    personal_mailbox_on_create: bool | Unchanged = UNCHANGED
    password_policy: PasswordPolicy | Unchanged = UNCHANGED
    sign_in_policy: SignInPolicy | Unchanged = UNCHANGED
    default_cos_id: str | Unchanged = UNCHANGED
    phone_region: str | Unchanged | None = UNCHANGED
    extension_min: int | Unchanged = UNCHANGED
    extension_max: int | Unchanged = UNCHANGED
    support_consent: bool | Unchanged = UNCHANGED


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
    description: str = ""
    system: bool = False
    admin_panel: bool = False
    quota_mb: int | None = None
    features: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    password_policy: PasswordPolicy | None = None


@attrs.frozen(kw_only=True)
class UpdateClassOfService(Command[ClassOfService]):
    """Change a class of service; its name and `system` flag are fixed once created."""

    cos_id: str
    version: int
    description: str | Unchanged = UNCHANGED
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
    version: int | None = None


@attrs.frozen(kw_only=True)
class SetDomainPolicy(Command[Account]):
    """Restrict the domains an account may add: top-level domains, how many.

    Set from above: by the platform operator, or for a customer account by
    whoever may create accounts under its parent.
    """

    account_id: str
    allowed_tlds: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    max_domains: int | None = None


@attrs.frozen(kw_only=True)
class DeleteAccount(Command[None]):
    """Delete an account, irreversibly; `confirm_name` must repeat its name.

    Its users lose access to it and to its mailboxes but stay corporate users.
    """

    account_id: str
    confirm_name: str


@attrs.frozen(kw_only=True)
class AddDomain(Command[Domain]):
    """Add a domain to an account; it starts pending, with a verification token.

    The account's first domain also creates its super admin,
    `postmaster@<domain>`, whose one-time codes go to `admin_email`.
    """

    account_id: str
    name: str
    primary_domain: str | None = None
    require_2fa: bool = False
    captcha_on_login: bool = False
    default_cos_id: str | None = None
    admin_email: str | None = None
    domain_id: str | None = None


@attrs.frozen(kw_only=True)
class UpdateDomain(Command[Domain]):
    """Change a domain's primary domain, security defaults or default class of service."""

    domain_id: str
    version: int
    primary_domain: str | Unchanged | None = UNCHANGED
    require_2fa: bool | Unchanged = UNCHANGED
    captcha_on_login: bool | Unchanged = UNCHANGED
    default_cos_id: str | Unchanged | None = UNCHANGED


@attrs.frozen(kw_only=True)
class VerifyDomain(Command[Domain]):
    """Check the domain's DNS for its verification TXT record: pending -> verified."""

    domain_id: str


@attrs.frozen(kw_only=True)
class ActivateDomain(Command[Domain]):
    """Put a verified (or deactivated) domain into service: -> active."""

    domain_id: str


@attrs.frozen(kw_only=True)
class DeactivateDomain(Command[Domain]):
    """Take an active domain out of service: active -> inactive."""

    domain_id: str


@attrs.frozen(kw_only=True)
class UnverifyDomain(Command[Domain]):
    """Withdraw a domain's verification: back to pending."""

    domain_id: str


@attrs.frozen(kw_only=True)
class DeleteDomain(Command[None]):
    """Delete a domain, irreversibly; `confirm_name` must repeat its name.

    Refused while users, aliases or mailboxes live on it, unless
    `remove_dependents` asks to remove them in the same transaction.
    """

    domain_id: str
    confirm_name: str
    remove_dependents: bool = False


@attrs.frozen(kw_only=True)
class SettleFormerUsers(Command[None]):
    """Decide about the users a deleted account left on a domain this account now holds.

    They kept their addresses and their corporate status, but cannot sign
    in. `adopt` makes users of this account of them, with the domain's
    defaults and a set-password link instead of their old password; `remove`
    deletes them. `queries.former_users` lists them.
    """

    domain_id: str
    adopt: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    remove: frozenset[str] = attrs.field(default=frozenset(), converter=_names)


@attrs.frozen(kw_only=True)
class CreateAdmin(Command[User]):
    """Create an administrator `<admin-id>@<domain>` holding `role_ids` in the account."""

    account_id: str
    address: str
    primary_email: str
    role_ids: frozenset[str] = attrs.field(converter=_names)
    user_id: str | None = None


@attrs.frozen(kw_only=True)
class UpdateAdmin(Command[User]):
    """Change an administrator's primary email or roles (a super admin's roles are fixed)."""

    user_id: str
    version: int
    primary_email: str | Unchanged = UNCHANGED
    role_ids: frozenset[str] | Unchanged = attrs.field(
        default=UNCHANGED, converter=_names_or_unchanged
    )


@attrs.frozen(kw_only=True)
class DeleteAdmin(Command[None]):
    """Delete an administrator; the super admin cannot be deleted."""

    user_id: str
    version: int | None = None


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
    """

    account_id: str
    username: str
    password: str | None = attrs.field(default=None, repr=False, metadata={SECRET: True})
    password_repeat: str | None = attrs.field(default=None, repr=False, metadata={SECRET: True})
    must_change_password: bool = False
    enabled: bool = True
    cos_id: str | None = None
    mfa_required: bool = False
    first_name: str = ""
    last_name: str = ""
    display_name: str | None = None
    alternate_email: str | None = None
    mobile: str | None = None
    timezone: str | None = None
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    personal_mailbox: bool | None = None
    user_id: str | None = None


@attrs.frozen(kw_only=True)
class UpdateUser(Command[User]):
    """Change a user's profile, aliases, class of service, MFA requirement or default mailbox.

    Setting `display_name` to None returns it to "first and last name";
    `default_mailbox_id` None, to the personal mailbox. Users change their
    own profile and default mailbox; administrators change the settings of
    their account's corporate users only.
    """

    user_id: str
    version: int
    first_name: str | Unchanged = UNCHANGED
    last_name: str | Unchanged = UNCHANGED
    display_name: str | Unchanged | None = UNCHANGED
    alternate_email: str | Unchanged | None = UNCHANGED
    mobile: str | Unchanged | None = UNCHANGED
    timezone: str | Unchanged | None = UNCHANGED
    aliases: tuple[str, ...] | Unchanged = attrs.field(
        default=UNCHANGED, converter=_texts_or_unchanged
    )
    cos_id: str | Unchanged | None = UNCHANGED
    mfa_required: bool | Unchanged = UNCHANGED
    enabled: bool | Unchanged = UNCHANGED
    default_mailbox_id: str | Unchanged | None = UNCHANGED


@attrs.frozen(kw_only=True)
class RenameUser(Command[User]):
    """Change a user's username (local part and/or domain); id, aliases and grants stay.

    The user's personal mailbox moves to the new address with it. The old
    address is freed, or, with `keep_old_as_alias`, kept as one of the
    user's aliases (on an active domain of the account, like any alias).
    """

    user_id: str
    version: int
    username: str
    keep_old_as_alias: bool = False


@attrs.frozen(kw_only=True)
class DeleteUser(Command[None]):
    """Delete a user and its grants. Corporate users cannot delete themselves."""

    user_id: str
    version: int | None = None


@attrs.frozen(kw_only=True)
class SetPassword(Command[User]):
    """Set a user's password. A user changing its own gives `current_password` too."""

    user_id: str
    password: str = attrs.field(repr=False, metadata={SECRET: True})
    password_repeat: str = attrs.field(repr=False, metadata={SECRET: True})
    current_password: str | None = attrs.field(default=None, repr=False, metadata={SECRET: True})


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
    token: str = attrs.field(repr=False, metadata={SECRET: True})
    password: str = attrs.field(repr=False, metadata={SECRET: True})
    password_repeat: str = attrs.field(repr=False, metadata={SECRET: True})


@attrs.frozen(kw_only=True)
class StartPasswordRecovery(Command[None]):
    """Forgot password: send a one-time recovery code to the alternate email or mobile.

    Anyone may issue it (as `Actor.anonymous()`). The answer is the same
    whether or not the username exists, can recover (an alternate email or a
    mobile number) or is managed by a directory, and whether or not too many
    codes were asked for lately: an application shows one message for all.
    """

    username: str


@attrs.frozen(kw_only=True)
class CompletePasswordRecovery(Command[None]):
    """Set a new password with the recovery code `StartPasswordRecovery` sent.

    Any problem with the username or the code is `recovery.invalid`; the
    code works once, for a short while, and for a few tries only.
    """

    username: str
    code: str = attrs.field(repr=False, metadata={SECRET: True})
    password: str = attrs.field(repr=False, metadata={SECRET: True})
    password_repeat: str = attrs.field(repr=False, metadata={SECRET: True})


@attrs.frozen(kw_only=True)
class EnrollMfa(Command[MfaEnrollment]):
    """Start multi-factor set-up: a new secret and its `otpauth://` URI; MFA is pending."""

    user_id: str


@attrs.frozen(kw_only=True)
class FinalizeMfa(Command[User]):
    """Finish multi-factor set-up with a code from the authenticator: MFA is active."""

    user_id: str
    code: str = attrs.field(repr=False, metadata={SECRET: True})


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

    username: str
    password: str = attrs.field(repr=False, metadata={SECRET: True})
    code: str | None = attrs.field(default=None, repr=False, metadata={SECRET: True})
    captcha_passed: bool = False


@attrs.frozen(kw_only=True)
class DirectoryEntry:
    """One user as a directory service describes it."""

    username: str
    first_name: str = ""
    last_name: str = ""
    alternate_email: str | None = None
    mobile: str | None = None
    enabled: bool = True


def _entries(values: Iterable[DirectoryEntry]) -> tuple[DirectoryEntry, ...]:
    return _collect(tuple, values)


@attrs.frozen(kw_only=True)
class SyncDirectory(Command[DirectorySyncReport]):
    """Make the account's users of one directory service match the entries given.

    Missing users are created, changed ones updated, and users of the service
    absent from `entries` disabled. The library speaks no LDAP: the caller
    reads the directory and hands the entries over.
    """

    account_id: str
    directory_service: str
    entries: tuple[DirectoryEntry, ...] = attrs.field(converter=_entries)


@attrs.frozen(kw_only=True)
class CreateRole(Command[Role]):
    """Create a custom role of the account: a named preset of permissions of one scope."""

    account_id: str
    name: str
    scope: Scope = Scope.ACCOUNT
    permissions: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    description: str = ""
    role_id: str | None = None


@attrs.frozen(kw_only=True)
class UpdateRole(Command[Role]):
    """Rename a custom role or change its permissions (its scope is fixed)."""

    role_id: str
    version: int
    name: str | Unchanged = UNCHANGED
    permissions: frozenset[str] | Unchanged = attrs.field(
        default=UNCHANGED, converter=_names_or_unchanged
    )
    description: str | Unchanged = UNCHANGED


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
class CreateMailbox(Command[Mailbox]):
    """Create a shared mailbox of the account at an address on one of its active domains."""

    account_id: str
    address: str
    display_name: str = ""
    mailbox_id: str | None = None


@attrs.frozen(kw_only=True)
class RenameMailbox(Command[Mailbox]):
    """Change a mailbox's address and/or display name."""

    mailbox_id: str
    version: int
    address: str | Unchanged = UNCHANGED
    display_name: str | Unchanged = UNCHANGED


@attrs.frozen(kw_only=True)
class DeleteMailbox(Command[None]):
    """Delete a mailbox and every grant in it."""

    mailbox_id: str
    version: int | None = None


@attrs.frozen(kw_only=True)
class AddPhoneNumbers(Command[tuple[DirectNumber, ...]]):
    """Add phone numbers to the account's inventory, free for its users.

    A number typed without its country code belongs to the account's
    `phone_region`; each is stored in E.164, and is one account's only.
    """

    account_id: str
    numbers: tuple[str, ...] = attrs.field(converter=_texts)


@attrs.frozen(kw_only=True)
class RemovePhoneNumber(Command[None]):
    """Take a number out of the account's inventory; it must be free (assigned to nobody)."""

    number_id: str
    version: int | None = None


@attrs.frozen(kw_only=True)
class SetStationPackage(Command[StationPackage]):
    """Set how many stations of a kind the account owns, and the applications they permit.

    The platform operator (who sells them) creates a package by name or
    changes it; `owned` never goes below the stations in use.
    """

    account_id: str
    name: str
    owned: int
    applications: frozenset[str] = attrs.field(default=frozenset(), converter=_names)


@attrs.frozen(kw_only=True)
class SetUpPhoneUser(Command[PhoneSeat]):
    """Create a user of the phone system, with its station, number or extension, applications.

    `email` is where the user is written to (its welcome message goes
    there); `username` is its user id, in the form of an email address.
    One of `number_id` (a free number of the account) and `extension` (its
    digits) is required, both may be given. `station` names a package of the
    account (by name or id) with a station left; `applications` must be
    ones that package permits. `device_id` names a free device of the
    account to be the user's primary, using `device_ports` of its ports.
    """

    account_id: str
    first_name: str
    last_name: str
    email: str
    username: str
    station: str
    number_id: str | None = None
    extension: str | None = None
    applications: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    user_id: str | None = None
    device_id: str | None = None
    device_ports: int = 1


@attrs.frozen(kw_only=True)
class AddDevice(Command[Device]):
    """Add an IP phone to the account's inventory, free for its phone users.

    `mac` is its hardware address in any usual spelling (`00:1A:2B:3C:4D:5E`,
    `001a.2b3c.4d5e` ...), stored normalised; `ports` is how many lines
    the model has.
    """

    account_id: str
    model: str
    mac: str
    ports: int = 1


@attrs.frozen(kw_only=True)
class RemoveDevice(Command[None]):
    """Take a device out of the account's inventory; it must be assigned to nobody."""

    device_id: str
    version: int | None = None


@attrs.frozen(kw_only=True)
class AssignDevice(Command[Device]):
    """Give a phone user a free device of its account, using `ports` of the model's ports.

    With `primary` None the device becomes the user's primary if it has
    none, else a secondary one. `primary=True` makes it the primary (a
    secondary device of the user's included: the old primary becomes a
    secondary one); `primary=False` a secondary one, beside a primary.
    """

    user_id: str
    device_id: str
    ports: int = 1
    primary: bool | None = None


@attrs.frozen(kw_only=True)
class UnassignDevice(Command[Device]):
    """Take a device from its user: it is free again.

    A primary device goes only when no secondary one is left, or after
    another has been made the primary.
    """

    device_id: str


@attrs.frozen(kw_only=True)
class ChangeStation(Command[PhoneSeat]):
    """Move a phone user to another station package (by name or id), freeing its old station.

    `applications` replace the seat's (None keeps them); each must be one the
    new package permits.
    """

    user_id: str
    station: str
    applications: frozenset[str] | None = attrs.field(
        default=None, converter=attrs.converters.optional(_names)
    )


@attrs.frozen(kw_only=True)
class ReleaseNumber(Command[PhoneSeat]):
    """Take its number from a phone user's seat: the number is free for the account again.

    The seat keeps its extension; a seat that would be left with neither a
    number nor an extension keeps its number.
    """

    user_id: str


@attrs.frozen(kw_only=True)
class RequestSupportAccess(Command[SupportRelationship]):
    """Ask a customer account for support access: the roles the parent's agents may use there.

    The relationship lasts `duration_days` (1 to 730) from its approval by the
    customer's owner (`ApproveSupportAccess`), or from the request when the
    customer gave its standing consent; a pending request is told to each
    owner of the customer (message `support.requested`). Either side may end
    it at any time.
    No role that gives the customer away (`system:owner`, or one holding a
    `support.*` permission) may be asked for.
    """

    parent_id: str
    customer_id: str
    role_ids: frozenset[str] = attrs.field(converter=_names)
    duration_days: int = 30


@attrs.frozen(kw_only=True)
class ApproveSupportAccess(Command[SupportRelationship]):
    """The customer's owner approves a pending request: it is active for its duration from now."""

    relationship_id: str


@attrs.frozen(kw_only=True)
class EndSupportAccess(Command[SupportRelationship]):
    """End a support relationship, from either side; its open sessions end with it."""

    relationship_id: str


@attrs.frozen(kw_only=True)
class OpenSupportSession(Command[SupportSession]):
    """An agent of the parent opens a session in the customer, for `minutes` (1 to 480).

    The agent holds `support.act` in the parent (the `system:support` role);
    the relationship is active. The session ends by the clock, when it is
    closed, or when the relationship ends or expires. Act in it as
    `Actor.support(session.id)`.
    """

    relationship_id: str
    minutes: int = 60
    reason: str = ""


@attrs.frozen(kw_only=True)
class CloseSupportSession(Command[SupportSession]):
    """Close a support session: its agent, the parent's or the customer's managers may."""

    session_id: str


@attrs.frozen(kw_only=True)
class CreatePersonalMailbox(Command[Mailbox]):
    """Create a user's personal mailbox at its username; the user manages it."""

    user_id: str


@attrs.frozen(kw_only=True)
class InviteUser(Command[InvitationIssued]):
    """Invite an address to the account, offering roles and permissions (or nothing yet).

    The raw token comes back once, for the link in the invitation email.
    """

    account_id: str
    email: str
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

    token: str = attrs.field(repr=False, metadata={SECRET: True})
    password: str = attrs.field(repr=False, metadata={SECRET: True})
    password_repeat: str = attrs.field(repr=False, metadata={SECRET: True})
    first_name: str = ""
    last_name: str = ""
