"""The relational schema of the SQL stores: one SQLAlchemy `MetaData`, built from the model.

Each aggregate has a table whose columns follow its entity's fields: nested
values (a user's profile, credentials and MFA state, an account's policies)
become prefixed columns (`profile_first_name`, `mfa_status` ...), sets and
lists become JSON arrays, enumerations become text with a CHECK constraint,
times are timestamps with a time zone. Besides the fields, each table keeps
the normalised look-up keys its repositories search by (`name_key`,
`address_key` ...) as indexed columns, unique where the model says a value
has one holder. Usernames, aliases and shared mailboxes share the
`addresses` table, whose primary key is the platform-wide address namespace.

Foreign keys are deferred to commit and never cascade, except a user's
addresses, which belong to it: the services remove what depends on an
entity before the entity itself (or refuse), and the database refuses
whatever would leave a reference dangling.

The Alembic migrations shipped in `provisioning.adapters.sql.migrations`
create exactly this schema; a test compares the two.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import attrs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Dialect

from provisioning.model import (
    SEALED,
    DomainName,
    EmailAddress,
    MacAddress,
    PhoneNumber,
    Username,
)
from provisioning.storage import TABLES, Table

__all__ = [
    "ADDRESSES",
    "AUDIT_SEQUENCE",
    "GUESSES",
    "KEY_COLUMNS",
    "META",
    "METADATA",
    "OUTBOX",
    "SCOPES",
    "SEARCH_DDL",
    "SEARCH_TRIGGER",
    "Flat",
    "flat_columns",
    "sql_table",
]

NAMING: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

METADATA: Final = sa.MetaData(naming_convention=NAMING)
"""The schema both SQL stores keep, and the target of the Alembic migrations."""


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC (SQLite keeps it as text, without a zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        del dialect
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        del dialect
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_TEXT_VALUES: Final = (DomainName, EmailAddress, Username, PhoneNumber, MacAddress)


@attrs.frozen
class Flat:
    """One column of an entity's table that holds one of its fields (perhaps nested).

    `path` is the field's place in the entity (`("profile", "first_name")`),
    `optional` the path of the nested value that may be None as a whole;
    `sealed` columns hold a secret a store with a `Sealer` keeps sealed.
    """

    name: str
    path: tuple[str, ...]
    kind: Any
    nullable: bool
    optional: tuple[str, ...] | None = None
    sealed: bool = False


def _members(kind: Any) -> tuple[Any, ...]:  # noqa: ANN401 - a type expression
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return typing.get_args(kind)
    return (kind,)


def flat_columns(entity: type) -> list[Flat]:
    """The columns of `entity`'s fields, nested attrs values flattened with a prefix."""
    return list(_flatten(entity, (), nullable=False, optional=None))


def _flatten(
    cls: type, prefix: tuple[str, ...], *, nullable: bool, optional: tuple[str, ...] | None
) -> typing.Iterator[Flat]:
    hints = typing.get_type_hints(cls)
    for field in attrs.fields(cls):
        kinds = _members(hints[field.name])
        may_be_none = type(None) in kinds
        (kind,) = [k for k in kinds if k is not type(None)]
        path = (*prefix, field.name)
        if attrs.has(kind) and kind not in _TEXT_VALUES:
            yield from _flatten(
                kind,
                path,
                nullable=nullable or may_be_none,
                optional=optional or (path if may_be_none else None),
            )
        else:
            sealed = bool(field.metadata.get(SEALED))
            yield Flat("_".join(path), path, kind, nullable or may_be_none, optional, sealed)


def _sql_type(table: str, flat: Flat) -> sa.types.TypeEngine[Any]:
    kind = flat.kind
    if typing.get_origin(kind) in (frozenset, tuple):
        return sa.JSON()
    if kind is bool:
        return sa.Boolean(create_constraint=True, name=flat.name)
    if kind is int:
        return sa.BigInteger()
    if kind is datetime:
        return UtcDateTime()
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return sa.Enum(
            kind,
            native_enum=False,
            create_constraint=True,
            length=16,
            name=flat.name,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        )
    if kind is str or kind in _TEXT_VALUES:
        return sa.Text()
    msg = f"no SQL type for {table}.{flat.name}: {kind!r}"
    raise TypeError(msg)


@attrs.frozen
class KeyColumn:
    """Where a look-up key of a table lives: a column, perhaps derived from the entity.

    `derived` columns exist only for the look-up (a folded name, an ASCII
    domain); the others are entity columns. For `null` keys the look-up value
    `*` stands for NULL (a platform-wide class of service or role). A derived
    column is `optional` for a key an entity may hold no value of (NULL).
    """

    column: str
    derived: bool = False
    null: str | None = None
    optional: bool = False
    indexed: bool = False
    """A unique key kept by a unique index (named `uq_<table>_<column>`) rather than a
    constraint: one a migration adds to a table SQLite already holds."""


KEY_COLUMNS: Final[Mapping[str, KeyColumn]] = {
    "account.name": KeyColumn("name_key", derived=True),
    "account.parent": KeyColumn("parent_id"),
    "domain.name": KeyColumn("name_ascii", derived=True),
    "domain.skeleton": KeyColumn("name_skeleton", derived=True),
    "domain.account": KeyColumn("account_id"),
    "domain.cos": KeyColumn("default_cos_id"),
    "cos.name": KeyColumn("name_key", derived=True),
    "cos.account": KeyColumn("account_id", null="*"),
    "user.domain": KeyColumn("domain_id"),
    "user.account": KeyColumn("account_id"),
    "user.cos": KeyColumn("cos_id"),
    "user.domain_name": KeyColumn("username_domain", derived=True),
    "user.default_mailbox": KeyColumn("default_mailbox_id"),
    "user.external_id": KeyColumn("external_key", derived=True, optional=True, indexed=True),
    "role.name": KeyColumn("name_key", derived=True),
    "role.account": KeyColumn("account_id", null="*"),
    "role.external_id": KeyColumn("external_key", derived=True, optional=True, indexed=True),
    "grant.scope": KeyColumn("scope_key", derived=True),
    "grant.user": KeyColumn("user_id"),
    "grant.account": KeyColumn("account_id"),
    "grant.mailbox": KeyColumn("mailbox_id"),
    "mailbox.address": KeyColumn("address_key", derived=True),
    "mailbox.skeleton": KeyColumn("address_skeleton", derived=True),
    "mailbox.account": KeyColumn("account_id"),
    "mailbox.owner": KeyColumn("owner_id"),
    "mailbox.domain_name": KeyColumn("address_domain", derived=True),
    "invitation.token": KeyColumn("token_hash"),
    "invitation.email": KeyColumn("email_key", derived=True),
    "invitation.account": KeyColumn("account_id"),
    "number.e164": KeyColumn("number"),
    "number.account": KeyColumn("account_id"),
    "number.user": KeyColumn("user_id"),
    "station.name": KeyColumn("name_key", derived=True),
    "station.account": KeyColumn("account_id"),
    "seat.user": KeyColumn("user_id"),
    "seat.extension": KeyColumn("extension_key", derived=True, optional=True),
    "seat.account": KeyColumn("account_id"),
    "seat.station": KeyColumn("station_id"),
    "device.mac": KeyColumn("mac"),
    "device.account": KeyColumn("account_id"),
    "device.user": KeyColumn("user_id"),
    "device.primary": KeyColumn("primary_of", derived=True, optional=True),
    "support.parent": KeyColumn("parent_id"),
    "support.customer": KeyColumn("customer_id"),
    "support.pair": KeyColumn("live_pair", derived=True, optional=True),
    "session.relationship": KeyColumn("relationship_id"),
    "session.parent": KeyColumn("parent_id"),
    "session.customer": KeyColumn("customer_id"),
    "client.name": KeyColumn("name_key", derived=True),
    "client.account": KeyColumn("account_id"),
    "audit.account": KeyColumn("account_id"),
    "audit.entity": KeyColumn("entity_id"),
}
"""The column each single-valued look-up key of the tables is kept in."""

ADDRESS_KEYS: Final = frozenset({"user.address", "user.alias_domain", "user.skeleton"})
"""The multi-valued user keys, answered by the `addresses` table."""

_REFERENCES: Final[Mapping[tuple[str, str], str]] = {
    ("accounts", "parent_id"): "accounts.id",
    ("accounts", "default_cos_id"): "classes_of_service.id",
    ("accounts", "admin_cos_id"): "classes_of_service.id",
    ("domains", "account_id"): "accounts.id",
    ("domains", "default_cos_id"): "classes_of_service.id",
    ("classes_of_service", "account_id"): "accounts.id",
    ("users", "account_id"): "accounts.id",
    ("users", "domain_id"): "domains.id",
    ("users", "cos_id"): "classes_of_service.id",
    ("users", "default_mailbox_id"): "mailboxes.id",
    ("roles", "account_id"): "accounts.id",
    ("grants", "user_id"): "users.id",
    ("grants", "account_id"): "accounts.id",
    ("grants", "mailbox_id"): "mailboxes.id",
    ("mailboxes", "account_id"): "accounts.id",
    ("mailboxes", "owner_id"): "users.id",
    ("invitations", "account_id"): "accounts.id",
    ("direct_numbers", "account_id"): "accounts.id",
    ("direct_numbers", "user_id"): "users.id",
    ("station_packages", "account_id"): "accounts.id",
    ("phone_seats", "account_id"): "accounts.id",
    ("phone_seats", "user_id"): "users.id",
    ("phone_seats", "station_id"): "station_packages.id",
    ("phone_seats", "number_id"): "direct_numbers.id",
    ("devices", "account_id"): "accounts.id",
    ("devices", "user_id"): "users.id",
    ("support_relationships", "parent_id"): "accounts.id",
    ("support_relationships", "customer_id"): "accounts.id",
    ("support_sessions", "relationship_id"): "support_relationships.id",
    ("support_sessions", "parent_id"): "accounts.id",
    ("support_sessions", "customer_id"): "accounts.id",
    ("api_clients", "account_id"): "accounts.id",
}

_EXTRA_INDEXES: Final[Mapping[str, tuple[tuple[str, ...], ...]]] = {
    "audit_events": (("account_id", "seq"), ("entity_id", "seq"), ("account_id", "occurred_at")),
}


_CYCLES: Final = frozenset(
    {
        ("accounts", "default_cos_id"),
        ("accounts", "admin_cos_id"),
        ("users", "default_mailbox_id"),
    }
)
"""References that close a cycle (an account names its classes of service, which name it;
a user names its default mailbox, whose owner may be that user).

PostgreSQL adds them after both tables exist; SQLite keeps them in the table.
"""


def _fk(table: str, column: str) -> list[sa.ForeignKey]:
    target = _REFERENCES.get((table, column))
    if target is None:
        return []
    cycle = (table, column) in _CYCLES
    return [
        sa.ForeignKey(
            target,
            deferrable=True,
            initially="DEFERRED",
            use_alter=cycle,
            name=f"fk_{table}_{column}" if cycle else None,
        )
    ]


def _build(table: Table[Any]) -> sa.Table:  # noqa: C901 - one step per kind of column
    flats = flat_columns(table.entity)
    columns: list[sa.Column[Any]] = []
    names: set[str] = set()
    for flat in flats:
        column: sa.Column[Any] = sa.Column(
            flat.name,
            _sql_type(table.name, flat),
            *_fk(table.name, flat.name),
            primary_key=flat.name == "id",
            nullable=flat.nullable and flat.name != "id",
        )
        columns.append(column)
        names.add(flat.name)
    indexes: list[sa.Index] = []
    unique: list[sa.UniqueConstraint] = []
    composite = (*table.indexes, *_EXTRA_INDEXES.get(table.name, ()))
    leading = {fields[0] for fields in composite}
    for key in table.keys:
        place = KEY_COLUMNS.get(key.namespace)
        if place is None:
            continue
        if place.derived and place.column not in names:
            columns.append(sa.Column(place.column, sa.Text(), nullable=place.optional))
            names.add(place.column)
        if key.unique and place.indexed:
            indexes.append(sa.Index(f"uq_{table.name}_{place.column}", place.column, unique=True))
        elif key.unique:
            unique.append(sa.UniqueConstraint(place.column))
        elif place.column not in leading:  # a composite index serves it otherwise
            indexes.append(sa.Index(None, place.column))
    for query in table.columns:
        if query.name not in names:
            columns.append(sa.Column(query.name, sa.Text(), nullable=query.name == "directory"))
            names.add(query.name)
    if table is TABLES.audit:  # the order events were recorded in
        columns.append(sa.Column("seq", sa.BigInteger(), AUDIT_SEQUENCE, nullable=False))
        unique.append(sa.UniqueConstraint("seq"))
    indexes.extend(sa.Index(None, *fields) for fields in composite)
    built = sa.Table(table.name, METADATA, *columns, *unique, *indexes)
    if table is TABLES.users:  # searches compare the id case-insensitively: through an index
        sa.Index(f"ix_{table.name}_id_folded", sa.func.lower(built.c.id))
    return built


def _holder(name: str, target: str) -> sa.Column[str]:
    """A column of `addresses` naming what holds the address; the address goes with it."""
    return sa.Column(
        name,
        sa.Text(),
        sa.ForeignKey(target, ondelete="CASCADE", deferrable=True, initially="DEFERRED"),
        nullable=True,
    )


AUDIT_SEQUENCE: Final = sa.Sequence("audit_events_seq", metadata=METADATA)
"""Where PostgreSQL draws the audit log's sequence numbers from, in the INSERT itself (SQLite,
which has no sequences, counts on from the highest)."""

_TABLES: Final[dict[str, sa.Table]] = {table.name: _build(table) for table in TABLES.all()}

ADDRESSES: Final = sa.Table(
    "addresses",
    METADATA,
    sa.Column("address", sa.Text(), primary_key=True),
    _holder("user_id", "users.id"),
    sa.Column(
        "kind",
        sa.Enum(
            "username", "alias", "mailbox", native_enum=False, create_constraint=True, name="kind"
        ),
        nullable=False,
    ),
    sa.Column("domain", sa.Text(), nullable=False),
    sa.Column("skeleton", sa.Text(), nullable=False),
    _holder("mailbox_id", "mailboxes.id"),
    sa.CheckConstraint("(user_id IS NULL) <> (mailbox_id IS NULL)", name="holder"),
    sa.Index(None, "user_id"),
    sa.Index(None, "domain", "kind"),
    sa.Index(None, "skeleton"),
    sa.Index(None, "mailbox_id"),
)
"""Every address held on the platform: one platform-wide namespace.

A user's username and aliases (`user_id`), and the address of each shared
mailbox (`mailbox_id`); a personal mailbox lives at its owner's username.
`skeleton` is the address's look-alike key (`provisioning.model.skeleton`).
"""

META: Final = sa.Table(
    "provisioning_meta",
    METADATA,
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("value", sa.BigInteger(), nullable=False),
)
"""Settings of the store (`sealed`: whether its secrets are sealed)."""

SCOPES: Final = sa.Table(
    "change_scopes",
    METADATA,
    sa.Column("scope", sa.Text(), primary_key=True),
    sa.Column("count", sa.BigInteger(), nullable=False),
)
"""How many committed writes have moved each change scope (`provisioning.storage._scopes`).

A writer locks the rows of the scopes its plan read and those it writes
(PostgreSQL), compares their counts with the plan's, and moves those it
writes. A scope never written has no row.
"""


GUESSES: Final = sa.Table(
    "sign_in_guesses",
    METADATA,
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("failures", sa.BigInteger(), nullable=False),
    sa.Column("last_failure_at", UtcDateTime(), nullable=True),
    sa.Column("locked_until", UtcDateTime(), nullable=True),
    sa.Index(None, "last_failure_at"),
)
"""The guess counters (`Store.count_guesses`): failed guesses at each name, by its digest.

A row is a name guessed at, known or not, and never the name itself:
`key` is a digest of it. No row means no failure on record.
"""


OUTBOX: Final = sa.Table(
    "outbox_messages",
    METADATA,
    sa.Column(
        "sequence",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("id", sa.Text(), nullable=False, unique=True),
    sa.Column("template", sa.Text(), nullable=False),
    sa.Column("channel", sa.Text(), nullable=False),
    sa.Column("recipient", sa.Text(), nullable=False),
    sa.Column("data", sa.Text(), nullable=False),
    sa.Column("secrets", sa.Text(), nullable=True),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("claimed_until", UtcDateTime(), nullable=True),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Column("failure", sa.Text(), nullable=True),
    sa.Index(None, "status", "sequence"),
    sa.Index(None, "channel", "recipient", "sequence"),
)
"""The outbox: every message a change made, written in the change's transaction.

`sequence` is the order they were written in; `data` and `secrets` are JSON
objects, `secrets` sealed with the store's sealer when it has one and gone
once the message is delivered. `claimed_until` is a deliverer's claim.
"""


def sql_table(table: Table[Any]) -> sa.Table:
    """The SQL table of one of the model's tables."""
    return _TABLES[table.name]


def derived_writers(table: Table[Any]) -> dict[str, Callable[[Any], Any]]:
    """Each of the table's derived key columns (and query columns): how an entity gives it."""
    writers: dict[str, Callable[[Any], Any]] = {}
    for key in table.keys:
        place = KEY_COLUMNS.get(key.namespace)
        if place is not None and place.derived:
            writers[place.column] = functools.partial(_first_value, key.values)
    entity_columns = {flat.name for flat in flat_columns(table.entity)}
    writers.update((c.name, c.value) for c in table.columns if c.name not in entity_columns)
    return writers


def _first_value(values: Callable[[Any], Sequence[Any]], entity: Any) -> Any:  # noqa: ANN401
    found = values(entity)
    return found[0] if found else None


SEARCH_TRIGGER: Final = (
    "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN"
    " INSERT INTO users_search (rowid, username_text, full_name, directory)"
    " VALUES (new.rowid, new.username_text, new.full_name, new.directory); END"
)
"""The trigger that adds each new user to SQLite's search index (a bulk insert fills it after)."""

SEARCH_DDL: Final[Mapping[str, tuple[str, ...]]] = {
    "sqlite": (
        (
            "CREATE VIRTUAL TABLE users_search USING fts5("
            "username_text, full_name, directory, content='users', content_rowid='rowid',"
            " tokenize='trigram')"
        ),
        SEARCH_TRIGGER,
        (
            "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN"
            " INSERT INTO users_search (users_search, rowid, username_text, full_name, directory)"
            " VALUES ('delete', old.rowid, old.username_text, old.full_name, old.directory); END"
        ),
        (
            "CREATE TRIGGER users_search_update AFTER UPDATE ON users BEGIN"
            " INSERT INTO users_search (users_search, rowid, username_text, full_name, directory)"
            " VALUES ('delete', old.rowid, old.username_text, old.full_name, old.directory);"
            " INSERT INTO users_search (rowid, username_text, full_name, directory)"
            " VALUES (new.rowid, new.username_text, new.full_name, new.directory); END"
        ),
        "INSERT INTO users_search (users_search) VALUES ('rebuild')",
    ),
    "postgresql": (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE INDEX ix_users_username_text_trgm ON users USING gin (username_text gin_trgm_ops)",
        "CREATE INDEX ix_users_full_name_trgm ON users USING gin (full_name gin_trgm_ops)",
        "CREATE INDEX ix_users_directory_trgm ON users USING gin (directory gin_trgm_ops)",
    ),
}
"""The search index of each database kind, which a new database gets with its tables."""


@event.listens_for(_TABLES["users"], "after_create")
def _search_index(target: sa.Table, connection: sa.Connection, **kw: Any) -> None:  # noqa: ANN401
    del target, kw
    for statement in SEARCH_DDL.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)
