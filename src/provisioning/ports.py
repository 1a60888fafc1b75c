"""Ports: the protocols through which the core reaches state and the outside world.

Stores implement `Store` (which hands out `UnitOfWork`s exposing one repository
per aggregate); the workflow takes a `Clock`, an `IdSource` and a `Notifier`.
In-memory implementations ship in `provisioning.adapters.memory`, the SQLite
store in `provisioning.adapters.sqlite`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar, runtime_checkable

import attrs

from provisioning.model import (
    SECRET,
    Account,
    AuditEvent,
    ClassOfService,
    Device,
    DirectNumber,
    Domain,
    DomainName,
    EmailAddress,
    Grant,
    Invitation,
    MacAddress,
    Mailbox,
    PhoneNumber,
    PhoneSeat,
    Role,
    SignInState,
    StationPackage,
    SupportRelationship,
    SupportSession,
    User,
    Username,
)

if TYPE_CHECKING:
    from provisioning.adapters._tables import Backend, Table, TableChanges

__all__ = [
    "AccountRepository",
    "AuditLog",
    "ClassOfServiceRepository",
    "Clock",
    "DeviceRepository",
    "DnsResolver",
    "DomainRepository",
    "Environment",
    "ForkReadable",
    "GrantRepository",
    "GuessCount",
    "IdSource",
    "InvitationRepository",
    "MailboxRepository",
    "Message",
    "Notifier",
    "NumberRepository",
    "PasswordHasher",
    "RelationshipRepository",
    "Repository",
    "RoleRepository",
    "Sealer",
    "SeatRepository",
    "SessionRepository",
    "StationRepository",
    "Store",
    "TokenSource",
    "UnitOfWork",
    "UserRepository",
]

_E = TypeVar("_E")


class Repository(Protocol[_E]):
    """Storage of one aggregate, inside a unit of work.

    `add` refuses a value another entity already holds (`Conflict`, with the
    uniqueness code); `update` and `remove` refuse a stale version (`Conflict`,
    code `version.stale`) so a change made from an old read is never lost.
    """

    def get(self, entity_id: str, /) -> _E:
        """The entity with this id; `NotFound` if there is none."""
        ...

    def find(self, entity_id: str, /) -> _E | None:
        """The entity with this id, or None."""
        ...

    def get_many(self, entity_ids: Iterable[str], /) -> dict[str, _E]:
        """The entities among `entity_ids` that exist, by id, in one look-up."""
        ...

    def add(self, entity: _E, /) -> _E:
        """Store a new entity (its version as given, normally 1) and return it."""
        ...

    def update(self, entity: _E, /) -> _E:
        """Replace the stored entity; `entity.version` must be the stored version.

        Returns the stored entity, whose version is one higher.
        """
        ...

    def remove(self, entity_id: str, /, *, version: int | None = None) -> None:
        """Delete the entity, checking its version when one is given."""
        ...

    def count(self) -> int:
        """How many entities are stored."""
        ...


class AccountRepository(Repository[Account], Protocol):
    """Accounts (tenants)."""

    def by_name(self, name: str, /) -> Account | None:
        """The account with this name, compared case-insensitively."""
        ...

    def children(self, parent_id: str, /) -> list[Account]:
        """Accounts whose parent is `parent_id`, sorted by name."""
        ...

    def every(self) -> list[Account]:
        """Every account, sorted by name."""
        ...


class DomainRepository(Repository[Domain], Protocol):
    """Domains; a name is held by at most one account on the whole platform."""

    def by_name(self, name: DomainName, /) -> Domain | None:
        """The domain called `name`, whichever account holds it."""
        ...

    def of_account(self, account_id: str, /) -> list[Domain]:
        """The account's domains, sorted by name."""
        ...

    def using_cos(self, cos_id: str, /) -> list[Domain]:
        """The domains whose default class of service this is, sorted by name."""
        ...


class ClassOfServiceRepository(Repository[ClassOfService], Protocol):
    """Classes of service, platform-wide (`account_id` None) or per account."""

    def by_name(self, account_id: str | None, name: str, /) -> ClassOfService | None:
        """The class of service called `name` (case-insensitive) in that scope."""
        ...

    def of_account(self, account_id: str | None, /) -> list[ClassOfService]:
        """The classes of service of an account (None: platform-wide), sorted by name."""
        ...


class UserRepository(Repository[User], Protocol):
    """Users. Usernames and aliases share one case-insensitive platform-wide namespace."""

    def by_username(self, username: Username, /) -> User | None:
        """The user whose username this is."""
        ...

    def by_address(self, address: EmailAddress | Username | str, /) -> User | None:
        """The user holding this address as username or alias (a key or a parsed value)."""
        ...

    def holders(self, addresses: Iterable[str], /) -> dict[str, str]:
        """For the address keys among `addresses` that are held: key -> user id (one look-up)."""
        ...

    def of_domain(self, domain_id: str, /) -> list[User]:
        """The users on a domain, sorted by username."""
        ...

    def of_account(self, account_id: str, /) -> list[User]:
        """The users of an account, sorted by username."""
        ...

    def using_cos(self, cos_id: str, /) -> list[User]:
        """The users assigned this class of service, sorted by username."""
        ...

    def named_on(self, domain: DomainName, /) -> list[User]:
        """The users whose username is on `domain` (hosted or not), sorted by username."""
        ...

    def with_alias_on(self, domain: DomainName, /) -> list[User]:
        """The users holding at least one alias on `domain`, sorted by username."""
        ...

    def page(
        self,
        *,
        account_id: str | None = None,
        domain_id: str | None = None,
        text: str | None = None,
        descending: bool = False,
        offset: int = 0,
        limit: int | None = None,
        after: tuple[str, str] | None = None,
    ) -> tuple[list[User], int]:
        """One page of users sorted by username, and how many match in all.

        `after` is the (username key, id) of the last user of the previous
        page: the page then starts after it (keyset paging), and `offset`
        counts from there.

        `text` matches, case-insensitively, as "contains" over the username,
        the full and display names and the directory service name, and as
        "equals" over the id.
        """
        ...


class RoleRepository(Repository[Role], Protocol):
    """Roles: system roles (`account_id` None) and each account's custom roles."""

    def by_name(self, account_id: str | None, name: str, /) -> Role | None:
        """The role called `name` (case-insensitive) in that scope."""
        ...

    def of_account(self, account_id: str | None, /) -> list[Role]:
        """The roles of an account (None: the system roles), sorted by name."""
        ...


class GrantRepository(Repository[Grant], Protocol):
    """What users hold in accounts and mailboxes; one grant per user and scope."""

    def for_scope(self, user_id: str, account_id: str, mailbox_id: str | None, /) -> Grant | None:
        """The user's grant in the account (mailbox None) or in one of its mailboxes."""
        ...

    def of_user(self, user_id: str, /) -> list[Grant]:
        """Every grant the user holds."""
        ...

    def of_account(self, account_id: str, /) -> list[Grant]:
        """Every grant in the account and its mailboxes."""
        ...

    def of_mailbox(self, mailbox_id: str, /) -> list[Grant]:
        """Every grant in one mailbox."""
        ...


class MailboxRepository(Repository[Mailbox], Protocol):
    """Shared and personal mailboxes; an address names at most one mailbox."""

    def by_address(self, address: EmailAddress, /) -> Mailbox | None:
        """The mailbox at this address."""
        ...

    def of_account(self, account_id: str, /) -> list[Mailbox]:
        """The account's mailboxes, sorted by address."""
        ...

    def of_owner(self, user_id: str, /) -> list[Mailbox]:
        """The personal mailboxes of a user."""
        ...

    def on_domain(self, domain: DomainName, /) -> list[Mailbox]:
        """The mailboxes whose address is on `domain`, sorted by address."""
        ...


class InvitationRepository(Repository[Invitation], Protocol):
    """Invitations, found by the hash of their token or by the invited address."""

    def by_token_hash(self, token_hash: str, /) -> Invitation | None:
        """The invitation whose token hashes to `token_hash`."""
        ...

    def of_email(self, email: EmailAddress, /) -> list[Invitation]:
        """Invitations sent to this address, oldest first."""
        ...

    def of_account(self, account_id: str, /) -> list[Invitation]:
        """Invitations of the account, oldest first."""
        ...


class AuditLog(Protocol):
    """An append-only record of changes, written in the unit of work that made them."""

    def append(self, event: AuditEvent, /) -> None:
        """Record one event."""
        ...

    def events(
        self,
        *,
        account_id: str | None = None,
        entity_id: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEvent]:
        """Recorded events, oldest first (or newest first), of one account or entity, paged."""
        ...


class NumberRepository(Repository[DirectNumber], Protocol):
    """The phone numbers accounts own."""

    def by_number(self, number: PhoneNumber, /) -> DirectNumber | None:
        """The row holding this number, whichever account owns it."""
        ...

    def holders(self, numbers: Iterable[PhoneNumber], /) -> dict[str, str]:
        """For each of `numbers` some account holds: E.164 -> the holding row's id."""
        ...

    def of_account(self, account_id: str, /) -> list[DirectNumber]:
        """The account's numbers, in E.164 order."""
        ...

    def of_user(self, user_id: str, /) -> list[DirectNumber]:
        """The numbers assigned to the user."""
        ...


class StationRepository(Repository[StationPackage], Protocol):
    """The station packages accounts own."""

    def by_name(self, account_id: str, name: str, /) -> StationPackage | None:
        """The account's package of this name, compared case-insensitively."""
        ...

    def of_account(self, account_id: str, /) -> list[StationPackage]:
        """The account's packages, by name."""
        ...


class SeatRepository(Repository[PhoneSeat], Protocol):
    """Users' phone seats."""

    def of_user(self, user_id: str, /) -> PhoneSeat | None:
        """The user's seat, if it has one."""
        ...

    def of_account(self, account_id: str, /) -> list[PhoneSeat]:
        """The account's seats, by extension."""
        ...

    def of_station(self, station_id: str, /) -> list[PhoneSeat]:
        """The seats holding a station of this package."""
        ...


class DeviceRepository(Repository[Device], Protocol):
    """The devices (IP phones) accounts own."""

    def by_mac(self, mac: MacAddress, /) -> Device | None:
        """The device of this MAC address, whichever account owns it."""
        ...

    def of_account(self, account_id: str, /) -> list[Device]:
        """The account's devices, by MAC address."""
        ...

    def of_user(self, user_id: str, /) -> list[Device]:
        """The user's devices, its primary first."""
        ...


class RelationshipRepository(Repository[SupportRelationship], Protocol):
    """Parent accounts' support access to their customers."""

    def of_parent(self, parent_id: str, /) -> list[SupportRelationship]:
        """The parent's relationships, oldest request first."""
        ...

    def of_customer(self, customer_id: str, /) -> list[SupportRelationship]:
        """The customer's relationships, oldest request first."""
        ...

    def live(self, parent_id: str, customer_id: str, /) -> SupportRelationship | None:
        """The pending or active relationship between the two accounts, if any."""
        ...


class SessionRepository(Repository[SupportSession], Protocol):
    """Support sessions agents opened in customer accounts."""

    def of_relationship(self, relationship_id: str, /) -> list[SupportSession]:
        """The sessions opened through the relationship, oldest first."""
        ...

    def of_parent(self, parent_id: str, /) -> list[SupportSession]:
        """The sessions the parent's agents opened, oldest first."""
        ...

    def of_customer(self, customer_id: str, /) -> list[SupportSession]:
        """The sessions opened in the customer, oldest first."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository: all of its changes commit, or none do.

    Leaving the `with` block without `commit()` rolls everything back, and so
    does an exception. `savepoint()` scopes a partial rollback inside it.
    """

    @property
    def accounts(self) -> AccountRepository:
        """Accounts."""
        ...

    @property
    def domains(self) -> DomainRepository:
        """Domains."""
        ...

    @property
    def classes_of_service(self) -> ClassOfServiceRepository:
        """Classes of service."""
        ...

    @property
    def users(self) -> UserRepository:
        """Users."""
        ...

    @property
    def roles(self) -> RoleRepository:
        """Roles."""
        ...

    @property
    def grants(self) -> GrantRepository:
        """Grants."""
        ...

    @property
    def mailboxes(self) -> MailboxRepository:
        """Mailboxes."""
        ...

    @property
    def invitations(self) -> InvitationRepository:
        """Invitations."""
        ...

    @property
    def numbers(self) -> NumberRepository:
        """Phone numbers."""
        ...

    @property
    def stations(self) -> StationRepository:
        """Station packages."""
        ...

    @property
    def seats(self) -> SeatRepository:
        """Phone seats."""
        ...

    @property
    def devices(self) -> DeviceRepository:
        """Devices (IP phones)."""
        ...

    @property
    def relationships(self) -> RelationshipRepository:
        """Support relationships between parents and customers."""
        ...

    @property
    def sessions(self) -> SessionRepository:
        """Support sessions."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The audit log."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make every change of this unit of work durable and visible."""
        ...

    def rollback(self) -> None:
        """Discard every change made since the unit of work began."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """Changes made inside the block are undone if it raises; the exception propagates."""
        ...

    def change_count(self) -> int:
        """How many units of work have committed changes to the store so far.

        A plan remembers it; if it is the same when the plan is applied,
        nothing the plan read can have changed.
        """
        ...

    def backend(self, table: Table[Any], /) -> Backend[Any]:
        """The primitive operations on one table (what the repositories are built on)."""
        ...

    def write(self, changes: Iterable[TableChanges], /) -> None:
        """Write a planned batch's changes, in sets."""
        ...


GuessCount = Callable[[Mapping[str, SignInState]], Mapping[str, SignInState]]
"""What `Store.count_guesses` runs: the keys' states in, the changed states out."""


class Store(Protocol):
    """Something that hands out units of work over persistent (or in-memory) state."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work, which may write; use it as a context manager."""
        ...

    def snapshot(self) -> UnitOfWork:
        """A unit of work for reading only, which neither waits for writers nor blocks them."""
        ...

    def count_guesses(self, keys: Collection[str], count: GuessCount, /, *, now: datetime) -> None:
        """Change the guess counters of `keys` in one write transaction of their own.

        `count` gets the current state of each key (a fresh `SignInState`
        for a key never counted) and returns the new state of those it
        changes; they are committed before this returns, so a guess is on
        record before its secret is checked. Calls for the same key, from
        any thread or process, run one after the other. A state equal to a
        fresh `SignInState` forgets the key, and so may a counter idle for
        longer than `GUESSES_KEPT` before `now` and not locked. The
        counters are not entities: they have no version, and changing them
        does not make a plan stale.
        """
        ...

    def guess_states(self, keys: Collection[str], /) -> dict[str, SignInState]:
        """The guess counters of `keys` as committed (fresh for a key never counted)."""
        ...


@runtime_checkable
class ForkReadable(Protocol):
    """A store a forked child process may read, so a large dry run can use every core.

    Optional: a store without it is planned on one core.
    """

    def forked_reads(self) -> AbstractContextManager[None] | None:
        """What a forked child enters before it reads the store; None if a child cannot.

        It is called in the parent and entered in the child, which must not
        use the parent's open connections: it opens its own, and closes them
        on leaving. Nothing it yields may write.
        """
        ...


class Clock(Protocol):
    """The current time, always timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant."""
        ...


class IdSource(Protocol):
    """New, unique entity ids."""

    def new_id(self) -> str:
        """A fresh id never handed out before."""
        ...


class TokenSource(Protocol):
    """Unpredictable tokens for verification records, invitation links and the like."""

    def token(self) -> str:
        """A fresh URL-safe token carrying at least 128 bits of randomness."""
        ...


class PasswordHasher(Protocol):
    """Turns passwords into salted one-way hashes and checks passwords against them."""

    def hash(self, password: str, /) -> str:
        """A new hash of `password`."""
        ...

    def verify(self, password_hash: str, password: str, /) -> bool:
        """Whether `password` matches `password_hash`."""
        ...

    def needs_rehash(self, password_hash: str, /) -> bool:
        """Whether the hash should be replaced by one with the current parameters."""
        ...


class DnsResolver(Protocol):
    """Reads DNS records. Adapters raise `DnsUnavailable` when the lookup itself fails."""

    def txt_records(self, name: DomainName, /) -> list[str]:
        """The TXT record values published for `name` (an empty list when there are none)."""
        ...


@attrs.frozen
class Message:
    """A notification to deliver after a change has committed.

    `template` names what happened (`invitation.accepted` ...); `data` holds
    the values a template needs. A one-time token meant for the recipient
    (an invitation or set-password link) travels in `secrets`, which `repr`
    and `to_export` leave out: only the notifier that delivers it reads it.
    """

    template: str
    to: str
    data: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    secrets: Mapping[str, str] = attrs.field(
        factory=dict, hash=False, repr=False, metadata={SECRET: True}
    )
    channel: str = "email"
    """How it travels: `email` (`to` is an address) or `sms` (`to` is an E.164 number)."""


class Sealer(Protocol):
    """Seals the secrets a store keeps (TOTP secrets, password hashes), with a key of its own.

    `context` names the column and row a value belongs to; a value sealed
    for one context must not open in another. `unseal` raises
    `provisioning.security.SealingError` when no key it has opens the value.
    `provisioning.security.AesGcmSealer` is the implementation.
    """

    @property
    def key_id(self) -> str:
        """The id of the key new values are sealed with."""
        ...

    def seal(self, plaintext: str, /, *, context: str) -> str:
        """`plaintext` sealed with the current key."""
        ...

    def unseal(self, sealed: str, /, *, context: str) -> str:
        """The plaintext of a value sealed with the current or an earlier key."""
        ...


class Notifier(Protocol):
    """Delivers messages. Called only after the unit of work that produced them committed."""

    def send(self, messages: Collection[Message], /) -> None:
        """Deliver the messages, in order."""
        ...


class Environment(Protocol):
    """What the workflow and the queries run with: a store and the ports (see `Context`)."""

    @property
    def store(self) -> Store:
        """The store changes are read from and written to."""
        ...

    @property
    def clock(self) -> Clock:
        """The current time."""
        ...

    @property
    def ids(self) -> IdSource:
        """New entity ids."""
        ...

    @property
    def notifier(self) -> Notifier:
        """Where messages go after commit."""
        ...

    @property
    def tokens(self) -> TokenSource:
        """Unpredictable tokens."""
        ...

    @property
    def dns(self) -> DnsResolver:
        """DNS look-ups for domain verification."""
        ...

    @property
    def hasher(self) -> PasswordHasher:
        """Password hashing."""
        ...

    @property
    def handlers(self) -> Mapping[type, Any]:
        """The handler of each command type."""
        ...

    @property
    def prefetch(self) -> Mapping[type, Any]:
        """What a batch of each command type reads in one go."""
        ...

    @property
    def guesses(self) -> Mapping[type, Any]:
        """The guess at a secret each command type makes, counted before it is checked."""
        ...

    @property
    def fresh_for(self) -> timedelta:
        """How long a plan may be applied without being validated again."""
        ...
