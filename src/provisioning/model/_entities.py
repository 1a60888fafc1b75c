"""Entities: the things the platform stores, each with an id and a version.

Entities are frozen attrs classes; a change is `attrs.evolve(entity, ...)` and
goes back to the store with the version it was read at. Equality is by `id`
only (every other field is declared with `eq=False` by `_by_id`), so two
snapshots of one user taken at different versions are the same user.

Secret fields (password hashes, TOTP secrets, token hashes) carry the metadata
flag `SECRET`: they are hidden from `repr` and dropped by every export.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from provisioning.errors import InvalidValue, codes
from provisioning.model._passwords import PasswordPolicy
from provisioning.model._values import DomainName, EmailAddress, MacAddress, PhoneNumber, Username

__all__ = [
    "DIRECTORY_ATTRIBUTES",
    "GUESSES_KEPT",
    "GUESS_SWEEP",
    "SEALED",
    "SECRET",
    "Account",
    "ApiClient",
    "AuditEvent",
    "ClassOfService",
    "Counted",
    "Credentials",
    "Device",
    "DirectNumber",
    "Domain",
    "DomainPolicy",
    "DomainStatus",
    "Grant",
    "Guess",
    "Guessed",
    "Invitation",
    "InvitationStatus",
    "Mailbox",
    "MailboxKind",
    "MailboxOffer",
    "MfaState",
    "MfaStatus",
    "Permission",
    "PhoneSeat",
    "Profile",
    "Role",
    "Scope",
    "SignInPolicy",
    "SignInState",
    "StationPackage",
    "SupportRelationship",
    "SupportSession",
    "SupportStatus",
    "User",
    "UserSource",
    "UserStatus",
    "valid_name",
]

CODES: Final = codes(
    invalid=("sign_in_policy.invalid",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

DIRECTORY_ATTRIBUTES: Final = (
    "title",
    "department",
    "employee_number",
    "cost_center",
    "organization",
    "division",
    "manager",
    "locale",
    "preferred_language",
)
"""The `Profile` fields that hold what a directory knows of a person, beyond its name."""

SECRET: Final = "provisioning.secret"  # noqa: S105 - a metadata key, not a password
"""Field metadata key marking a secret: hidden from repr, never exported."""

SEALED: Final = "provisioning.sealed"
"""Field metadata key marking a stored secret that a store with a `Sealer` keeps sealed."""

_NAME = re.compile(r"\w[\w.&' \-]{0,63}")


def _by_id(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """Field transformer: only `id` takes part in equality and hashing."""
    del cls
    return [f if f.name == "id" else f.evolve(eq=False, order=False) for f in fields]


def valid_name(value: str) -> bool:
    """Whether `value` is an acceptable name for an account, class of service or role.

    1 to 64 characters: letters (any script), digits, '_', spaces and `.&'-`,
    starting with a letter, digit or '_' and not ending in a space.
    """
    return bool(_NAME.fullmatch(value)) and value == value.rstrip()


def _name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    del instance
    if not valid_name(value):
        msg = f"{attribute.name} is not a valid name: {value!r}"
        raise ValueError(msg)


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    del instance
    if value < 1:
        msg = f"{attribute.name} must be at least 1, not {value}"
        raise ValueError(msg)


class Scope(enum.StrEnum):
    """Where a permission or role applies: a whole account or one mailbox."""

    ACCOUNT = "account"
    MAILBOX = "mailbox"


class DomainStatus(enum.StrEnum):
    """Lifecycle of a domain: pending -> verified -> active -> inactive."""

    PENDING = "pending"
    VERIFIED = "verified"
    ACTIVE = "active"
    INACTIVE = "inactive"


class UserSource(enum.StrEnum):
    """Who manages a user: administrators here, or a directory service."""

    MANUAL = "manual"
    DIRECTORY = "directory"


class UserStatus(enum.StrEnum):
    """Whether a user may sign in."""

    ACTIVE = "active"
    DISABLED = "disabled"


class MfaStatus(enum.StrEnum):
    """Multi-factor enrolment: none yet, enrolled but not finalised, or active."""

    NONE = "none"
    PENDING = "pending"
    ACTIVE = "active"


class MailboxKind(enum.StrEnum):
    """A shared mailbox of an account, or the personal mailbox of one user."""

    SHARED = "shared"
    PERSONAL = "personal"


class InvitationStatus(enum.StrEnum):
    """Lifecycle of an invitation."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"


@attrs.frozen
class Permission:
    """One grantable capability, such as `users.create`, valid at one scope."""

    name: str
    scope: Scope
    description: str


@attrs.frozen
class DomainPolicy:
    """Rules an account's domains must follow, checked when a domain is added.

    `allowed_tlds` empty means any top-level domain; `max_domains` None means
    no limit.
    """

    allowed_tlds: frozenset[str] = frozenset()
    max_domains: int | None = None

    def tld_allowed(self, name: DomainName) -> bool:
        """Whether `name` ends in an allowed top-level domain."""
        if not self.allowed_tlds:
            return True
        return name.ascii.rsplit(".", 1)[-1] in self.allowed_tlds


def _sign_in_bound(low: int, high: int) -> Callable[[object, attrs.Attribute[int], object], None]:
    def check(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
        del instance
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidValue(
                code="sign_in_policy.invalid",
                field=f"sign_in_policy.{attribute.name}",
                value=repr(value),
                reason=f"expected a whole number from {low:,} to {high:,}",
            )

    return check


@attrs.frozen
class SignInPolicy:
    """How an account meets repeated failed sign-ins (Keycloak's brute-force detection).

    Sign-in attempts (a password, with its one-time code) count per name
    typed, whether a user holds it or not, and each is counted before it is
    checked (`count`). From `max_failures` consecutive failures on, each
    further failure locks the name out for a wait that grows by
    `wait_increment_s` seconds a failure, up to `max_wait_s`. Failures are
    forgotten after `reset_after_s` seconds without one, and on a
    successful sign-in. On a domain whose policy asks for a CAPTCHA on
    login, one is asked for after `captcha_after` failures.
    """

    max_failures: int = attrs.field(default=10, validator=_sign_in_bound(1, 100))
    wait_increment_s: int = attrs.field(default=60, validator=_sign_in_bound(1, 86_400))
    max_wait_s: int = attrs.field(default=900, validator=_sign_in_bound(1, 86_400))
    reset_after_s: int = attrs.field(default=43_200, validator=_sign_in_bound(60, 2_592_000))
    captcha_after: int = attrs.field(default=3, validator=_sign_in_bound(0, 100))

    def __attrs_post_init__(self) -> None:
        if self.max_wait_s < self.wait_increment_s:
            raise InvalidValue(
                code="sign_in_policy.invalid",
                field="sign_in_policy.max_wait_s",
                value=repr(self.max_wait_s),
                reason="expected at least wait_increment_s",
            )

    def lockout(self, failures: int) -> timedelta | None:
        """How long a user with `failures` consecutive failures is locked out (None: not)."""
        if failures < self.max_failures:
            return None
        steps = failures - self.max_failures + 1
        return timedelta(seconds=min(self.max_wait_s, self.wait_increment_s * steps))

    def count(self, guess: Guess, state: SignInState, now: datetime) -> Counted:
        """Count one guess before its secret is checked: what may happen, and the new state.

        A locked-out name, and one that owes a CAPTCHA, gets no check and
        counts nothing. Any other guess counts as a failure from now on;
        the lockout it would earn is set already, so that a guess checked
        at the same time as others can never slip past the limit. A right
        guess forgets them all (see `Guessed.CHECK`).
        """
        if state.locked_until is not None and state.locked_until > now:
            return Counted(key=guess.key, state=state, verdict=Guessed.LOCKED)
        failures = state.recent(now, self)
        if guess.captcha and not guess.captcha_passed and failures >= self.captcha_after:
            return Counted(key=guess.key, state=state, verdict=Guessed.CAPTCHA)
        failures += 1
        wait = self.lockout(failures)
        locked_until = now + wait if wait is not None else None
        counted = SignInState(failures=failures, last_failure_at=now, locked_until=locked_until)
        captcha_next = guess.captcha and failures >= self.captcha_after
        return Counted(
            key=guess.key, state=counted, verdict=Guessed.CHECK, captcha_next=captcha_next
        )


GUESSES_KEPT: Final = timedelta(days=30)
"""How long a store keeps a guess counter idle and unlocked: as long as any policy remembers."""
GUESS_SWEEP: Final = 1024
"""How many counts a store makes between two sweeps of its idle guess counters."""


@attrs.frozen
class SignInState:
    """The recent failed guesses at one name: how many in a row, the last, and any lockout."""

    failures: int = 0
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None

    def idle(self, now: datetime) -> bool:
        """Whether a store may let the counter go: unlocked, and idle for `GUESSES_KEPT`."""
        locked = self.locked_until is not None and self.locked_until > now
        last = self.last_failure_at
        return not locked and (last is None or now - last > GUESSES_KEPT)

    def recent(self, now: datetime, policy: SignInPolicy) -> int:
        """The failures in a row, forgotten once `policy.reset_after_s` passed without one."""
        if self.last_failure_at is None:
            return 0
        if now - self.last_failure_at >= timedelta(seconds=policy.reset_after_s):
            return 0
        return self.failures


class Guessed(enum.Enum):
    """What counting a guess lets happen (`SignInPolicy.count`)."""

    CHECK = "check"
    """Counted as a failure: check the secret, and forget the failures if it is right."""
    LOCKED = "locked"
    """Not counted: the name is locked out; the secret is not checked."""
    CAPTCHA = "captcha"
    """Not counted: solve a CAPTCHA first; the secret is not checked."""


@attrs.frozen
class Guess:
    """One guess at a secret, counted before it is checked.

    `key` names what is guessed at (a digest of the name typed, known or
    not); `policy` bounds the guesses; `captcha` says whether a CAPTCHA is
    asked for after `policy.captcha_after` failures, and `captcha_passed`
    whether the guesser solved one.
    """

    key: str
    policy: SignInPolicy
    captcha: bool = False
    captcha_passed: bool = False


@attrs.frozen
class Counted:
    """A guess counted: the counter it counted on, its state afterwards, what may happen now.

    `captcha_next` says that a wrong guess makes the next one owe a CAPTCHA.
    """

    key: str
    state: SignInState
    verdict: Guessed
    captcha_next: bool = False


@attrs.frozen(field_transformer=_by_id)
class Account:
    """A tenant: an organisation or customer, optionally under a parent account.

    A parent account (a reseller, say) reaches into its customers only through
    an explicit support-access grant, never by being the parent.

    Every account starts with two classes of service of its own:
    `default_cos_id`, which a new user gets unless its domain names another,
    and `admin_cos_id`, which opens the admin panel and makes its holders
    administrators of the account (None only for accounts stored before
    accounts had them).
    """

    id: str
    name: str = attrs.field(validator=_name)
    created_at: datetime
    parent_id: str | None = None
    personal_mailbox_on_create: bool = False
    default_cos_id: str | None = None
    admin_cos_id: str | None = None
    domain_policy: DomainPolicy = DomainPolicy()
    password_policy: PasswordPolicy = attrs.field(factory=PasswordPolicy)
    sign_in_policy: SignInPolicy = attrs.field(factory=SignInPolicy)
    phone_region: str | None = None
    """Where a phone number typed without its country code belongs (ISO 3166, `CH`)."""
    extension_min: int = 3
    """The fewest digits a phone extension of the account has."""
    extension_max: int = 6
    """The most digits a phone extension of the account has."""
    support_consent: bool = False
    """Whether its parent's requests for support access are approved without asking the owner."""
    version: int = attrs.field(default=1, validator=_positive)


@attrs.frozen(field_transformer=_by_id)
class Domain:
    """A mail domain of an account, with its lifecycle and security defaults."""

    id: str
    account_id: str
    name: DomainName
    created_at: datetime
    verification_token: str
    status: DomainStatus = DomainStatus.PENDING
    primary_domain: DomainName | None = None
    require_2fa: bool = False
    captcha_on_login: bool = False
    default_cos_id: str | None = None
    version: int = attrs.field(default=1, validator=_positive)


@attrs.frozen(field_transformer=_by_id)
class ClassOfService:
    """A named bundle of behaviour attached to every user (quota, features, panel access).

    `account_id` is None for a platform-wide class of service. A `system` class
    of service is reserved for the platform's own use and is never assigned to
    a user. A `password_policy` here overrides the account's for its users.
    """

    id: str
    name: str = attrs.field(validator=_name)
    account_id: str | None = None
    description: str = ""
    system: bool = False
    admin_panel: bool = False
    quota_mb: int | None = attrs.field(default=None)
    features: frozenset[str] = frozenset()
    password_policy: PasswordPolicy | None = None
    version: int = attrs.field(default=1, validator=_positive)

    @quota_mb.validator
    def _check_quota(self, attribute: attrs.Attribute[int | None], value: int | None) -> None:
        if value is not None and value < 0:
            msg = f"{attribute.name} must not be negative, not {value}"
            raise ValueError(msg)


@attrs.frozen
class Profile:
    """What people see of a user. `display_name_manual` records a hand-set display name.

    The organisation's attributes of a person, as directories and identity
    providers keep them (SCIM's enterprise user, an HR system), are plain
    text, empty when unknown: `title`, `department`, `employee_number`,
    `cost_center`, `organization`, `division`, and `manager` (the manager as
    the directory names it: an id, an address or a name). `locale` and
    `preferred_language` are language tags (`en-US`, `de`): the formats and
    the language the user reads. `DIRECTORY_ATTRIBUTES` names them all.
    """

    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    display_name_manual: bool = False
    alternate_email: EmailAddress | None = None
    mobile: PhoneNumber | None = None
    timezone: str | None = None
    title: str = ""
    department: str = ""
    employee_number: str = ""
    cost_center: str = ""
    organization: str = ""
    division: str = ""
    manager: str = ""
    locale: str = ""
    preferred_language: str = ""

    @property
    def full_name(self) -> str:
        """First and last name joined by a space (empty parts left out)."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def can_recover_password(self) -> bool:
        """Self-service recovery needs an alternate email or a mobile number."""
        return self.alternate_email is not None or self.mobile is not None


@attrs.frozen
class Credentials:
    """A user's password state; the hash is a secret.

    A user created without a password gets a one-time set-password link:
    only the hash of its token is kept, until `setup_expires_at`. A user who
    forgot its password asks for a recovery code: only its hash is kept,
    until `recovery_expires_at`, with the wrong tries made with it
    (`recovery_attempts`) and the codes asked for since `recovery_window_at`
    (`recovery_requests`).
    """

    password_hash: str | None = attrs.field(
        default=None, repr=False, metadata={SECRET: True, SEALED: True}
    )
    must_change: bool = False
    changed_at: datetime | None = None
    setup_token_hash: str | None = attrs.field(
        default=None, repr=False, metadata={SECRET: True, SEALED: True}
    )
    setup_expires_at: datetime | None = None
    recovery_code_hash: str | None = attrs.field(
        default=None, repr=False, metadata={SECRET: True, SEALED: True}
    )
    recovery_expires_at: datetime | None = None
    recovery_attempts: int = 0
    recovery_requests: int = 0
    recovery_window_at: datetime | None = None


@attrs.frozen
class MfaState:
    """Multi-factor authentication: whether it is required and how far enrolment got."""

    required: bool = False
    status: MfaStatus = MfaStatus.NONE
    secret: str | None = attrs.field(
        default=None, repr=False, metadata={SECRET: True, SEALED: True}
    )
    last_step: int | None = None


@attrs.frozen(field_transformer=_by_id)
class User:
    """A person's login, identified by a fully-qualified username.

    A user an administrator creates belongs to an account (`account_id`) and
    lives on one of its domains (`domain_id`): a corporate user. Every user
    of an account has a class of service (`cos_id`). Someone who
    registered on their own may use an address on a domain no account has
    activated; both ids are then None until one does. `corporate` stays set
    once set, even if the account is later deleted.

    Administrators are users with `admin` set: those created as
    administrators, who have a `primary_email` that receives their one-time
    codes (second factor, password reset), and those whose class of service
    opens the admin panel. The account's `super_admin` is `postmaster@` its
    first domain. `default_mailbox_id` is the mailbox the user's mail opens
    at (None: its personal mailbox).
    """

    id: str
    username: Username
    created_at: datetime
    updated_at: datetime
    account_id: str | None = None
    domain_id: str | None = None
    cos_id: str | None = None
    source: UserSource = UserSource.MANUAL
    directory_service: str | None = None
    external_id: str | None = None
    """The id the user's directory or identity provider knows it by (case-exact), if it gave one.

    Unique in the account among the users of one directory (`directory_service`)."""
    profile: Profile = Profile()
    aliases: tuple[EmailAddress, ...] = ()
    status: UserStatus = UserStatus.ACTIVE
    corporate: bool = False
    admin: bool = False
    super_admin: bool = False
    primary_email: EmailAddress | None = None
    credentials: Credentials = Credentials()
    mfa: MfaState = MfaState()
    default_mailbox_id: str | None = None
    last_sign_in_at: datetime | None = None
    """When the user last signed in (None: never)."""
    version: int = attrs.field(default=1, validator=_positive)

    @property
    def addresses(self) -> tuple[str, ...]:
        """The case-insensitive keys this user holds: its username, then its aliases."""
        return (self.username.key, *(alias.key for alias in self.aliases))


@attrs.frozen(field_transformer=_by_id)
class Role:
    """A named preset of permissions at one scope; `account_id` None marks a system role.

    A custom role's `version` moves, and its `updated_at` with it, whenever
    it changes and whenever a grant gives it to someone or takes it away:
    it versions the role with its members (a SCIM group's ETag). System
    roles, and roles stored before the times were kept, have None for both
    times.
    """

    id: str
    name: str = attrs.field(validator=_name)
    scope: Scope = Scope.ACCOUNT
    permissions: frozenset[str] = frozenset()
    account_id: str | None = None
    description: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    external_id: str | None = None
    """The id an identity provider knows a custom role by (a SCIM group's), unique in its
    account, case-exact."""
    version: int = attrs.field(default=1, validator=_positive)

    @property
    def system(self) -> bool:
        """System roles ship with the platform and belong to no account."""
        return self.account_id is None


@attrs.frozen(field_transformer=_by_id)
class Grant:
    """What one user holds in one account, or in one mailbox of it.

    Effective permissions are the union of the roles' presets and the
    individually selected `permissions`.
    """

    id: str
    user_id: str
    account_id: str
    mailbox_id: str | None = None
    role_ids: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    version: int = attrs.field(default=1, validator=_positive)


@attrs.frozen(field_transformer=_by_id)
class Mailbox:
    """A shared mailbox of an account or a user's personal mailbox."""

    id: str
    account_id: str
    address: EmailAddress
    kind: MailboxKind = MailboxKind.SHARED
    display_name: str = ""
    owner_id: str | None = None
    version: int = attrs.field(default=1, validator=_positive)


@attrs.frozen
class MailboxOffer:
    """Mailbox-scope access offered by an invitation."""

    mailbox_id: str
    role_ids: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()


@attrs.frozen(field_transformer=_by_id)
class Invitation:
    """An offer of access to an account, sent to an email address.

    Only the hash of the invitation token is kept. `inviter` names who
    invited (`user:<id>` or `platform:<name>`; "" for invitations stored
    before it was kept, whose `inviter_id` is a user's id).
    `offer_digest` fingerprints the roles and mailboxes the offer refers to
    as they were when it was issued, so that an invitation never grants what
    a later role or mailbox under a reused id holds ("" for invitations
    stored before the digest existed).
    """

    id: str
    account_id: str
    email: EmailAddress
    inviter_id: str
    created_at: datetime
    expires_at: datetime
    token_hash: str = attrs.field(repr=False, metadata={SECRET: True})
    status: InvitationStatus = InvitationStatus.PENDING
    role_ids: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    mailboxes: tuple[MailboxOffer, ...] = ()
    inviter: str = ""
    offer_digest: str = ""
    version: int = attrs.field(default=1, validator=_positive)


@attrs.frozen(field_transformer=_by_id)
class DirectNumber:
    """A phone number an account owns, in E.164: one account's, platform-wide.

    A number is assigned to at most one user (`user_id`, None while free).
    """

    id: str
    account_id: str
    number: PhoneNumber
    added_at: datetime
    user_id: str | None = None
    version: int = attrs.field(default=1, validator=_positive)


@attrs.frozen(field_transformer=_by_id)
class StationPackage:
    """A kind of phone station licence (basic, standard, executive) and how many the account owns.

    Each phone user holds one station; `in_use` counts them, and never
    exceeds `owned`. `applications` are those a station of this kind permits
    (voicemail, softphone, mobile app ...).
    """

    id: str
    account_id: str
    name: str
    owned: int
    in_use: int = 0
    applications: frozenset[str] = frozenset()
    version: int = attrs.field(default=1, validator=_positive)

    @property
    def free(self) -> int:
        """How many are left to give."""
        return self.owned - self.in_use


@attrs.frozen(field_transformer=_by_id)
class PhoneSeat:
    """A user's place on the phone system: its station, number or extension, applications."""

    id: str
    account_id: str
    user_id: str
    station_id: str
    extension: str | None = None
    number_id: str | None = None
    applications: frozenset[str] = frozenset()
    version: int = attrs.field(default=1, validator=_positive)


@attrs.frozen(field_transformer=_by_id)
class Device:
    """An IP phone added to an account beforehand: its model, MAC address and ports.

    A device is assigned to at most one user (`user_id`, None while free).
    A user has one `primary` device and any number of secondary ones; the
    assignment uses `ports_used` of the model's `ports` (0 while free).
    """

    id: str
    account_id: str
    model: str
    mac: MacAddress
    ports: int
    added_at: datetime
    user_id: str | None = None
    primary: bool = False
    ports_used: int = 0
    version: int = attrs.field(default=1, validator=_positive)

    @property
    def free(self) -> bool:
        """Whether the device is assigned to nobody."""
        return self.user_id is None


class SupportStatus(enum.StrEnum):
    """Lifecycle of a support relationship (its expiry is read off the clock)."""

    PENDING = "pending"
    ACTIVE = "active"
    ENDED = "ended"


@attrs.frozen(field_transformer=_by_id)
class SupportRelationship:
    """A parent account's support access to one of its customers: which roles, for how long.

    The parent asks (`requested_at`); the customer's owner approves it, or a
    standing consent of the customer does. It is active from `approved_at`
    until `expires_at`, or until either side ends it (`ended_at`). Within
    it, the parent's agents open support sessions and act in the customer
    with the roles named here, never more.
    """

    id: str
    parent_id: str
    customer_id: str
    role_ids: frozenset[str]
    duration_days: int
    requested_at: datetime
    status: SupportStatus = SupportStatus.PENDING
    approved_at: datetime | None = None
    expires_at: datetime | None = None
    ended_at: datetime | None = None
    version: int = attrs.field(default=1, validator=_positive)

    def active_at(self, now: datetime) -> bool:
        """Whether agents may act through it at `now`: approved, not ended, not expired."""
        return (
            self.status is SupportStatus.ACTIVE
            and self.expires_at is not None
            and now < self.expires_at
        )


@attrs.frozen(field_transformer=_by_id)
class SupportSession:
    """An agent of a parent account acting in a customer account, for a limited time.

    `agent` is the agent's username as it was when the session opened, so the
    customer can tell who was there without reading the parent's users.
    """

    id: str
    relationship_id: str
    parent_id: str
    customer_id: str
    agent_id: str
    agent: str
    opened_at: datetime
    expires_at: datetime
    reason: str = ""
    closed_at: datetime | None = None
    version: int = attrs.field(default=1, validator=_positive)

    def open_at(self, now: datetime) -> bool:
        """Whether the session may still act at `now`: not closed, not expired."""
        return self.closed_at is None and now < self.expires_at


@attrs.frozen(field_transformer=_by_id)
class ApiClient:
    """A machine principal of one account: an identity provider's connection, a script.

    It holds roles and permissions in its account as a user's grant does
    (and is ranked by them); it holds nothing in a mailbox, nor anywhere
    else. It authenticates with a token shown once, of which only the hash
    of the secret part is kept (`secret_hash`). It acts until it is revoked
    (`revoked_at`) or expires (`expires_at`, None: never).

    A client bound to a `directory_service` speaks for that directory: the
    users it creates are that directory's, and it alone changes them one by
    one (everyone else changes them in the directory, or by `SyncDirectory`).
    `created_by` names who created it (`user:<id>`, `platform:<name>` ...).
    """

    id: str
    account_id: str
    name: str = attrs.field(validator=_name)
    created_at: datetime
    created_by: str
    secret_hash: str = attrs.field(repr=False, metadata={SECRET: True, SEALED: True})
    role_ids: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    directory_service: str | None = None
    description: str = ""
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    rotated_at: datetime | None = None
    version: int = attrs.field(default=1, validator=_positive)

    def active_at(self, now: datetime) -> bool:
        """Whether it may act at `now`: not revoked, not expired."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@attrs.frozen(field_transformer=_by_id)
class AuditEvent:
    """One recorded change: who did what to which entity, and when."""

    id: str
    occurred_at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    account_id: str | None = None
    detail: str = ""
