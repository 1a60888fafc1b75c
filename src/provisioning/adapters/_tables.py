"""What both stores share: the table of each aggregate and the repositories over it.

A `Table` describes one aggregate: its entity class, the unique values each
entity holds (usernames and aliases share the `address` namespace, say) and the
non-unique keys it is looked up by. A store supplies a `Backend` per table: a
handful of primitive operations. The typed repositories below are written once
against those primitives, so the memory store and the SQLite store cannot
drift apart in behaviour; only in how they keep rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, Final, Generic, NamedTuple, Protocol, TypeVar

import attrs

from provisioning.exceptions import Conflict, NotFound
from provisioning.model import (
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
    StationPackage,
    SupportRelationship,
    SupportSession,
    SupportStatus,
    User,
    Username,
    skeleton,
)

__all__ = [
    "TABLES",
    "Backend",
    "Change",
    "Column",
    "Identified",
    "Key",
    "KeyIndex",
    "Repositories",
    "RowByRow",
    "Select",
    "Table",
    "TableChanges",
    "Versioned",
    "reindex",
]


class Identified(Protocol):
    """Anything with an id."""

    @property
    def id(self) -> str: ...


class Versioned(Identified, Protocol):
    """An entity: an id and a version for optimistic concurrency."""

    @property
    def version(self) -> int: ...


_T = TypeVar("_T", bound=Identified)
_E = TypeVar("_E", bound=Versioned)


@attrs.frozen
class Key:
    """A family of look-up values of a table.

    `values` returns the values one entity holds (none, one or many). A unique
    key has a `code`: the conflict code raised when a value is already held.
    `owner`, for a key whose values name a row of `owner_table` (through a
    foreign key), gives that row's id: a value whose owner the batch being
    planned inserted, and the store did not hold, is held by no stored row,
    so the overlay does not ask the store for it.
    """

    namespace: str
    values: Callable[[Any], Sequence[str]]
    code: str | None = None
    owner: Callable[[str], str] | None = None
    owner_table: str = ""

    @property
    def unique(self) -> bool:
        """Whether a value of this key may belong to one entity only."""
        return self.code is not None


@attrs.frozen
class Column:
    """A value of each entity that queries filter and sort on.

    The SQLite store keeps it as a real, indexable column; the memory store
    computes it when asked. `index` names the key whose look-up narrows an
    equality filter on this column, for the stores that have no column index.
    """

    name: str
    value: Callable[[Any], str | None]
    index: str | None = None


@attrs.frozen
class Select:
    """One page of a query over a table's columns.

    Rows match when every `equals` pair holds and, if `text` is given, when
    `text` occurs in one of `text_columns` or equals the id (case-insensitive;
    columns hold folded text). Rows are ordered by `order_by`, then by id;
    with `order_by` None, in the order they were inserted. `after` is a
    keyset cursor: the (order value, id) of the last row of the previous
    page, so a page is found through the index instead of by counting rows.
    """

    order_by: str | None
    equals: tuple[tuple[str, str], ...] = ()
    text: str | None = None
    text_columns: tuple[str, ...] = ()
    descending: bool = False
    offset: int = 0
    limit: int | None = None
    after: tuple[str, str] | None = None


@attrs.frozen
class Table(Generic[_T]):
    """The storage description of one aggregate."""

    name: str
    entity: type[_T]
    label: str
    keys: tuple[Key, ...] = ()
    columns: tuple[Column, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()

    def column(self, name: str) -> Column:
        """The column called `name`."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def key(self, namespace: str) -> Key:
        """The key called `namespace`."""
        for key in self.keys:
            if key.namespace == namespace:
                return key
        raise KeyError(namespace)


class Backend(Protocol[_T]):
    """The primitive operations a store provides for one table, inside its transaction.

    `insert` and `replace` maintain every key of the table and raise `Conflict`
    with the key's code when a unique value is held by another entity; they
    change nothing when they raise.
    """

    table: Table[_T]

    def fetch(self, entity_id: str, /) -> _T | None: ...

    def fetch_many(self, entity_ids: Sequence[str], /) -> dict[str, _T]: ...

    def insert(self, entity: _T, /) -> None: ...

    def replace(self, old: _T, new: _T, /) -> None: ...

    def delete(self, entity: _T, /) -> None: ...

    def lookup(self, namespace: str, values: Sequence[str], /) -> dict[str, list[str]]:
        """For each of `values` held under `namespace`: the ids holding it (absent: none)."""
        ...

    def ids(self) -> list[str]:
        """Every id of the table, in the order the entities were inserted."""
        ...

    def select(self, query: Select, /) -> tuple[list[str], int]:
        """The ids of one page of matching rows, and how many rows match in all."""
        ...

    def size(self) -> int: ...

    def insert_many(self, entities: Sequence[_T], /) -> None:
        """`insert` each entity, in sets where the store can."""
        ...

    def replace_many(self, pairs: Sequence[tuple[_T, _T]], /) -> None:
        """`replace` each (old, new) pair, in sets where the store can."""
        ...

    def delete_many(self, entities: Sequence[_T], /) -> None:
        """`delete` each entity, in sets where the store can."""
        ...


class RowByRow:
    """The `*_many` writes of a backend, as one `insert`, `replace` or `delete` per row.

    For backends where a set costs what its rows cost (memory, an overlay).
    """

    def insert(self, entity: Any, /) -> None:  # noqa: ANN401 - a row of the backend's table
        raise NotImplementedError

    def replace(self, old: Any, new: Any, /) -> None:  # noqa: ANN401
        raise NotImplementedError

    def delete(self, entity: Any, /) -> None:  # noqa: ANN401
        raise NotImplementedError

    def insert_many(self, entities: Sequence[Any], /) -> None:
        """`insert` each entity."""
        for entity in entities:
            self.insert(entity)

    def replace_many(self, pairs: Sequence[tuple[Any, Any]], /) -> None:
        """`replace` each (old, new) pair."""
        for old, new in pairs:
            self.replace(old, new)

    def delete_many(self, entities: Sequence[Any], /) -> None:
        """`delete` each entity."""
        for entity in entities:
            self.delete(entity)


KeyIndex = dict[str, dict[str, dict[str, None]]]
"""namespace -> value -> the ids holding it (a dict used as an insertion-ordered set)."""


def reindex(
    index: KeyIndex,
    table: Table[Any],
    entity_id: str,
    old: Any,  # noqa: ANN401 - a row of the table, or None
    new: Any,  # noqa: ANN401
    *,
    only: Collection[str] | None = None,
) -> None:
    """Move the row `entity_id` in `index` from the key values of `old` to those of `new`.

    Either may be None (an insert, a delete); `only` limits the namespaces
    kept. Used by the stores that keep their look-up keys in memory: the
    memory store and a batch's overlay.
    """
    keys = table.keys if only is None else [k for k in table.keys if k.namespace in only]
    if old is not None:
        for key in keys:
            values = index.setdefault(key.namespace, {})
            for value in key.values(old):
                holders = values.get(value)
                if holders is not None:
                    holders.pop(entity_id, None)
                    if not holders:
                        del values[value]
    if new is not None:
        for key in keys:
            values = index.setdefault(key.namespace, {})
            for value in key.values(new):
                values.setdefault(value, {})[entity_id] = None


def _fold(text: str) -> str:
    return text.casefold()


def _scoped(scope: str | None, name: str) -> str:
    # Ids hold no '/' and names none either, so the key reads well and is unambiguous.
    return f"{scope or '*'}/{_fold(name)}"


def _one(value: str | None) -> Sequence[str]:
    return () if value is None else (value,)


def _account_keys() -> tuple[Key, ...]:
    def name(e: Account) -> Sequence[str]:
        return (_fold(e.name),)

    def parent(e: Account) -> Sequence[str]:
        return _one(e.parent_id)

    return (Key("account.name", name, "account.name_taken"), Key("account.parent", parent))


def _domain_keys() -> tuple[Key, ...]:
    def name(e: Domain) -> Sequence[str]:
        return (e.name.ascii,)

    def name_skeleton(e: Domain) -> Sequence[str]:
        return (skeleton(e.name.unicode),)

    def account(e: Domain) -> Sequence[str]:
        return (e.account_id,)

    def cos(e: Domain) -> Sequence[str]:
        return _one(e.default_cos_id)

    return (
        Key("domain.name", name, "domain.taken"),
        Key("domain.skeleton", name_skeleton),
        Key("domain.account", account),
        Key("domain.cos", cos),
    )


def _cos_keys() -> tuple[Key, ...]:
    def name(e: ClassOfService) -> Sequence[str]:
        return (_scoped(e.account_id, e.name),)

    def account(e: ClassOfService) -> Sequence[str]:
        return (e.account_id or "*",)

    return (Key("cos.name", name, "cos.name_taken"), Key("cos.account", account))


def _user_keys() -> tuple[Key, ...]:
    def addresses(e: User) -> Sequence[str]:
        return e.addresses

    def domain(e: User) -> Sequence[str]:
        return _one(e.domain_id)

    def account(e: User) -> Sequence[str]:
        return _one(e.account_id)

    def cos(e: User) -> Sequence[str]:
        return _one(e.cos_id)

    def domain_name(e: User) -> Sequence[str]:
        return (e.username.domain.ascii,)

    def alias_domains(e: User) -> Sequence[str]:
        return tuple(dict.fromkeys(alias.domain.ascii for alias in e.aliases))

    def skeletons(e: User) -> Sequence[str]:
        return tuple(dict.fromkeys(skeleton(address) for address in e.addresses))

    def default_mailbox(e: User) -> Sequence[str]:
        return _one(e.default_mailbox_id)

    return (
        Key("user.address", addresses, "address.taken"),
        Key("user.skeleton", skeletons),
        Key("user.domain", domain),
        Key("user.account", account),
        Key("user.cos", cos),
        Key("user.domain_name", domain_name),
        Key("user.alias_domain", alias_domains),
        Key("user.default_mailbox", default_mailbox, owner=_itself, owner_table="mailboxes"),
    )


def _role_keys() -> tuple[Key, ...]:
    def name(e: Role) -> Sequence[str]:
        return (_scoped(e.account_id, e.name),)

    def account(e: Role) -> Sequence[str]:
        return (e.account_id or "*",)

    return (Key("role.name", name, "role.name_taken"), Key("role.account", account))


def _grant_keys() -> tuple[Key, ...]:
    def scope(e: Grant) -> Sequence[str]:
        return (f"{e.user_id}/{e.account_id}/{e.mailbox_id or '*'}",)

    def user(e: Grant) -> Sequence[str]:
        return (e.user_id,)

    def account(e: Grant) -> Sequence[str]:
        return (e.account_id,)

    def mailbox(e: Grant) -> Sequence[str]:
        return _one(e.mailbox_id)

    return (
        Key("grant.scope", scope, "grant.exists", owner=_first_part, owner_table="users"),
        Key("grant.user", user, owner=_itself, owner_table="users"),
        Key("grant.account", account),
        Key("grant.mailbox", mailbox),
    )


def _mailbox_keys() -> tuple[Key, ...]:
    def address(e: Mailbox) -> Sequence[str]:
        return (e.address.key,)

    def account(e: Mailbox) -> Sequence[str]:
        return (e.account_id,)

    def owner(e: Mailbox) -> Sequence[str]:
        return _one(e.owner_id)

    def domain_name(e: Mailbox) -> Sequence[str]:
        return (e.address.domain.ascii,)

    def address_skeleton(e: Mailbox) -> Sequence[str]:
        return (skeleton(e.address.key),)

    return (
        Key("mailbox.address", address, "mailbox.address_taken"),
        Key("mailbox.skeleton", address_skeleton),
        Key("mailbox.account", account),
        Key("mailbox.owner", owner, owner=_itself, owner_table="users"),
        Key("mailbox.domain_name", domain_name),
    )


def _invitation_keys() -> tuple[Key, ...]:
    def token(e: Invitation) -> Sequence[str]:
        return (e.token_hash,)

    def email(e: Invitation) -> Sequence[str]:
        return (e.email.key,)

    def account(e: Invitation) -> Sequence[str]:
        return (e.account_id,)

    return (
        Key("invitation.token", token, "invitation.token_taken"),
        Key("invitation.email", email),
        Key("invitation.account", account),
    )


def _number_keys() -> tuple[Key, ...]:
    def number(e: DirectNumber) -> Sequence[str]:
        return (e.number.e164,)

    def account(e: DirectNumber) -> Sequence[str]:
        return (e.account_id,)

    def user(e: DirectNumber) -> Sequence[str]:
        return _one(e.user_id)

    return (
        Key("number.e164", number, "number.taken"),
        Key("number.account", account),
        Key("number.user", user, owner=_itself, owner_table="users"),
    )


def _station_keys() -> tuple[Key, ...]:
    def name(e: StationPackage) -> Sequence[str]:
        return (_scoped(e.account_id, e.name),)

    def account(e: StationPackage) -> Sequence[str]:
        return (e.account_id,)

    return (Key("station.name", name, "station.name_taken"), Key("station.account", account))


def _seat_keys() -> tuple[Key, ...]:
    def user(e: PhoneSeat) -> Sequence[str]:
        return (e.user_id,)

    def extension(e: PhoneSeat) -> Sequence[str]:
        return () if e.extension is None else (f"{e.account_id}/{e.extension}",)

    def account(e: PhoneSeat) -> Sequence[str]:
        return (e.account_id,)

    def station(e: PhoneSeat) -> Sequence[str]:
        return (e.station_id,)

    return (
        Key("seat.user", user, "seat.exists", owner=_itself, owner_table="users"),
        Key("seat.extension", extension, "extension.taken"),
        Key("seat.account", account),
        Key("seat.station", station),
    )


def _device_keys() -> tuple[Key, ...]:
    def mac(e: Device) -> Sequence[str]:
        return (e.mac.text,)

    def account(e: Device) -> Sequence[str]:
        return (e.account_id,)

    def user(e: Device) -> Sequence[str]:
        return _one(e.user_id)

    def primary(e: Device) -> Sequence[str]:
        return _one(e.user_id if e.primary else None)

    return (
        Key("device.mac", mac, "device.taken"),
        Key("device.account", account),
        Key("device.user", user, owner=_itself, owner_table="users"),
        Key("device.primary", primary, "device.primary_exists", owner=_itself, owner_table="users"),
    )


def _relationship_keys() -> tuple[Key, ...]:
    def parent(e: SupportRelationship) -> Sequence[str]:
        return (e.parent_id,)

    def customer(e: SupportRelationship) -> Sequence[str]:
        return (e.customer_id,)

    def pair(e: SupportRelationship) -> Sequence[str]:
        # One relationship between two accounts at a time; ended ones are history.
        live = e.status is not SupportStatus.ENDED
        return (f"{e.parent_id}/{e.customer_id}",) if live else ()

    return (
        Key("support.parent", parent),
        Key("support.customer", customer),
        Key("support.pair", pair, "support.relationship_exists"),
    )


def _session_keys() -> tuple[Key, ...]:
    def relationship(e: SupportSession) -> Sequence[str]:
        return (e.relationship_id,)

    def parent(e: SupportSession) -> Sequence[str]:
        return (e.parent_id,)

    def customer(e: SupportSession) -> Sequence[str]:
        return (e.customer_id,)

    return (
        Key("session.relationship", relationship),
        Key("session.parent", parent),
        Key("session.customer", customer),
    )


def _audit_keys() -> tuple[Key, ...]:
    def account(e: AuditEvent) -> Sequence[str]:
        return _one(e.account_id)

    def entity(e: AuditEvent) -> Sequence[str]:
        return (e.entity_id,)

    return (Key("audit.account", account), Key("audit.entity", entity))


def _itself(value: str) -> str:
    return value


def _first_part(value: str) -> str:
    return value.partition("/")[0]


def _fold_or_none(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def _user_columns() -> tuple[Column, ...]:
    return (
        Column("account_id", lambda u: u.account_id, index="user.account"),
        Column("domain_id", lambda u: u.domain_id, index="user.domain"),
        Column("username_key", lambda u: u.username.key),
        Column("username_text", lambda u: str(u.username).casefold()),
        Column(
            "full_name",
            lambda u: f"{u.profile.full_name}\x1f{u.profile.display_name}".casefold(),
        ),
        Column("directory", lambda u: _fold_or_none(u.directory_service)),
    )


@attrs.frozen
class _Tables:
    accounts: Table[Account] = Table("accounts", Account, "account", _account_keys())
    domains: Table[Domain] = Table("domains", Domain, "domain", _domain_keys())
    classes_of_service: Table[ClassOfService] = Table(
        "classes_of_service", ClassOfService, "cos", _cos_keys()
    )
    users: Table[User] = Table(
        "users",
        User,
        "user",
        _user_keys(),
        _user_columns(),
        indexes=(("account_id", "username_key"), ("domain_id", "username_key")),
    )
    roles: Table[Role] = Table("roles", Role, "role", _role_keys())
    grants: Table[Grant] = Table("grants", Grant, "grant", _grant_keys())
    mailboxes: Table[Mailbox] = Table("mailboxes", Mailbox, "mailbox", _mailbox_keys())
    invitations: Table[Invitation] = Table(
        "invitations", Invitation, "invitation", _invitation_keys()
    )
    numbers: Table[DirectNumber] = Table("direct_numbers", DirectNumber, "number", _number_keys())
    stations: Table[StationPackage] = Table(
        "station_packages", StationPackage, "station", _station_keys()
    )
    seats: Table[PhoneSeat] = Table("phone_seats", PhoneSeat, "seat", _seat_keys())
    devices: Table[Device] = Table("devices", Device, "device", _device_keys())
    relationships: Table[SupportRelationship] = Table(
        "support_relationships", SupportRelationship, "support relationship", _relationship_keys()
    )
    sessions: Table[SupportSession] = Table(
        "support_sessions", SupportSession, "support session", _session_keys()
    )
    audit: Table[AuditEvent] = Table(
        "audit_events",
        AuditEvent,
        "audit_event",
        _audit_keys(),
        (
            Column("account_id", lambda e: e.account_id, index="audit.account"),
            Column("entity_id", lambda e: e.entity_id, index="audit.entity"),
        ),
    )

    def all(self) -> tuple[Table[Any], ...]:
        """Every table, in a stable order."""
        return tuple(getattr(self, f.name) for f in attrs.fields(type(self)))


TABLES: Final = _Tables()
"""The tables every store keeps."""


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


def _by_name(entity: Account | ClassOfService | Role) -> str:
    return entity.name.casefold()


class AccountRepo(_Repository[Account]):
    """Accounts over a backend."""

    def by_name(self, name: str, /) -> Account | None:
        return self._first("account.name", _fold(name))

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
        return self._first("cos.name", _scoped(account_id, name))

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
    ) -> tuple[list[User], int]:
        equals = tuple(
            (name, value)
            for name, value in (("account_id", account_id), ("domain_id", domain_id))
            if value is not None
        )
        query = Select(
            order_by="username_key",
            equals=equals,
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

    def by_name(self, account_id: str | None, name: str, /) -> Role | None:
        return self._first("role.name", _scoped(account_id, name))

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
        return self._first("station.name", _scoped(account_id, name))

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
        equals = tuple(
            (name, value)
            for name, value in (("account_id", account_id), ("entity_id", entity_id))
            if value is not None
        )
        query = Select(
            order_by=None, equals=equals, descending=newest_first, offset=offset, limit=limit
        )
        ids, _ = self._rows.select(query)
        found = self._rows.fetch_many(ids)
        return [found[event_id] for event_id in ids]

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


class Repositories:
    """The repositories of one unit of work, each over a backend the store supplies.

    Both stores' units of work derive from this, so they expose exactly the
    same repositories, built the same way.
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
    audit: AuditRepo

    _backends: dict[str, Backend[Any]]

    def change_count(self) -> int:
        """How many units of work have committed changes to the store so far."""
        raise NotImplementedError

    def backend(self, table: Table[Any]) -> Backend[Any]:
        """The backend this unit of work keeps `table` in."""
        return self._backends[table.name]

    def write(self, changes: Iterable[TableChanges]) -> None:
        """Write a planned batch's changes in sets.

        Every delete comes first, children before parents; then replacements
        and inserts, parents before children.

        Each `old` must be the row as this unit of work sees it (the batch was
        planned against it, or against a snapshot that has not changed since).
        A unique value taken meanwhile is refused with `Conflict` and its code;
        the caller rolls the unit of work back.
        """
        changes = [c for c in changes if c.rows]
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
        self.audit = AuditRepo(backend(TABLES.audit))
