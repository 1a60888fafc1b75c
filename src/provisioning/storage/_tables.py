"""What both stores share: the table of each aggregate and the repositories over it.

A `Table` describes one aggregate: its entity class, the unique values each
entity holds (usernames and aliases share the `address` namespace, say) and the
non-unique keys it is looked up by. A store supplies a `Backend` per table: a
handful of primitive operations. The typed repositories below are written once
against those primitives, so the memory store and the SQLite store cannot
drift apart in behaviour; only in how they keep rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Generic, Protocol, TypeVar

import attrs

from provisioning.errors import codes
from provisioning.model import (
    Account,
    ApiClient,
    AuditEvent,
    ClassOfService,
    Device,
    DirectNumber,
    Domain,
    Grant,
    Invitation,
    Mailbox,
    PhoneSeat,
    Role,
    StationPackage,
    SupportRelationship,
    SupportSession,
    SupportStatus,
    User,
    skeleton,
)

__all__ = [
    "TABLES",
    "Backend",
    "Column",
    "Identified",
    "Key",
    "KeyIndex",
    "RowByRow",
    "Select",
    "Table",
    "Versioned",
    "external_key",
    "instant_text",
    "reindex",
]

CODES: Final = codes(
    conflict=(
        "device.primary_exists",
        "grant.exists",
        "invitation.token_taken",
        "seat.exists",
        "station.name_taken",
    ),
)
"""The codes only this module's unique keys raise (the rules declare the others they share)."""


class Identified(Protocol):
    """Anything with an id."""

    @property
    def id(self) -> str: ...


class Versioned(Identified, Protocol):
    """An entity: an id and a version for optimistic concurrency."""

    @property
    def version(self) -> int: ...


_T = TypeVar("_T", bound=Identified)


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
    A column of instants gives them in UTC as ISO 8601 text of one width, so
    that text compares as time does; a SQL store keeps the instant itself.
    """

    name: str
    value: Callable[[Any], str | None]
    index: str | None = None


@attrs.frozen
class Select:
    """One page of a query over a table's columns.

    Rows match when every `equals` pair holds, when the column `since` names
    holds a value after the one it gives (an instant, in ISO 8601 form: see
    `Column`), and, if `text` is given, when `text` occurs in one of
    `text_columns` or equals the id (case-insensitive; columns hold folded
    text). Rows are ordered by `order_by`, then by id;
    with `order_by` None, in the order they were inserted. `after` is a
    keyset cursor: the (order value, id) of the last row of the previous
    page, so a page is found through the index instead of by counting rows.
    """

    order_by: str | None
    equals: tuple[tuple[str, str], ...] = ()
    since: tuple[str, str] | None = None
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


def fold(text: str) -> str:
    return text.casefold()


def scoped(scope: str | None, name: str) -> str:
    # Ids hold no '/' and names none either, so the key reads well and is unambiguous.
    return f"{scope or '*'}/{fold(name)}"


def _one(value: str | None) -> Sequence[str]:
    return () if value is None else (value,)


def _account_keys() -> tuple[Key, ...]:
    def name(e: Account) -> Sequence[str]:
        return (fold(e.name),)

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
        return (scoped(e.account_id, e.name),)

    def account(e: ClassOfService) -> Sequence[str]:
        return (e.account_id or "*",)

    return (Key("cos.name", name, "cos.name_taken"), Key("cos.account", account))


def external_key(account_id: str, directory: str | None, external_id: str) -> str:
    """The key of an external id: unique in an account among one directory's users.

    The parts are joined by a character no text field may hold, so no two
    triples share a key; the external id is kept as it is (case-exact).
    """
    return f"{account_id}\x1f{directory or ''}\x1f{external_id}"


def _external(e: User | Role) -> Sequence[str]:
    """The external-id key of a user (of its directory) or a role (of none), if it has one."""
    if e.external_id is None or e.account_id is None:
        return ()
    directory = e.directory_service if isinstance(e, User) else None
    return (external_key(e.account_id, directory, e.external_id),)


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
        Key("user.external_id", _external, "user.external_id_taken"),
    )


def _role_keys() -> tuple[Key, ...]:
    def name(e: Role) -> Sequence[str]:
        return (scoped(e.account_id, e.name),)

    def account(e: Role) -> Sequence[str]:
        return (e.account_id or "*",)

    return (
        Key("role.name", name, "role.name_taken"),
        Key("role.account", account),
        Key("role.external_id", _external, "role.external_id_taken"),
    )


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
        return (scoped(e.account_id, e.name),)

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


def _client_keys() -> tuple[Key, ...]:
    def name(e: ApiClient) -> Sequence[str]:
        return (scoped(e.account_id, e.name),)

    def account(e: ApiClient) -> Sequence[str]:
        return (e.account_id,)

    return (Key("client.name", name, "client.name_taken"), Key("client.account", account))


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


def instant_text(when: datetime) -> str:
    """An instant as a `Column` of instants holds it: UTC, ISO 8601, microseconds, one width."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


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
        Column("status", lambda u: u.status.value),
        Column("updated_at", lambda u: instant_text(u.updated_at)),
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
    clients: Table[ApiClient] = Table("api_clients", ApiClient, "client", _client_keys())
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
