"""The typed repositories, written once over the `Backend` primitives every store supplies.

A unit of work derives from `UnitOfWork`, which builds them over the
store's backends and writes a planned batch's changes in sets.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Generic, NamedTuple, Self, TypeVar

import attrs

from provisioning.errors import Conflict, NotFound, codes
from provisioning.model import (
    Account,
    ApiClient,
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
    Message,
    PhoneNumber,
    PhoneSeat,
    Role,
    StationPackage,
    SupportRelationship,
    SupportSession,
    User,
    Username,
    skeleton,
)
from provisioning.storage._scopes import change_scopes, row_scopes
from provisioning.storage._tables import (
    TABLES,
    Backend,
    Identified,
    Select,
    Table,
    Versioned,
    external_key,
    fold,
    instant_text,
    scoped,
)

_T = TypeVar("_T", bound=Identified)
_E = TypeVar("_E", bound=Versioned)

__all__ = [
    "AccountRepo",
    "AuditRepo",
    "Change",
    "ClassOfServiceRepo",
    "ClientRepo",
    "DeviceRepo",
    "DomainRepo",
    "GrantRepo",
    "InvitationRepo",
    "MailboxRepo",
    "NumberRepo",
    "RelationshipRepo",
    "RoleRepo",
    "SeatRepo",
    "SessionRepo",
    "StationRepo",
    "TableChanges",
    "UnitOfWork",
    "UserRepo",
]

CODES: Final = codes(
    stale=("version.stale",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


@attrs.define
class _Repository(Generic[_E]):
    """The generic half of every repository, over one backend."""

    _rows: Backend[_E]

    def get(self, entity_id: str, /) -> _E:
        entity = self._rows.fetch(entity_id)
        if entity is None:
            raise NotFound(entity=self._rows.table.label, key=entity_id)
        return entity

    def find(self, entity_id: str, /) -> _E | None:
        return self._rows.fetch(entity_id)

    def get_many(self, entity_ids: Iterable[str], /) -> dict[str, _E]:
        return self._rows.fetch_many(list(dict.fromkeys(entity_ids)))

    def add(self, entity: _E, /) -> _E:
        if self._rows.fetch(entity.id) is not None:
            raise Conflict(code="id.taken", entity=self._rows.table.label, key=entity.id)
        self._rows.insert(entity)
        return entity

    def update(self, entity: _E, /) -> _E:
        current = self.get(entity.id)
        self._check_version(current, entity.version)
        stored = attrs.evolve(entity, version=current.version + 1)  # type: ignore[misc]
        self._rows.replace(current, stored)
        return stored

    def remove(self, entity_id: str, /, *, version: int | None = None) -> None:
        current = self.get(entity_id)
        if version is not None:
            self._check_version(current, version)
        self._rows.delete(current)

    def count(self) -> int:
        return self._rows.size()

    def at_version(self, entity_id: str, version: int, /) -> _E:
        """The entity, if it is still at `version`; else `Conflict` (`version.stale`)."""
        current = self.get(entity_id)
        self._check_version(current, version)
        return current

    def _check_version(self, current: _E, version: int) -> None:
        if current.version != version:
            raise Conflict(
                code="version.stale",
                entity=self._rows.table.label,
                key=current.id,
                expected_version=version,
                actual_version=current.version,
            )

    def _holders(self, namespace: str, values: Sequence[str]) -> dict[str, list[str]]:
        return self._rows.lookup(namespace, values)

    def _first(self, namespace: str, value: str) -> _E | None:
        ids = self._rows.lookup(namespace, (value,)).get(value, [])
        return self._rows.fetch(ids[0]) if ids else None

    def _all(self, namespace: str, value: str, order: Callable[[_E], str]) -> list[_E]:
        ids = self._rows.lookup(namespace, (value,)).get(value, [])
        return sorted(self._rows.fetch_many(ids).values(), key=order)


def _by_name(entity: Account | ApiClient | ClassOfService | Role) -> str:
    return entity.name.casefold()


class AccountRepo(_Repository[Account]):
    """Accounts over a backend."""

    def by_name(self, name: str, /) -> Account | None:
        return self._first("account.name", fold(name))

    def children(self, parent_id: str, /) -> list[Account]:
        return self._all("account.parent", parent_id, _by_name)

    def every(self) -> list[Account]:
        """Every account, by name."""
        return sorted(self.get_many(self._rows.ids()).values(), key=_by_name)


class DomainRepo(_Repository[Domain]):
    """Domains over a backend."""

    def by_name(self, name: DomainName, /) -> Domain | None:
        return self._first("domain.name", name.ascii)

    def lookalike(self, name: DomainName, /) -> Domain | None:
        """A domain whose name looks like `name` (the same skeleton), `name` itself included."""
        return self._first("domain.skeleton", skeleton(name.unicode))

    def of_account(self, account_id: str, /) -> list[Domain]:
        return self._all("domain.account", account_id, _by_domain_name)

    def using_cos(self, cos_id: str, /) -> list[Domain]:
        return self._all("domain.cos", cos_id, _by_domain_name)


def _by_domain_name(domain: Domain) -> str:
    return domain.name.ascii


class ClassOfServiceRepo(_Repository[ClassOfService]):
    """Classes of service over a backend."""

    def by_name(self, account_id: str | None, name: str, /) -> ClassOfService | None:
        return self._first("cos.name", scoped(account_id, name))

    def of_account(self, account_id: str | None, /) -> list[ClassOfService]:
        return self._all("cos.account", account_id or "*", _by_name)


def _by_username(user: User) -> str:
    return user.username.key


class UserRepo(_Repository[User]):
    """Users over a backend."""

    def by_username(self, username: Username, /) -> User | None:
        user = self.by_address(username.key)
        return user if user is not None and user.username.key == username.key else None

    def by_address(self, address: EmailAddress | Username | str, /) -> User | None:
        key = address if isinstance(address, str) else address.key
        return self._first("user.address", key)

    def by_external_id(
        self, account_id: str, directory: str | None, external_id: str, /
    ) -> User | None:
        """The account's user of `directory` (None: of none) known there as `external_id`."""
        return self._first("user.external_id", external_key(account_id, directory, external_id))

    def holders(self, addresses: Iterable[str], /) -> dict[str, str]:
        found = self._holders("user.address", list(dict.fromkeys(addresses)))
        return {key: ids[0] for key, ids in found.items() if ids}

    def with_skeleton(self, address_skeleton: str, /) -> Sequence[str]:
        """The ids of the users holding an address with this skeleton (`model.skeleton`)."""
        return self._holders("user.skeleton", (address_skeleton,)).get(address_skeleton, ())

    def of_domain(self, domain_id: str, /) -> list[User]:
        return self._all("user.domain", domain_id, _by_username)

    def of_account(self, account_id: str, /) -> list[User]:
        return self._all("user.account", account_id, _by_username)

    def using_cos(self, cos_id: str, /) -> list[User]:
        return self._all("user.cos", cos_id, _by_username)

    def defaulting_to(self, mailbox_id: str, /) -> list[User]:
        """The users whose default mailbox is `mailbox_id`."""
        return self._all("user.default_mailbox", mailbox_id, _by_username)

    def named_on(self, domain: DomainName, /) -> list[User]:
        return self._all("user.domain_name", domain.ascii, _by_username)

    def with_alias_on(self, domain: DomainName, /) -> list[User]:
        return self._all("user.alias_domain", domain.ascii, _by_username)

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
        status: str | None = None,
        changed_since: datetime | None = None,
    ) -> tuple[list[User], int]:
        """One page of users by username: of an account or domain, in a status, changed since."""
        given = (("account_id", account_id), ("domain_id", domain_id), ("status", status))
        equals = tuple((name, value) for name, value in given if value is not None)
        since = None if changed_since is None else ("updated_at", instant_text(changed_since))
        query = Select(
            order_by="username_key",
            equals=equals,
            since=since,
            text=None if text is None else text.casefold(),
            text_columns=("username_text", "full_name", "directory"),
            descending=descending,
            offset=offset,
            limit=limit,
            after=after,
        )
        ids, total = self._rows.select(query)
        found = self._rows.fetch_many(ids)
        return [found[i] for i in ids], total


class RoleRepo(_Repository[Role]):
    """Roles over a backend."""

    def by_external_id(self, account_id: str, external_id: str, /) -> Role | None:
        """The account's custom role an identity provider knows as `external_id`."""
        return self._first("role.external_id", external_key(account_id, None, external_id))

    def by_name(self, account_id: str | None, name: str, /) -> Role | None:
        return self._first("role.name", scoped(account_id, name))

    def of_account(self, account_id: str | None, /) -> list[Role]:
        return self._all("role.account", account_id or "*", _by_name)


class GrantRepo(_Repository[Grant]):
    """Grants over a backend."""

    def for_scope(self, user_id: str, account_id: str, mailbox_id: str | None, /) -> Grant | None:
        return self._first("grant.scope", f"{user_id}/{account_id}/{mailbox_id or '*'}")

    def of_user(self, user_id: str, /) -> list[Grant]:
        return self._all("grant.user", user_id, _grant_order)

    def of_account(self, account_id: str, /) -> list[Grant]:
        return self._all("grant.account", account_id, _grant_order)

    def of_mailbox(self, mailbox_id: str, /) -> list[Grant]:
        return self._all("grant.mailbox", mailbox_id, _grant_order)


def _grant_order(grant: Grant) -> str:
    return f"{grant.account_id}\x1f{grant.mailbox_id or ''}\x1f{grant.user_id}"


class MailboxRepo(_Repository[Mailbox]):
    """Mailboxes over a backend."""

    def by_address(self, address: EmailAddress, /) -> Mailbox | None:
        return self._first("mailbox.address", address.key)

    def with_skeleton(self, address_skeleton: str, /) -> list[Mailbox]:
        """The mailboxes whose address has this skeleton (`model.skeleton`)."""
        ids = self._holders("mailbox.skeleton", (address_skeleton,)).get(address_skeleton, ())
        return list(self._rows.fetch_many(ids).values()) if ids else []

    def of_account(self, account_id: str, /) -> list[Mailbox]:
        return self._all("mailbox.account", account_id, lambda m: m.address.key)

    def of_owner(self, user_id: str, /) -> list[Mailbox]:
        return self._all("mailbox.owner", user_id, lambda m: m.address.key)

    def on_domain(self, domain: DomainName, /) -> list[Mailbox]:
        return self._all("mailbox.domain_name", domain.ascii, lambda m: m.address.key)


def _by_creation(invitation: Invitation) -> str:
    return f"{invitation.created_at.isoformat()}\x1f{invitation.id}"


class InvitationRepo(_Repository[Invitation]):
    """Invitations over a backend."""

    def by_token_hash(self, token_hash: str, /) -> Invitation | None:
        return self._first("invitation.token", token_hash)

    def of_email(self, email: EmailAddress, /) -> list[Invitation]:
        return self._all("invitation.email", email.key, _by_creation)

    def of_account(self, account_id: str, /) -> list[Invitation]:
        return self._all("invitation.account", account_id, _by_creation)


class NumberRepo(_Repository[DirectNumber]):
    """An account's phone numbers over a backend."""

    def by_number(self, number: PhoneNumber, /) -> DirectNumber | None:
        return self._first("number.e164", number.e164)

    def holders(self, numbers: Iterable[PhoneNumber], /) -> dict[str, str]:
        """For each of `numbers` some account holds: E.164 -> the holding row's id."""
        found = self._holders("number.e164", [n.e164 for n in numbers])
        return {value: ids[0] for value, ids in found.items() if ids}

    def of_account(self, account_id: str, /) -> list[DirectNumber]:
        return self._all("number.account", account_id, _by_number)

    def of_user(self, user_id: str, /) -> list[DirectNumber]:
        return self._all("number.user", user_id, _by_number)


def _by_number(entity: DirectNumber) -> str:
    return entity.number.e164


class StationRepo(_Repository[StationPackage]):
    """An account's station packages over a backend."""

    def by_name(self, account_id: str, name: str, /) -> StationPackage | None:
        return self._first("station.name", scoped(account_id, name))

    def of_account(self, account_id: str, /) -> list[StationPackage]:
        return self._all("station.account", account_id, _station_name)


class SeatRepo(_Repository[PhoneSeat]):
    """Users' phone seats over a backend."""

    def of_user(self, user_id: str, /) -> PhoneSeat | None:
        return self._first("seat.user", user_id)

    def of_account(self, account_id: str, /) -> list[PhoneSeat]:
        return self._all("seat.account", account_id, _by_extension)

    def of_station(self, station_id: str, /) -> list[PhoneSeat]:
        return self._all("seat.station", station_id, _by_extension)


class DeviceRepo(_Repository[Device]):
    """An account's IP phones over a backend."""

    def by_mac(self, mac: MacAddress, /) -> Device | None:
        return self._first("device.mac", mac.text)

    def of_account(self, account_id: str, /) -> list[Device]:
        return self._all("device.account", account_id, _by_mac)

    def of_user(self, user_id: str, /) -> list[Device]:
        """The user's devices, the primary first."""
        return sorted(self._all("device.user", user_id, _by_mac), key=lambda d: not d.primary)


class RelationshipRepo(_Repository[SupportRelationship]):
    """Support relationships between parent accounts and their customers over a backend."""

    def of_parent(self, parent_id: str, /) -> list[SupportRelationship]:
        return self._all("support.parent", parent_id, _by_request)

    def of_customer(self, customer_id: str, /) -> list[SupportRelationship]:
        return self._all("support.customer", customer_id, _by_request)

    def live(self, parent_id: str, customer_id: str, /) -> SupportRelationship | None:
        """The pending or active relationship between the two accounts, if any."""
        return self._first("support.pair", f"{parent_id}/{customer_id}")


def _by_request(entity: SupportRelationship) -> str:
    return entity.requested_at.isoformat()


class SessionRepo(_Repository[SupportSession]):
    """Support sessions over a backend."""

    def of_relationship(self, relationship_id: str, /) -> list[SupportSession]:
        return self._all("session.relationship", relationship_id, _by_opening)

    def of_parent(self, parent_id: str, /) -> list[SupportSession]:
        return self._all("session.parent", parent_id, _by_opening)

    def of_customer(self, customer_id: str, /) -> list[SupportSession]:
        return self._all("session.customer", customer_id, _by_opening)


def _by_opening(entity: SupportSession) -> str:
    return entity.opened_at.isoformat()


def _by_mac(entity: Device) -> str:
    return entity.mac.text


def _station_name(entity: StationPackage) -> str:
    return entity.name.casefold()


def _by_extension(entity: PhoneSeat) -> str:
    return entity.extension or ""


class ClientRepo(_Repository[ApiClient]):
    """The API clients of the accounts."""

    def by_name(self, account_id: str, name: str, /) -> ApiClient | None:
        return self._first("client.name", scoped(account_id, name))

    def of_account(self, account_id: str, /) -> list[ApiClient]:
        return self._all("client.account", account_id, _by_name)


@attrs.define
class AuditRepo:
    """The audit log over a backend; events keep the order they were appended in."""

    _rows: Backend[AuditEvent]

    def append(self, event: AuditEvent, /) -> None:
        self._rows.insert(event)

    def events(
        self,
        *,
        account_id: str | None = None,
        entity_id: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEvent]:
        return self.page(
            account_id=account_id,
            entity_id=entity_id,
            offset=offset,
            limit=limit,
            newest_first=newest_first,
        )[0]

    def page(
        self,
        *,
        account_id: str | None = None,
        entity_id: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> tuple[list[AuditEvent], int]:
        """One page of the events, in the order they were recorded, and how many match in all."""
        equals = tuple(
            (name, value)
            for name, value in (("account_id", account_id), ("entity_id", entity_id))
            if value is not None
        )
        query = Select(
            order_by=None, equals=equals, descending=newest_first, offset=offset, limit=limit
        )
        ids, total = self._rows.select(query)
        found = self._rows.fetch_many(ids)
        return [found[event_id] for event_id in ids], total

    def count(self) -> int:
        return self._rows.size()


class Change(NamedTuple, Generic[_T]):
    """One row of a batch's changes: as the store had it (`old`) and as it is to be (`new`).

    `old` None is an insert, `new` None a delete, both set a replacement.
    A tuple: a large batch makes one per row it touches.
    """

    old: _T | None
    new: _T | None


@attrs.frozen
class TableChanges:
    """The changes a batch makes to one table, in the order the rows were first touched."""

    table: Table[Any]
    rows: tuple[Change[Any], ...]


class UnitOfWork:
    """One transaction over every repository: all of its changes commit, or none do.

    This is the contract between the engine and a store. A store's unit of
    work derives from it, gives a `Backend` for each table (`_attach`), and
    implements the transaction: leaving the `with` block without `commit()`
    rolls everything back, and so does an exception; `savepoint()` scopes a
    partial rollback inside it. The typed repositories (`uow.users.by_address`
    ...) and the set-based `write` are built here, once, on the backends' few
    primitives, so no two stores can drift apart in behaviour.
    """

    accounts: AccountRepo
    domains: DomainRepo
    classes_of_service: ClassOfServiceRepo
    users: UserRepo
    roles: RoleRepo
    grants: GrantRepo
    mailboxes: MailboxRepo
    invitations: InvitationRepo
    numbers: NumberRepo
    stations: StationRepo
    seats: SeatRepo
    devices: DeviceRepo
    relationships: RelationshipRepo
    sessions: SessionRepo
    clients: ClientRepo
    audit: AuditRepo

    _backends: dict[str, Backend[Any]]
    writers_take_turns: bool = True
    """Whether the store's write transactions take turns on the whole store (SQLite, memory):
    then a claim on change scopes only counts (see `claim_scopes`)."""

    def __enter__(self) -> Self:
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        """Make every change of this unit of work durable and visible."""
        raise NotImplementedError

    def rollback(self) -> None:
        """Discard every change made since the unit of work began."""
        raise NotImplementedError

    def savepoint(self) -> AbstractContextManager[None]:
        """Changes made inside the block are undone if it raises; the exception propagates."""
        raise NotImplementedError

    def scope_counts(self, scopes: Collection[str], /) -> dict[str, int]:
        """How many committed writes have moved each of `scopes` (one never moved: absent).

        A plan remembers the counts of the scopes it read (see
        `provisioning.storage._scopes`); if they are the same when it is
        applied, nothing it read can have changed.
        """
        raise NotImplementedError

    def claim_scopes(
        self, scopes: Collection[str], /, *, shared: Collection[str] = ()
    ) -> dict[str, int]:
        """Take this write transaction's turn on `scopes`, in one fixed order; their counts.

        Until the transaction ends, no other one commits a write that moves
        any of them. Those not in `shared` are the ones it writes: they move
        when it commits (as if it had touched them). Those in `shared` it only
        reads; a store may let others claim them shared at the same time. A
        store whose writers take turns on the whole store only counts and
        touches (this default).
        """
        counts = self.scope_counts(scopes)
        self.touch(set(scopes) - set(shared))
        return counts

    def touch(self, scopes: Iterable[str], /) -> None:
        """Note that this transaction moves `scopes`: their counts grow when it commits."""
        self._touched.update(scopes)

    def touch_rows(self, table: Table[Any], rows: Iterable[Any], /) -> None:
        """`touch` the scopes of rows written one by one (a batch's `write` touches its own)."""
        if not self._writing:
            for row in rows:
                if row is not None:
                    self._touched.update(row_scopes(table, row))

    def touched(self) -> frozenset[str]:
        """The scopes this transaction has moved since it began (or last committed)."""
        return frozenset(self._touched)

    def enqueue(self, messages: Sequence[Message], /, *, now: datetime) -> tuple[Message, ...]:
        """Write `messages` into the store's outbox, in this transaction; them with their ids.

        They commit with the change that made them, or roll back with it;
        each gets a new stable id (`Message.id`). A store that seals its
        secrets seals the messages' secrets too.
        """
        raise NotImplementedError

    def backend(self, table: Table[Any]) -> Backend[Any]:
        """The backend this unit of work keeps `table` in."""
        return self._backends[table.name]

    def write(
        self, changes: Iterable[TableChanges], /, *, scopes: Collection[str] | None = None
    ) -> None:
        """Write a planned batch's changes in sets, and `touch` their scopes (given, or found).

        Every delete comes first, children before parents; then replacements
        and inserts, parents before children.

        Each `old` must be the row as this unit of work sees it (the batch was
        planned against it, or against a snapshot that has not changed since).
        A unique value taken meanwhile is refused with `Conflict` and its code;
        the caller rolls the unit of work back.
        """
        changes = [c for c in changes if c.rows]
        self.touch(change_scopes(changes) if scopes is None else scopes)
        self._writing = True
        try:
            self._write(changes)
        finally:
            self._writing = False

    @property
    def writing_batch(self) -> bool:
        """Whether `write` is writing a batch (the engine undoes all of it if it fails)."""
        return self._writing

    def _write(self, changes: Sequence[TableChanges]) -> None:
        for table_changes in reversed(changes):
            gone = [c.old for c in table_changes.rows if c.new is None]
            if gone:
                self.backend(table_changes.table).delete_many(gone)
        for table_changes in changes:
            rows = self.backend(table_changes.table)
            pairs = [(c.old, c.new) for c in table_changes.rows if c.old and c.new]
            if pairs:
                rows.replace_many(pairs)
            added = [c.new for c in table_changes.rows if c.old is None]
            if added:
                rows.insert_many(added)

    def _attach(self, backend: Callable[[Table[Any]], Backend[Any]]) -> None:
        self._touched: set[str] = set()
        self._writing = False
        self._backends = {table.name: backend(table) for table in TABLES.all()}
        backend = self.backend
        self.accounts = AccountRepo(backend(TABLES.accounts))
        self.domains = DomainRepo(backend(TABLES.domains))
        self.classes_of_service = ClassOfServiceRepo(backend(TABLES.classes_of_service))
        self.users = UserRepo(backend(TABLES.users))
        self.roles = RoleRepo(backend(TABLES.roles))
        self.grants = GrantRepo(backend(TABLES.grants))
        self.mailboxes = MailboxRepo(backend(TABLES.mailboxes))
        self.invitations = InvitationRepo(backend(TABLES.invitations))
        self.numbers = NumberRepo(backend(TABLES.numbers))
        self.stations = StationRepo(backend(TABLES.stations))
        self.seats = SeatRepo(backend(TABLES.seats))
        self.devices = DeviceRepo(backend(TABLES.devices))
        self.relationships = RelationshipRepo(backend(TABLES.relationships))
        self.sessions = SessionRepo(backend(TABLES.sessions))
        self.clients = ClientRepo(backend(TABLES.clients))
        self.audit = AuditRepo(backend(TABLES.audit))
