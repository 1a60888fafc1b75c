"""Handlers for users: create, update, rename, delete."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, Final

import attrs

from provisioning.commands import (
    UNCHANGED,
    CreateUser,
    DeleteUser,
    RenameUser,
    RequestUsersReport,
    Unchanged,
    UpdateUser,
)
from provisioning.errors import InvalidValue, Issue, NotFound, codes
from provisioning.model import (
    DIRECTORY_ATTRIBUTES,
    Account,
    ClassOfService,
    Credentials,
    EmailAddress,
    MailboxKind,
    MfaState,
    PhoneNumber,
    Profile,
    User,
    Username,
    UserSource,
    UserStatus,
    iana_time_zone,
    skeleton,
)
from provisioning.ports import Message
from provisioning.rules._tx import (
    SetupLink,
    Step,
    Tx,
    error,
    parse_into,
    requested_id_issues,
    warning,
)
from provisioning.rules.access import no_account
from provisioning.rules.addresses import address_taken, claim_issues
from provisioning.rules.admins import super_admin_fixed, super_admin_protected
from provisioning.rules.agents import acting_as_agent, credentials_refused
from provisioning.rules.classes_of_service import (
    admin_after,
    assignable_cos,
    cos_required,
    panel_issues,
)
from provisioning.rules.credentials import directory_managed, password_issues, password_policy
from provisioning.rules.domains import require_active
from provisioning.rules.mailboxes import new_personal_mailbox
from provisioning.rules.removal import remove_user
from provisioning.rules.users import directory_attributes, display_name, external_id_issues
from provisioning.storage import TABLES, Overlay

__all__ = [
    "alias_issues",
    "cos_issues",
    "create_user",
    "delete_user",
    "own_address_warning",
    "recovery_warning",
    "rename_user",
    "request_users_report",
    "update_user",
]

CODES: Final = codes(
    invalid=(
        "alias.duplicate",
        "alias.is_username",
        "alias.no_account",
        "report.no_recipient",
        "timezone.invalid",
        "user.default_mailbox_invalid",
        "user.recovery_own_address",
    ),
    denied=("user.corporate_self_delete", "user.not_corporate"),
    advice=("user.no_recovery",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def _timezone(name: str | None, issues: list[Issue]) -> str | None:
    """The IANA zone `name` names, in IANA's spelling (`timezone.invalid` if none)."""
    if name is None:
        return None
    zone = iana_time_zone(name)
    if zone is None:
        issues.append(
            error(
                "timezone.invalid",
                f"{name!r} is not an IANA time zone (such as 'Europe/Zurich')",
                field="timezone",
            )
        )
    return zone


def recovery_warning(profile: Profile) -> list[Issue]:
    """A warning when the user could not recover a forgotten password on its own."""
    if profile.can_recover_password:
        return []
    return [
        warning(
            "user.no_recovery",
            "without an alternate email or a mobile number the user cannot reset a"
            " forgotten password on its own",
            field="alternate_email",
        )
    ]


def own_address_warning(
    profile: Profile, username: Username, aliases: Iterable[EmailAddress]
) -> list[Issue]:
    """A warning when the alternate email is one of the user's own addresses.

    A password reset sent there reaches the mailbox of the very user who
    cannot sign in, so it recovers nothing.
    """
    alternate = profile.alternate_email
    if alternate is None or alternate.key not in {username.key, *(a.key for a in aliases)}:
        return []
    return [
        warning(
            "user.recovery_own_address",
            f"{alternate} is the user's own address: a password reset sent there reaches"
            " nobody who is locked out",
            field="alternate_email",
        )
    ]


def cos_issues(
    tx: Tx, account: Account, cos_id: str | None
) -> tuple[list[Issue], ClassOfService | None]:
    """Whether the actor may give a user of the account this class of service.

    Every user of an account has one (`cos.required`). Besides what
    `assignable_cos` checks, one that opens the admin panel makes an
    administrator, which is guarded by `panel_issues`.
    """
    if cos_id is None:
        return [
            cos_required("name one, or give the domain or the account a default", field="cos_id")
        ], None
    issues, cos = assignable_cos(tx, account.id, cos_id, field="cos_id")
    if issues or cos is None:
        return issues, cos
    if cos.admin_panel:
        return panel_issues(
            tx, account.id, f"{cos.name!r} opens the admin panel", field="cos_id"
        ), cos
    return [], cos


def alias_issues(
    tx: Tx, account_id: str, owner: Username, own_id: str | None, aliases: Sequence[str]
) -> tuple[list[Issue], tuple[EmailAddress, ...]]:
    """Parse aliases: each on an active domain of the account, and held by nobody else."""
    issues: list[Issue] = []
    parsed: list[EmailAddress] = []
    owned: list[EmailAddress] = []
    if not aliases:
        return issues, ()
    seen = {owner.key}
    for text in aliases:
        alias = parse_into(EmailAddress.parse, text, "aliases", issues)
        if alias is None:
            continue
        if alias.key == owner.key:
            issues.append(
                error(
                    "alias.is_username",
                    f"{alias} is the user's own username: an alias is another address",
                    field="aliases",
                )
            )
            continue
        if alias.key in seen:
            issues.append(error("alias.duplicate", f"{alias} is given twice", field="aliases"))
            continue
        seen.add(alias.key)
        parsed.append(alias)
        on_domain = require_active(
            tx.uow.domains.by_name(alias.domain), account_id, field="aliases"
        )
        if on_domain:  # who holds an address off the account's domains is not its business
            issues += on_domain
        else:
            owned.append(alias)
    tx.uow.users.holders(alias.key for alias in owned)  # one look-up for them all
    for alias in owned:
        issues += claim_issues(tx, alias, own_user=own_id, field="aliases")
    return issues, tuple(parsed)


def _address_key(text: object) -> str | None:
    """The uniqueness key of an address as typed, when it is plain ASCII (else None).

    For ASCII, `Username.parse(text).key` is the folded text, so a batch can
    look its addresses up before any of them is parsed; other texts are
    simply looked up when their command is checked.
    """
    if not isinstance(text, str) or not text.isascii():
        return None
    return text.strip().casefold()


def _texts(values: Iterable[object]) -> list[str]:
    """The values that are text (a mistyped command is refused before it is checked)."""
    return [value for value in values if isinstance(value, str)]


def prefetch_create_user(overlay: Overlay, commands: Sequence[CreateUser]) -> None:
    """Read what a batch of `CreateUser` looks up: accounts, domains, addresses, mailboxes."""
    addresses = [
        key
        for command in commands
        for key in map(_address_key, (command.username, *command.aliases))
        if key is not None
    ]
    overlay.rows(TABLES.users).prefetch_keys("user.address", addresses)
    overlay.rows(TABLES.mailboxes).prefetch_keys("mailbox.address", addresses)
    skeletons = list(dict.fromkeys(map(skeleton, addresses)))
    overlay.rows(TABLES.users).prefetch_keys("user.skeleton", skeletons)
    overlay.rows(TABLES.mailboxes).prefetch_keys("mailbox.skeleton", skeletons)
    domains = {key.rpartition("@")[2] for key in addresses}
    found = overlay.rows(TABLES.domains).prefetch_keys("domain.name", domains)
    overlay.rows(TABLES.domains).prefetch(i for ids in found.values() for i in ids)
    overlay.rows(TABLES.accounts).prefetch(_texts(c.account_id for c in commands))
    overlay.rows(TABLES.users).prefetch(_texts(c.user_id for c in commands))


def _new_profile(command: CreateUser, account: Account, issues: list[Issue]) -> Profile:
    """The profile a new user gets: its names, recovery channels, zone and attributes."""
    display, manual = display_name(command.first_name, command.last_name, command.display_name)
    attributes = {name: getattr(command, name) for name in DIRECTORY_ATTRIBUTES}
    return Profile(
        first_name=command.first_name.strip(),
        last_name=command.last_name.strip(),
        display_name=display,
        display_name_manual=manual,
        alternate_email=parse_into(
            EmailAddress.parse, command.alternate_email, "alternate_email", issues
        ),
        mobile=parse_into(
            functools.partial(PhoneNumber.parse, region=account.phone_region),
            command.mobile,
            "mobile",
            issues,
        ),
        timezone=_timezone(command.timezone, issues),
        **directory_attributes(attributes, issues),
    )


def _source(tx: Tx) -> dict[str, Any]:
    """Where a new user comes from: a directory's API client makes that directory's users."""
    directory = tx.directory  # a read of the acting client, once
    if directory is None:
        return {"source": UserSource.MANUAL}
    return {"source": UserSource.DIRECTORY, "directory_service": directory}


def create_user(tx: Tx, command: CreateUser) -> Step[User]:
    """Create a corporate user with a password, on an active domain of the account."""
    tx.authorize("users.create", command.account_id)
    account = tx.uow.accounts.get(command.account_id)
    issues = requested_id_issues(command.user_id, tx.uow.users.find, field="user_id")
    try:
        username = Username.parse(command.username)
    except InvalidValue as invalid:
        return Step.refuse([*issues, invalid.issue()])
    domain = tx.uow.domains.by_name(username.domain)
    on_domain = require_active(domain, account.id, field="username")
    issues += on_domain or address_taken(tx, username, None)
    cos_id = command.cos_id
    if cos_id is None:
        cos_id = (domain.default_cos_id if domain is not None else None) or account.default_cos_id
    problems, cos = cos_issues(tx, account, cos_id)
    issues += problems
    if command.password is not None or command.password_repeat is not None:
        issues += credentials_refused(tx, "chooses a user's password", field="password")
        issues += password_issues(
            password_policy(account, cos),
            command.password or "",
            command.password_repeat or "",
            username,
            account.name,
        )
    profile = _new_profile(command, account, issues)
    issues += external_id_issues(tx, account.id, tx.directory, command.external_id, None)
    problems, aliases = alias_issues(tx, account.id, username, None, command.aliases)
    issues += problems
    issues += recovery_warning(profile)
    issues += own_address_warning(profile, username, aliases)
    personal = (
        account.personal_mailbox_on_create
        if command.personal_mailbox is None
        else command.personal_mailbox
    )

    password = command.password
    enabled = command.enabled

    def run() -> User:
        assert domain is not None  # noqa: S101 - run() exists only when no issue blocked
        user_id = tx.new_id(command.user_id)
        link: SetupLink | None = None
        if password is not None:
            credentials = Credentials(
                password_hash=tx.hash_password(password),
                must_change=command.must_change_password,
                changed_at=tx.now,
            )
        elif enabled:  # the welcome links to setting one, where it is read
            link = tx.setup_link(user_id)
            credentials = link.credentials
        else:  # a suspended user's link goes out when it is enabled
            credentials = Credentials()
        user = User(
            id=user_id,
            username=username,
            created_at=tx.now,
            updated_at=tx.now,
            account_id=account.id,
            domain_id=domain.id,
            cos_id=cos_id,
            profile=profile,
            aliases=aliases,
            corporate=True,
            admin=cos is not None and cos.admin_panel,
            credentials=credentials,
            mfa=MfaState(required=command.mfa_required or domain.require_2fa),
            status=UserStatus.ACTIVE if enabled else UserStatus.DISABLED,
            external_id=command.external_id,
            **_source(tx),
        )
        tx.uow.users.add(user)
        name = str(username)  # one string for the event and the message: a batch keeps both
        tx.record("CreateUser", "user", user.id, account_id=account.id, detail=name)
        if user.admin and cos is not None:
            _record_admin_change(tx, user, cos, "CreateUser")
        if personal:
            new_personal_mailbox(tx, user, account.id, "CreateUser")
        if not enabled:
            return user
        # An agent's new user gets its link at its own address, not one the agent gave.
        own_channel = link is not None and not acting_as_agent(tx)
        recipient = profile.alternate_email if own_channel else None
        tx.notify(
            Message(
                template="user.created",
                to=name if recipient is None else str(recipient),
                data={
                    "username": name,
                    "account": account.name,
                    **(link.data if link is not None else {}),
                },
                secrets=link.secrets if link is not None else {},
            )
        )
        return user

    return Step.proceed(run, issues)


_SELF_SERVICE = frozenset(
    {
        "first_name",
        "last_name",
        "display_name",
        "alternate_email",
        "mobile",
        "timezone",
        "default_mailbox_id",
    }
)


def _known_member(tx: Tx, user_id: str) -> User | None:
    """A non-corporate user who belongs to an account the actor belongs to, if `user_id` is one."""
    user = tx.uow.users.find(user_id)
    if user is None or user.account_id is not None:
        return None
    joined = {g.account_id for g in tx.uow.grants.of_user(user.id) if g.mailbox_id is None}
    return user if any(tx.member_of(account_id) for account_id in joined) else None


def update_user(tx: Tx, command: UpdateUser) -> Step[User]:
    """Change a user's profile (a user may change its own), aliases, COS, MFA or status."""
    try:
        user = tx.user(command.user_id)
    except NotFound:
        member = _known_member(tx, command.user_id)
        if member is None:
            raise
        return Step.refuse([_not_corporate(member)])
    asked = {
        f.name
        for f in attrs.fields(UpdateUser)
        if f.name not in {"user_id", "version"} and getattr(command, f.name) is not UNCHANGED
    }
    if not (tx.is_self(user) and asked <= _SELF_SERVICE):
        if user.account_id is None and not tx.actor.is_platform:
            return Step.refuse([_not_corporate(user)])
        tx.authorize_for(user, "users.manage")
    issues = directory_managed(user, by=tx.directory)
    account = tx.uow.accounts.find(user.account_id) if user.account_id is not None else None
    region = account.phone_region if account is not None else None
    profile = _updated_profile(user.profile, command, issues, region)
    changes = _updated_membership(tx, user, command, issues)
    changes.update(_external_change(tx, user, command.external_id, issues))
    if command.default_mailbox_id is not UNCHANGED:
        issues += _default_mailbox_issues(tx, user, command.default_mailbox_id)
        changes["default_mailbox_id"] = command.default_mailbox_id
    issues += _recovery_channel_issues(tx, user.profile, profile)
    issues += recovery_warning(profile)
    aliases = changes.get("aliases", user.aliases)
    issues += own_address_warning(profile, user.username, aliases)

    def run() -> User:
        link = _link_on_enabling(tx, user, changes)
        if link is not None:
            changes["credentials"] = attrs.evolve(
                user.credentials,
                setup_token_hash=link.credentials.setup_token_hash,
                setup_expires_at=link.credentials.setup_expires_at,
            )
        stored = tx.uow.users.update(
            attrs.evolve(
                user, version=command.version, profile=profile, updated_at=tx.now, **changes
            )
        )
        if link is not None:
            tx.notify(
                Message(
                    template="user.enabled",
                    to=str(profile.alternate_email or stored.username),
                    data={"username": str(stored.username), **link.data},
                    secrets=link.secrets,
                )
            )
        tx.record(
            "UpdateUser",
            "user",
            user.id,
            account_id=user.account_id,
            detail=", ".join(sorted(asked)),
        )
        if stored.admin != user.admin:
            cos = tx.uow.classes_of_service.find(stored.cos_id) if stored.cos_id else None
            _record_admin_change(tx, stored, cos, "UpdateUser")
        return stored

    return Step.proceed(run, issues)


def _recovery_channel_issues(tx: Tx, before: Profile, after: Profile) -> list[Issue]:
    """An agent never re-points where a user's recovery codes go (see `_agents`)."""
    if (before.alternate_email, before.mobile) == (after.alternate_email, after.mobile):
        return []
    return credentials_refused(
        tx, "re-points where a user's recovery codes go", field="alternate_email"
    )


def _link_on_enabling(tx: Tx, user: User, changes: dict[str, Any]) -> SetupLink | None:
    """The set-password link of a user enabled with no password and no link yet."""
    enabling = user.status is UserStatus.DISABLED and changes.get("status") is UserStatus.ACTIVE
    credentials = user.credentials
    if not enabling or credentials.password_hash is not None or credentials.setup_token_hash:
        return None
    return tx.setup_link(user.id)


def _not_corporate(user: User) -> Issue:
    """`user.not_corporate`: administrators edit only their own account's corporate users."""
    return error(
        "user.not_corporate",
        f"{user.username} is not a corporate user of an account: only it changes its settings",
        field="user_id",
    )


def _default_mailbox_issues(tx: Tx, user: User, mailbox_id: str | None) -> list[Issue]:
    """A default mailbox is one the user owns or holds a grant in (None: its personal one)."""
    if mailbox_id is None:
        return []
    mailbox = tx.uow.mailboxes.find(mailbox_id)
    if mailbox is not None and (
        mailbox.owner_id == user.id
        or tx.uow.grants.for_scope(user.id, mailbox.account_id, mailbox.id) is not None
    ):
        return []
    return [
        error(
            "user.default_mailbox_invalid",
            f"{user.username} holds nothing in a mailbox {mailbox_id!r}: a default mailbox is one"
            " the user may use",
            field="default_mailbox_id",
        )
    ]


def _updated_profile(
    profile: Profile, command: UpdateUser, issues: list[Issue], region: str | None
) -> Profile:
    first = profile.first_name if command.first_name is UNCHANGED else command.first_name.strip()
    last = profile.last_name if command.last_name is UNCHANGED else command.last_name.strip()
    changes: dict[str, Any] = {"first_name": first, "last_name": last}
    if command.display_name is not UNCHANGED:
        display, manual = display_name(first, last, command.display_name)
        changes.update(display_name=display, display_name_manual=manual)
    elif not profile.display_name_manual:
        changes["display_name"] = display_name(first, last, None)[0]
    if command.alternate_email is not UNCHANGED:
        changes["alternate_email"] = parse_into(
            EmailAddress.parse, command.alternate_email, "alternate_email", issues
        )
    if command.mobile is not UNCHANGED:
        changes["mobile"] = parse_into(
            functools.partial(PhoneNumber.parse, region=region), command.mobile, "mobile", issues
        )
    if command.timezone is not UNCHANGED:
        changes["timezone"] = _timezone(command.timezone, issues)
    given = {
        name: value
        for name in DIRECTORY_ATTRIBUTES
        if (value := getattr(command, name)) is not UNCHANGED
    }
    changes.update(directory_attributes(given, issues))
    return attrs.evolve(profile, **changes)


def _updated_membership(
    tx: Tx, user: User, command: UpdateUser, issues: list[Issue]
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if command.aliases is not UNCHANGED:
        if user.account_id is None:
            issues.append(
                error("alias.no_account", "only users of an account have aliases", field="aliases")
            )
        else:
            problems, aliases = alias_issues(
                tx, user.account_id, user.username, user.id, command.aliases
            )
            issues += problems
            changes["aliases"] = aliases
    if command.cos_id is not UNCHANGED and command.cos_id != user.cos_id:
        changes.update(_cos_change(tx, user, command.cos_id, issues))
    if command.mfa_required is not UNCHANGED:
        changes["mfa"] = attrs.evolve(user.mfa, required=command.mfa_required)
    if command.enabled is not UNCHANGED:
        if not command.enabled:
            issues += super_admin_fixed(user, "disabled")
        changes["status"] = UserStatus.ACTIVE if command.enabled else UserStatus.DISABLED
    return changes


def _external_change(
    tx: Tx, user: User, external_id: str | Unchanged | None, issues: list[Issue]
) -> dict[str, Any]:
    """The external id an update gives the user, checked (nothing if unchanged)."""
    if isinstance(external_id, Unchanged) or external_id == user.external_id:
        return {}
    if user.account_id is None:
        issues.append(no_account("only users of an account have one", field="external_id"))
    else:
        issues += external_id_issues(
            tx, user.account_id, user.directory_service, external_id, user.id
        )
    return {"external_id": external_id}


def _cos_change(tx: Tx, user: User, cos_id: str | None, issues: list[Issue]) -> dict[str, Any]:
    """The changes of giving `user` the class of service `cos_id`; its issues into `issues`.

    Taking away a class of service that opens the admin panel is guarded as
    giving one is, and the user's administrator status follows.
    """
    account = tx.uow.accounts.find(user.account_id) if user.account_id is not None else None
    if account is None:  # a user of no account keeps what it had, or nothing
        return {"cos_id": cos_id}
    problems, cos = cos_issues(tx, account, cos_id)
    issues += problems
    current = tx.uow.classes_of_service.find(user.cos_id) if user.cos_id is not None else None
    if not problems and current is not None and current.admin_panel:
        issues += panel_issues(
            tx, account.id, f"{current.name!r} opens the admin panel", field="cos_id"
        )
    return {"cos_id": cos_id, "admin": admin_after(user, cos)}


def _record_admin_change(tx: Tx, user: User, cos: ClassOfService | None, action: str) -> None:
    """Audit a user becoming, or ceasing to be, an administrator by its class of service."""
    name = "no class of service" if cos is None else cos.name
    tx.record(
        action,
        "user",
        user.id,
        account_id=user.account_id,
        detail=f"{'became' if user.admin else 'is no longer'} an administrator ({name})",
    )


def rename_user(tx: Tx, command: RenameUser) -> Step[User]:
    """Give a user a new username on an active domain of its account.

    Its personal mailboxes move with it; the old address is freed or, when
    asked, kept as an alias. Id, aliases and grants stay.
    """
    user = tx.user(command.user_id)
    tx.authorize_for(user, "users.manage")
    issues = directory_managed(user, by=tx.directory) + super_admin_fixed(user, "renamed")
    try:
        username = Username.parse(command.username)
    except InvalidValue as invalid:
        return Step.refuse([*issues, invalid.issue()])
    domain = tx.uow.domains.by_name(username.domain)
    aliases = user.aliases
    if user.account_id is None:
        issues.append(no_account("only users of an account are renamed here"))
    else:
        on_domain = require_active(domain, user.account_id, field="username")
        issues += on_domain or address_taken(tx, username, user.id)
        if command.keep_old_as_alias and username.key != user.username.key:
            issues += require_active(
                tx.uow.domains.by_name(user.username.domain),
                user.account_id,
                field="keep_old_as_alias",
            )
            aliases = (*aliases, user.username.address)
    if any(alias.key == username.key for alias in user.aliases):
        issues.append(
            error(
                "alias.duplicate",
                f"{username} is already one of the user's aliases",
                field="username",
            )
        )
    moving = [
        mailbox
        for mailbox in tx.uow.mailboxes.of_owner(user.id)
        if mailbox.kind is MailboxKind.PERSONAL and mailbox.address.key == user.username.key
    ]

    def run() -> User:
        assert domain is not None  # noqa: S101 - run() exists only when no issue blocked
        stored = tx.uow.users.update(
            attrs.evolve(
                user,
                version=command.version,
                username=username,
                domain_id=domain.id,
                aliases=aliases,
                updated_at=tx.now,
            )
        )
        tx.record(
            "RenameUser",
            "user",
            user.id,
            account_id=user.account_id,
            detail=f"{user.username} -> {username}"
            + (" (old address kept as an alias)" if aliases != user.aliases else ""),
        )
        for mailbox in moving:
            tx.uow.mailboxes.update(attrs.evolve(mailbox, address=username.address))
            tx.record(
                "RenameUser",
                "mailbox",
                mailbox.id,
                account_id=mailbox.account_id,
                detail=f"{mailbox.address} -> {username.address}",
            )
        return stored

    return Step.proceed(run, issues)


def delete_user(tx: Tx, command: DeleteUser) -> Step[None]:
    """Delete a user, its grants and its personal mailboxes."""
    user = tx.user(command.user_id)
    issues: list[Issue] = []
    if tx.is_self(user):
        if user.corporate:
            issues.append(
                error(
                    "user.corporate_self_delete",
                    "a corporate user's profile belongs to its organisation: an administrator"
                    " deletes it",
                    field="user_id",
                )
            )
    else:
        tx.authorize_for(user, "users.manage")
        if user.admin:
            tx.authorize_for(user, "admins.manage")
        issues += directory_managed(user, by=tx.directory)
    if user.super_admin:
        issues.append(super_admin_protected(user, "it cannot be deleted"))

    def run() -> None:
        remove_user(tx, user, "DeleteUser", version=command.version)

    return Step.proceed(run, issues)


def request_users_report(tx: Tx, command: RequestUsersReport) -> Step[None]:
    """Queue the users report's message; the report itself is made when it is delivered."""
    tx.authorize("users.read", command.account_id)
    account = tx.uow.accounts.get(command.account_id)
    requester = tx.uow.users.find(tx.actor.user_id) if tx.actor.user_id else None
    if requester is None:
        return Step.refuse(
            [
                error(
                    "report.no_recipient",
                    "the report goes to the user who asks for it: act as a user",
                    field="account_id",
                )
            ]
        )
    to = requester.primary_email if requester.admin and requester.primary_email else None
    recipient = str(to or requester.username)

    def run() -> None:
        tx.record("RequestUsersReport", "account", account.id, account_id=account.id)
        tx.notify(
            Message(
                template="report.users",
                to=recipient,
                data={
                    "account_id": account.id,
                    "account": account.name,
                    "requester_id": requester.id,
                },
            )
        )

    return Step.proceed(run)
