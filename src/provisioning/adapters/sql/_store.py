"""The SQL store: SQLite (embedded, the default) and PostgreSQL, on SQLAlchemy Core.

One `SqlStore` serves both databases; they differ only where a dialect must
(how a transaction begins, how a writer takes its turn, how errors read).

- A `unit_of_work()` is one write transaction on a connection of its own
  from the engine's pool. Writers take turns on the database itself:
  SQLite's `BEGIN IMMEDIATE`, PostgreSQL's lock on the store's change
  counter, taken as the transaction begins. No lock of this process stands
  between workers, so several processes (or machines, on PostgreSQL) share
  one database safely.
- A `snapshot()` is a read transaction (SQLite: deferred, in WAL mode;
  PostgreSQL: `REPEATABLE READ READ ONLY`): one consistent state, never
  waiting for a writer and never holding one up.
- Unique constraints and row versions decide between writers: a value
  taken meanwhile is a `Conflict` with the key's code, a stale row
  `version.stale`. Every other database error is a `StoreError` with a stable
  code and the driver's error chained; a connection that fails to roll back
  is discarded, never handed out again.
- Opening a store runs the Alembic migrations up to the head revision (or,
  with `upgrade=False`, refuses an older database); a newer one is refused.
"""

from __future__ import annotations

import functools
import itertools
import logging
import operator
import re
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Generic, NamedTuple, ParamSpec, Self, TypeVar, cast

import attrs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from provisioning.adapters._gate import Gate, closed_unit_of_work, read_only_unit_of_work
from provisioning.adapters.sql import _outbox as outbox
from provisioning.adapters.sql import migrations
from provisioning.adapters.sql.rows import RowMapping, Writer, mapping
from provisioning.adapters.sql.schema import (
    ADDRESS_KEYS,
    ADDRESSES,
    AUDIT_SEQUENCE,
    GUESSES,
    KEY_COLUMNS,
    META,
    SCOPES,
    SEARCH_TRIGGER,
    UtcDateTime,
    flat_columns,
    sql_table,
)
from provisioning.errors import Conflict, StoreError, UsageError, codes
from provisioning.model import (
    GUESS_SWEEP,
    GUESSES_KEPT,
    MailboxKind,
    Message,
    MessageStatus,
    QueuedMessage,
    SignInState,
    skeleton,
)
from provisioning.ports import GuessCount, Sealer
from provisioning.security.sealing import SEALED_PREFIX, SealingError
from provisioning.storage import PLATFORM, TABLES, Identified, Select, Table, UnitOfWork

__all__ = [
    "UNREADABLE_URL",
    "PostgresStore",
    "SqlStore",
    "SqlUnitOfWork",
    "SqliteStore",
    "redacted",
]

CODES: Final = codes(
    stale=(
        "reference.changed",
        "version.stale",
    ),
    unavailable=(
        "store.corrupt",
        "store.driver_missing",
        "store.full",
        "store.integrity",
        "store.key_missing",
        "store.secret_corrupt",
        "store.secret_unsealed",
        "store.unavailable",
    ),
    usage=(
        "store.nested_unit_of_work",
        "store.no_sealer",
        "store.read_only",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_E = TypeVar("_E", bound=Identified)
_P = ParamSpec("_P")
_T = TypeVar("_T")

logger = logging.getLogger("provisioning")

_ANALYZE_AFTER: Final = 1000  # rows inserted into a table before its statistics are refreshed
_SLICE: Final = 5000  # rows converted and sent to the driver at a time
_BULK: Final = 1000  # new users from which SQLite fills its search index after the rows
_BATCH: Final = 500  # values per `IN (...)`, well under every database's parameter limit
_CODES: Final[Mapping[str, str]] = {
    f"{table.name}.{KEY_COLUMNS[key.namespace].column}": key.code
    for table in TABLES.all()
    for key in table.keys
    if key.code is not None and key.namespace in KEY_COLUMNS
} | {"addresses.address": "address.taken"}


def _address_row(
    address: Any,  # noqa: ANN401 - an EmailAddress or a Username
    kind: str,
    *,
    user_id: str | None = None,
    mailbox_id: str | None = None,
) -> dict[str, Any]:
    return {
        "address": address.key,
        "user_id": user_id,
        "mailbox_id": mailbox_id,
        "kind": kind,
        "domain": address.domain.ascii,
        "skeleton": skeleton(address.key),
    }


def address_rows(table: Table[Any], entities: Sequence[Any]) -> list[dict[str, Any]]:
    """The rows of `addresses` that entities of `table` claim: usernames, aliases, shared mailboxes.

    A personal mailbox claims nothing: it lives at its owner's username.
    """
    if table is TABLES.users:
        rows = [_address_row(u.username, "username", user_id=u.id) for u in entities]
        rows += [_address_row(a, "alias", user_id=u.id) for u in entities for a in u.aliases]
        return rows
    if table is TABLES.mailboxes:
        return [
            _address_row(m.address, "mailbox", mailbox_id=m.id)
            for m in entities
            if m.kind is MailboxKind.SHARED
        ]
    return []


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


def translate(label: str, exc: BaseException) -> StoreError | Conflict:
    """The typed error for a database failure (the caller chains `exc`)."""
    orig = getattr(exc, "orig", exc)
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    state = getattr(orig, "sqlstate", None) or ""
    name = getattr(orig, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_CONSTRAINT") or state.startswith("23"):
        return _constraint(label, orig, text)
    if state in {"40001", "40P01"}:
        return StoreError(code="store.conflict", path=label, reason=text)
    if name == "SQLITE_FULL" or state in {"53100", "53200"} or "disk is full" in text:
        return StoreError(code="store.full", path=label, reason=text)
    if name in {"SQLITE_CORRUPT", "SQLITE_NOTADB"} or "not a database" in text:
        return StoreError(code="store.corrupt", path=label, reason=text)
    if name == "SQLITE_READONLY" or state == "25006":
        return StoreError(code="store.read_only", path=label, reason=text)
    return StoreError(code="store.unavailable", path=label, reason=text)


def _constraint(label: str, orig: BaseException, text: str) -> StoreError | Conflict:
    """A constraint failure as the conflict it is (a taken value), or a `store.integrity`."""
    if getattr(orig, "sqlstate", None) == "23503" or "FOREIGN KEY constraint failed" in text:
        # A row named by the change went meanwhile (or a row naming one the change removes
        # came): what the change was checked against is no longer so.
        return Conflict(code="reference.changed", entity="row", key="")
    where = _place(orig, text)
    table = where.partition(".")[0]
    if where == "addresses.address":
        return Conflict(code="address.taken", entity="user", key="")
    if where.endswith(".id"):
        return Conflict(code="id.taken", entity=table, key="")
    code = _CODES.get(where)
    if code is not None:
        return Conflict(code=code, entity=table, key="")
    return StoreError(code="store.integrity", path=label, reason=text)


def _place(orig: BaseException, text: str) -> str:
    """The `table.column` a unique constraint failure names ("" if none)."""
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    if "UNIQUE constraint failed:" in text:  # SQLite names the table and column
        return text.rpartition(":")[2].strip().split(",")[0]
    if constraint == "pk_addresses":  # the address namespace's primary key
        return "addresses.address"
    if constraint.startswith("pk_"):
        return f"{constraint[3:]}.id"
    for place in _CODES:
        table, _, column = place.partition(".")
        if constraint == f"uq_{table}_{column}":
            return place
    return ""


def _translated(method: Callable[_P, _T]) -> Callable[_P, _T]:
    """The method, with database errors turned into typed errors."""

    @functools.wraps(method)
    def translated(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(*args, **kwargs)
        except (sa.exc.DBAPIError, sa.exc.SQLAlchemyError) as exc:
            owner = args[0]
            label = owner.label if isinstance(owner, _SqlRows | SqlUnitOfWork | SqlStore) else ""
            raise translate(label, exc) from exc

    return translated


class _SqlRows(Generic[_E]):
    """One table of one unit of work, as SQL."""

    def __init__(
        self,
        table: Table[Any],
        uow: SqlUnitOfWork,
        rows: RowMapping,
        insert: Insert,
    ) -> None:
        self.table = table
        self._uow = uow
        self._rows = rows
        self._insert = insert
        self._sql = sql_table(table)
        self._select_row = sa.select(self._sql)
        self.label = uow.label

    def _read(self) -> Connection:
        return self._uow.connection()

    def _write(self) -> Connection:
        return self._uow.connection(write=True)

    @contextmanager
    def _atomic(self) -> Iterator[Connection]:
        """The connection, inside a savepoint: a refused write leaves no trace behind.

        A batch's `write` needs none: the engine writes it in a savepoint of
        its own, or gives the whole transaction up when it is refused.
        """
        sql = self._write()
        if self._uow.writing_batch:
            yield sql
            return
        with sql.begin_nested():
            yield sql

    def _entities(self, rows: Any) -> dict[str, _E]:  # noqa: ANN401 - a result
        build = self._rows.from_row
        return {row.id: build(row._mapping) for row in rows}  # noqa: SLF001 - SQLAlchemy's API

    @_translated
    def fetch(self, entity_id: str, /) -> _E | None:
        found = self._read().execute(self._select_row.where(self._sql.c.id == entity_id))
        return self._entities(found).get(entity_id)

    @_translated
    def fetch_many(self, entity_ids: Sequence[str], /) -> dict[str, _E]:
        found: dict[str, _E] = {}
        for chunk in _chunks(list(dict.fromkeys(entity_ids))):
            rows = self._read().execute(self._select_row.where(self._sql.c.id.in_(chunk)))
            found.update(self._entities(rows))
        return {i: found[i] for i in entity_ids if i in found}

    @_translated
    def insert(self, entity: _E, /) -> None:
        self.insert_many([entity])

    @_translated
    def replace(self, old: _E, new: _E, /) -> None:
        self.replace_many([(old, new)])

    @_translated
    def delete(self, entity: _E, /) -> None:
        self.delete_many([entity])

    @_translated
    def insert_many(self, entities: Sequence[_E], /) -> None:
        if not entities:
            return
        self._uow.touch_rows(self.table, entities)
        with self._atomic() as sql, self._search_filled_after(sql, len(entities)):
            postgresql = sql.dialect.name == "postgresql"
            numbers = itertools.repeat(0) if postgresql else self._numbers(sql, len(entities))
            statement, parameters = self._insert.statement, self._insert.parameters
            # In slices, so a 100,000-row import never holds all its rows as parameters at once.
            for start in range(0, len(entities), _SLICE):
                part = entities[start : start + _SLICE]
                if postgresql and len(part) >= _BULK:
                    _copy(sql, self._sql.name, self._insert, part, self._numbers(sql, len(part)))
                else:
                    sql.exec_driver_sql(
                        statement,
                        [parameters(entity, next(numbers)) for entity in part],
                    )
                self._write_addresses(sql, part)
        self._uow.inserted(self._sql.name, len(entities))

    @contextmanager
    def _search_filled_after(self, sql: Connection, count: int) -> Iterator[None]:
        """For many new users on SQLite: fill the search index once, after the rows.

        The index's trigger would add each row on its own. It is dropped for
        the insert and made again after it, inside the write transaction
        (SQLite's schema changes are transactional, and no other connection
        writes meanwhile), and the new rows go into the index in one
        statement.
        """
        if self.table is not TABLES.users or sql.dialect.name != "sqlite" or count < _BULK:
            yield
            return
        before = sql.exec_driver_sql("SELECT COALESCE(MAX(rowid), 0) FROM users").scalar_one()
        sql.exec_driver_sql("DROP TRIGGER users_search_insert")
        yield
        sql.exec_driver_sql(
            "INSERT INTO users_search (rowid, username_text, full_name, directory)"
            " SELECT rowid, username_text, full_name, directory FROM users WHERE rowid > ?",
            (before,),
        )
        sql.exec_driver_sql(SEARCH_TRIGGER)

    def _numbers(self, sql: Connection, count: int) -> Iterator[int]:
        """The audit log's next `count` sequence numbers (zeros for the other tables).

        PostgreSQL draws them from a sequence (its INSERT does so itself; a
        COPY draws them here), so writers in different tenants never wait for
        each other's; SQLite's writers take turns, and count on from the
        highest.
        """
        if self.table is not TABLES.audit:
            return itertools.repeat(0)
        if sql.dialect.name == "postgresql":
            drawn = sql.execute(
                sa.select(sa.func.nextval(AUDIT_SEQUENCE.name)).select_from(
                    sa.func.generate_series(1, count)
                )
            )
            return iter(drawn.scalars().all())
        highest = sql.execute(
            sa.select(sa.func.coalesce(sa.func.max(self._sql.c.seq), 0))
        ).scalar_one()
        return itertools.count(highest + 1)

    @_translated
    def replace_many(self, pairs: Sequence[tuple[_E, _E]], /) -> None:
        if not pairs:
            return
        self._uow.touch_rows(self.table, itertools.chain.from_iterable(pairs))
        with self._atomic() as sql:
            self._replace(sql, pairs)

    def _replace(self, sql: Connection, pairs: Sequence[tuple[_E, _E]]) -> None:
        table = self._sql
        rows = []
        for old, new in pairs:
            row = self._rows.to_row(new)
            row["old_id"], row["old_version"] = old.id, getattr(old, "version", None)
            rows.append(row)
        statement = (
            table.update()
            .where(table.c.id == sa.bindparam("old_id"))
            .where(table.c.version == sa.bindparam("old_version"))
            .values({name: sa.bindparam(name) for name in rows[0] if not name.startswith("old_")})
        )
        result = sql.execute(statement, rows)
        if 0 <= result.rowcount < len(rows):
            raise Conflict(code="version.stale", entity=self.table.label, key=pairs[0][0].id)
        holder = self._holder_column
        if holder is not None:
            ids = [new.id for _, new in pairs]
            for chunk in _chunks(ids):
                sql.execute(ADDRESSES.delete().where(holder.in_(chunk)))
            self._write_addresses(sql, [new for _, new in pairs])

    @_translated
    def delete_many(self, entities: Sequence[_E], /) -> None:
        if not entities:
            return
        self._uow.touch_rows(self.table, entities)
        ids = [entity.id for entity in entities]
        with self._atomic() as sql:
            for chunk in _chunks(ids):
                if self._holder_column is not None:
                    sql.execute(ADDRESSES.delete().where(self._holder_column.in_(chunk)))
                sql.execute(self._sql.delete().where(self._sql.c.id.in_(chunk)))

    @property
    def _holder_column(self) -> sa.Column[Any] | None:
        """The column of `addresses` naming this table's rows, for the tables that hold some."""
        if self.table is TABLES.users:
            return ADDRESSES.c.user_id
        if self.table is TABLES.mailboxes:
            return ADDRESSES.c.mailbox_id
        return None

    def _write_addresses(self, sql: Connection, entities: Sequence[Any]) -> None:
        """Claim the addresses the entities hold in the platform's one namespace."""
        rows = address_rows(self.table, entities)
        if rows:
            _bulk_insert(sql, ADDRESSES, rows)

    @_translated
    def lookup(self, namespace: str, values: Sequence[str], /) -> dict[str, list[str]]:
        if namespace in ADDRESS_KEYS:
            return self._lookup_addresses(namespace, values)
        place = KEY_COLUMNS[namespace]
        column = self._sql.c[place.column]
        found: dict[str, list[str]] = {}
        wanted = list(dict.fromkeys(values))
        if place.null is not None and place.null in wanted:
            wanted.remove(place.null)
            rows = self._read().execute(sa.select(self._sql.c.id).where(column.is_(None)))
            ids = [entity_id for (entity_id,) in rows]
            if ids:
                found[place.null] = ids
        for chunk in _chunks(wanted):
            rows = self._read().execute(
                sa.select(column, self._sql.c.id).where(column.in_(chunk)).order_by(self._sql.c.id)
            )
            for value, entity_id in rows:
                found.setdefault(value, []).append(entity_id)
        return found

    def _lookup_addresses(self, namespace: str, values: Sequence[str]) -> dict[str, list[str]]:
        by = {
            "user.address": ADDRESSES.c.address,
            "user.alias_domain": ADDRESSES.c.domain,
            "user.skeleton": ADDRESSES.c.skeleton,
        }[namespace]
        found: dict[str, list[str]] = {}
        for chunk in _chunks(list(dict.fromkeys(values))):
            query = (
                sa.select(by, ADDRESSES.c.user_id)
                .where(by.in_(chunk))
                .where(ADDRESSES.c.user_id.is_not(None))
            )
            if namespace == "user.alias_domain":
                query = query.where(ADDRESSES.c.kind == "alias")
            if namespace != "user.address":  # one user may hold several values of these
                query = query.distinct()
            for value, user_id in self._read().execute(query.order_by(ADDRESSES.c.user_id)):
                found.setdefault(value, []).append(user_id)
        return found

    @_translated
    def ids(self) -> list[str]:
        order = self._sql.c.seq if "seq" in self._sql.c else self._sql.c.id
        return list(self._read().scalars(sa.select(self._sql.c.id).order_by(order)))

    @_translated
    def size(self) -> int:
        return int(
            self._read().execute(sa.select(sa.func.count()).select_from(self._sql)).scalar_one()
        )

    def _contains(self, text: str, columns: Sequence[str]) -> sa.ColumnElement[bool]:
        """Rows where `text` occurs in one of `columns` (folded text), or whose id it is.

        SQLite: `id IN (... UNION ...)` over FTS5's trigram index (for the
        users), so the search starts from its own index rather than from
        the other conditions. PostgreSQL: the OR of the conditions, which
        its planner answers with one bitmap over the trigram indexes
        (measured: 50 ms against 79 ms for a term in 11,000 of 120,000
        users; the same for a rare one).
        """
        table = self._sql
        pattern = "%" + _escape_like(text) + "%"
        same_id = sa.func.lower(table.c.id) == text
        if self._uow.dialect == "postgresql":
            likes = [table.c[name].like(pattern, escape="\\") for name in columns]
            return sa.or_(*likes, same_id)
        if self.table is TABLES.users and len(text) >= _FTS_SHORTEST:
            # FTS5's trigram index finds substrings without reading every row.
            phrase = '"' + text.replace('"', '""') + '"'
            found = sa.text(
                "SELECT rowid FROM users_search WHERE users_search MATCH :phrase"
            ).bindparams(phrase=phrase)
            matching = [sa.select(table.c.id).where(sa.literal_column("users.rowid").in_(found))]
        else:
            matching = [
                sa.select(table.c.id).where(table.c[name].like(pattern, escape="\\"))
                for name in columns
            ]
        return table.c.id.in_(sa.union(*matching, sa.select(table.c.id).where(same_id)))

    @_translated
    def select(self, query: Select, /) -> tuple[list[str], int]:
        table = self._sql
        where: list[sa.ColumnElement[bool]] = [
            table.c[name] == value for name, value in query.equals
        ]
        if query.since is not None:
            name, value = query.since
            column = table.c[name]
            instant = isinstance(column.type, UtcDateTime)
            where.append(column > (datetime.fromisoformat(value) if instant else value))
        if query.text is not None:
            where.append(self._contains(query.text, query.text_columns))
        counted = sa.select(sa.func.count()).select_from(table).where(*where)
        total = self._read().execute(counted).scalar_one()
        if query.order_by is None:
            order = table.c.seq if "seq" in table.c else table.c.id
            keys = [order.desc() if query.descending else order.asc()]
        else:
            column = table.c[query.order_by]
            ordered = sa.func.coalesce(column, "") if column.nullable else column  # keeps the index
            if query.after is not None:
                value, last = query.after
                pair = sa.tuple_(ordered, table.c.id)
                bound = sa.tuple_(sa.literal(value), sa.literal(last))
                where.append(pair < bound if query.descending else pair > bound)
            if query.descending:
                keys = [ordered.desc(), table.c.id.desc()]
            else:
                keys = [ordered.asc(), table.c.id.asc()]
        statement = sa.select(table.c.id).where(*where).order_by(*keys).offset(query.offset)
        if query.limit is not None:
            statement = statement.limit(query.limit)
        return list(self._read().scalars(statement)), int(total)


_FTS_SHORTEST: Final = 3  # a trigram index answers texts of three characters or more


EntityParameters = Callable[[Any, int], Any]
"""An entity (and its audit sequence number, for the audit log) as the driver's parameters."""


class Insert(NamedTuple):
    """How to insert the entities of one table: by a statement, or by PostgreSQL's COPY."""

    statement: str
    parameters: EntityParameters
    columns: tuple[str, ...]
    values: Callable[[Any, int], tuple[Any, ...]]
    """An entity's values in the order of `columns` (for COPY)."""


def entity_insert(writers: Mapping[str, Writer], table: sa.Table, dialect: sa.Dialect) -> Insert:
    """The INSERT of `table` in `dialect`, and what turns an entity into its parameters at once.

    `writers` gives each column's value of an entity (a `RowMapping`'s, or
    a row's own item for rows given as mappings). SQLAlchemy compiles the
    statement and supplies each column type's conversion; each value is
    written and converted in one step, with no row mapping in between, so
    a bulk insert spends its time in the database. The audit log's `seq` is
    the one column no entity fills; the caller numbers its events.
    """
    drawn = "seq" in table.c and "seq" not in writers and dialect.supports_sequences
    if drawn:  # PostgreSQL numbers the audit log in the INSERT: nextval('audit_events_seq')
        keys = [column.name for column in table.columns if column.name != "seq"]
        compiled = table.insert().compile(dialect=dialect, column_keys=keys)
    else:
        compiled = table.insert().compile(dialect=dialect)
    names = list(compiled.positiontup or []) if compiled.positional else list(compiled.params)
    getters: list[Writer] = []
    numbered: int | None = None
    for place, name in enumerate(names):
        if name == "seq" and name not in writers:
            numbered = place
            continue
        column = table.c[name]
        write, convert = writers[name], _processor(column, dialect)
        if convert is not None and isinstance(column.type, UtcDateTime):
            convert = _last_of(convert)
        getters.append(write if convert is None else _converted(write, convert))

    def positional(entity: Any, seq: int) -> Any:  # noqa: ANN401 - the driver's parameters
        found = [get(entity) for get in getters]
        if numbered is not None:
            found.insert(numbered, seq)
        return tuple(found)

    columns, values = tuple(names), positional
    if drawn:  # COPY names every column: the numbers are drawn beforehand (`_numbers`)
        columns, values = (*names, "seq"), lambda entity, seq: (*positional(entity, seq), seq)
    if compiled.positional:
        return Insert(str(compiled), positional, columns, values)
    return Insert(
        str(compiled),
        lambda entity, seq: dict(zip(names, positional(entity, seq), strict=True)),
        columns,
        values,
    )


def _converted(write: Writer, convert: Callable[[Any], Any]) -> Writer:
    return lambda entity: convert(write(entity))


def _last_of(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert`, answering again at once for the very value it converted last.

    The rows of one batch share their instant (the batch's `now`), so a
    timestamp column converts one value for them all. Only the same object
    counts: two equal instants in different zones are converted each.
    """
    # One pair, replaced whole: threads sharing the store never see one value's result paired
    # with another value.
    last: list[tuple[Any, Any]] = [(object(), None)]

    def converted(value: Any) -> Any:  # noqa: ANN401 - a column value, and the driver's
        seen, result = last[0]
        if value is not seen:
            result = convert(value)
            last[0] = (value, result)
        return result

    return converted


def _processor(column: sa.Column[Any], dialect: sa.Dialect) -> Callable[[Any], Any] | None:
    """How `dialect` converts a value of `column` for its driver (None: as it is)."""
    processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).bind_processor(
        dialect
    )
    return processor


@functools.cache
def _insert_of(table: sa.Table, dialect: sa.Dialect) -> Insert:
    """The INSERT of every column of `table`, for rows given as mappings of every column."""
    writers = {column.name: operator.itemgetter(column.name) for column in table.columns}
    return entity_insert(writers, table, dialect)


def _bulk_insert(sql: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    insert = _insert_of(table, sql.dialect)
    if sql.dialect.name == "postgresql" and len(rows) >= _BULK:
        _copy(sql, table.name, insert, rows, itertools.repeat(0))
    else:
        sql.exec_driver_sql(insert.statement, [insert.parameters(row, 0) for row in rows])


def _copy(
    sql: Connection, table: str, insert: Insert, entities: Sequence[Any], numbers: Iterator[int]
) -> None:
    """PostgreSQL's `COPY ... FROM STDIN` of many rows: its fastest way in, in this transaction.

    The driver's own error (a unique value taken ...) is turned into the
    store's, as for a statement.
    """
    cursor = sql.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    columns = ", ".join(f'"{name}"' for name in insert.columns)
    values = insert.values
    try:
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for entity in entities:
                copy.write_row(values(entity, next(numbers)))
    except Exception as exc:
        if getattr(exc, "sqlstate", None) is None:
            raise
        raise translate(table, exc) from exc
    finally:
        cursor.close()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_MAPPINGS: Final[dict[str, RowMapping]] = {}


def _mapping(table: Table[Any]) -> RowMapping:
    found = _MAPPINGS.get(table.name)
    if found is None:
        found = _MAPPINGS[table.name] = mapping(table)
    return found


_UNSEALED_SAID = threading.Event()


def _warn_unsealed() -> None:
    if not _UNSEALED_SAID.is_set():
        _UNSEALED_SAID.set()
        logger.warning(
            "stored secrets are not sealed: give the SQL store a sealer"
            " (provisioning.security.AesGcmSealer) to seal TOTP secrets and password hashes",
            extra={"event": "store.unsealed"},
        )


@functools.cache
def _sealed_columns(table: Table[Any]) -> tuple[str, ...]:
    return tuple(flat.name for flat in flat_columns(table.entity) if flat.sealed)


def _seal_context(table: Table[Any], column: str, row_id: str) -> str:
    """What a sealed value is bound to: its column and its row."""
    return f"{table.name}.{column}:{row_id}"


def _sealing(
    table: Table[Any], rows: RowMapping, sealer: Sealer | None, label: str, *, strict: bool
) -> RowMapping:
    """`rows` with the table's sealed columns sealed on the way in and opened on the way out.

    Without a sealer, values go in as they are; a sealed value read back
    then is `store.key_missing`. A value stored before sealing was set up
    is read as it is, and sealed when next written (or by `reseal`), until
    the store is `strict`: sealed throughout, when a plain value in a
    sealed column can only have been written past the library, and is
    refused (`store.secret_unsealed`).
    """
    columns = _sealed_columns(table)
    if not columns:
        return rows
    from_row = rows.from_row

    def sealed(column: str, write: Writer) -> Writer:
        if sealer is None:
            return write

        def seal(entity: Any) -> Any:  # noqa: ANN401 - an entity in, a column value out
            value = write(entity)
            if value is None:
                return None
            return sealer.seal(value, context=_seal_context(table, column, entity.id))

        return seal

    def opened(row: Any) -> Any:  # noqa: ANN401 - a row mapping in, an entity out
        if strict:
            _refuse_plain(row, columns, label)
        return from_row(_opened(table, columns, sealer, label, row))

    writers = tuple(
        (name, sealed(name, write) if name in columns else write) for name, write in rows.writers
    )
    return attrs.evolve(rows, writers=writers, from_row=opened)


def _is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def _opened(
    table: Table[Any],
    columns: Sequence[str],
    sealer: Sealer | None,
    label: str,
    row: Any,  # noqa: ANN401 - a row mapping
) -> Any:  # noqa: ANN401 - a row mapping
    """The row with its sealed values opened (the row itself when none is sealed)."""
    if not any(_is_sealed(row[column]) for column in columns):
        return row
    plain = dict(row)
    for column in columns:
        if _is_sealed(plain[column]):
            context = _seal_context(table, column, row["id"])
            plain[column] = _unseal(sealer, plain[column], context, label)
    return plain


def _refuse_plain(row: Any, columns: Sequence[str], label: str) -> None:  # noqa: ANN401
    """Refuse a row of a store sealed throughout that holds a plain secret."""
    if any(row[column] is not None and not _is_sealed(row[column]) for column in columns):
        raise StoreError(
            code="store.secret_unsealed",
            path=label,
            reason="a secret in a sealed store is not sealed: it was written past the library",
        )


def _unseal(sealer: Sealer | None, value: str, context: str, label: str) -> str:
    if sealer is None:
        raise StoreError(
            code="store.key_missing",
            path=label,
            reason="the database holds sealed secrets: open it with the sealer that sealed them",
        )
    try:
        return sealer.unseal(value, context=context)
    except SealingError as failed:
        if failed.reason == "key_unknown":
            raise StoreError(
                code="store.key_missing",
                path=label,
                reason="a secret is sealed with a key the sealer does not have",
            ) from None
        raise StoreError(
            code="store.secret_corrupt",
            path=label,
            reason="a sealed secret does not open: it was altered or moved to another row",
        ) from None


class SqlStore:
    """A store in a SQL database: a SQLite file (or `":memory:"`) or a PostgreSQL server.

    Build one as `SqliteStore(path)` or `PostgresStore(url)`, or through
    `Context.open`. `upgrade=False` refuses a database whose schema is older
    than this library's instead of migrating it. With a `sealer`, stored
    secrets (TOTP secrets, password hashes) are sealed with the
    application's key; without one they are stored as they are, and the
    library says so once through `logging`.
    """

    def __init__(
        self, engine: Engine, *, label: str, upgrade: bool = True, sealer: Sealer | None = None
    ) -> None:
        self._engine = engine
        self._inherited_pool: object = None  # in a forked child: the parent's connections
        self.sealer = sealer
        self._mappings: dict[str, RowMapping] = {}
        self._inserts: dict[str, Insert] = {}
        if sealer is None:
            _warn_unsealed()
        self.label = label
        self.dialect = engine.dialect.name
        self._shared = self.dialect == "sqlite" and isinstance(engine.pool, StaticPool)
        self._gate = Gate()
        self._writing = threading.local()
        self._closed = False
        self._counts = itertools.count(1)  # guess counts made, for the sweeps of idle ones
        try:
            migrations.prepare(engine, label=label, upgrade=upgrade)
            self._sealed_throughout = self._sealed_state()
        except (sa.exc.DBAPIError, sa.exc.SQLAlchemyError) as exc:
            engine.dispose()
            raise translate(label, exc) from exc
        except BaseException:
            engine.dispose()
            raise

    def _sealed_state(self) -> bool:
        """Whether the store is sealed throughout; a sealed store without a sealer is refused."""
        if self.sealer is not None:
            return self._mark_sealed()
        if self._marked_sealed():
            raise StoreError(
                code="store.key_missing",
                path=self.label,
                reason="the store is sealed: open it with the sealer that sealed it",
            )
        return False

    def _mark_sealed(self, *, checked: bool = False) -> bool:
        """Whether every secret of the store is sealed, marking it so once it is.

        The mark (`sealed` in `provisioning_meta`) is set when the store
        holds no plain secret: a new store, or one `reseal` went through.
        From then on a plain value in a sealed column is refused. `checked`
        says the caller has just sealed every secret.
        """
        if self._marked_sealed():
            return True
        if not checked and self._holds_plain_secrets():
            return False
        with self._own_transaction(write=True) as sql:
            sql.execute(META.delete().where(META.c.key == "sealed"))
            sql.execute(META.insert().values(key="sealed", value=1))
        return True

    def _marked_sealed(self) -> bool:
        with self._own_transaction(write=False) as sql:
            found = sql.execute(sa.select(META.c.value).where(META.c.key == "sealed")).scalar()
        return found == 1

    def _holds_plain_secrets(self) -> bool:
        with self._own_transaction(write=False) as sql:
            for table in TABLES.all():
                target = sql_table(table)
                for column in _sealed_columns(table):
                    value = target.c[column]
                    plain = sa.and_(
                        value.is_not(None), ~value.startswith(SEALED_PREFIX, autoescape=True)
                    )
                    if sql.execute(sa.select(target.c.id).where(plain).limit(1)).first():
                        return True
        return False

    def unit_of_work(self) -> SqlUnitOfWork:
        """A new unit of work: one write transaction."""
        return SqlUnitOfWork(self)

    def row_mapping(self, table: Table[Any]) -> RowMapping:
        """How this store turns the table's entities into rows: sealing where it seals."""
        found = self._mappings.get(table.name)
        if found is None:
            found = _sealing(
                table, _mapping(table), self.sealer, self.label, strict=self._sealed_throughout
            )
            self._mappings[table.name] = found
        return found

    def entity_insert(self, table: Table[Any]) -> Insert:
        """The INSERT of the table's entities in this store's dialect, and their parameters."""
        found = self._inserts.get(table.name)
        if found is None:
            writers = dict(self.row_mapping(table).writers)
            found = entity_insert(writers, sql_table(table), self._engine.dialect)
            self._inserts[table.name] = found
        return found

    @_translated
    def reseal(self) -> int:
        """Seal every stored secret with the sealer's current key; how many rows changed.

        Run it after rotating the key (the old one among the sealer's
        `previous` keys), or after giving a store a sealer for the first time;
        the old key is no longer needed afterwards. One write transaction;
        the entities themselves do not change, so their versions stay.
        """
        if self.sealer is None:
            raise UsageError(code="store.no_sealer", reason="reseal needs a store with a sealer")
        current = f"{SEALED_PREFIX}{self.sealer.key_id}:"
        changed = 0
        with self.unit_of_work() as uow:
            sql = uow.connection(write=True)
            for table in TABLES.all():
                columns = _sealed_columns(table)
                if not columns:
                    continue
                target = sql_table(table)
                query = sa.select(target.c.id, *(target.c[c] for c in columns))
                for row in sql.execute(query).all():
                    values = {}
                    for column in columns:
                        value = row._mapping[column]  # noqa: SLF001 - SQLAlchemy's API
                        if value is None or value.startswith(current):
                            continue
                        context = _seal_context(table, column, row.id)
                        if _is_sealed(value):
                            value = _unseal(self.sealer, value, context, self.label)
                        values[column] = self.sealer.seal(value, context=context)
                    if values:
                        sql.execute(target.update().where(target.c.id == row.id).values(values))
                        changed += 1
            uow.commit()
        if not self._sealed_throughout:  # every secret is sealed now: plain ones are refused
            self._sealed_throughout = self._mark_sealed(checked=True)
            self._mappings.clear()
        return changed

    def snapshot(self) -> SqlUnitOfWork:
        """A unit of work for reading only: one read transaction that waits for no writer."""
        return SqlUnitOfWork(self, read_only=True)

    @_translated
    def count_guesses(self, keys: Collection[str], count: GuessCount, /, *, now: datetime) -> None:
        """Change the guess counters of `keys` in a write transaction of their own (see `Store`).

        The counters' rows are locked in key order (SQLite: the database's
        write lock), so counts of one name, from any process, take turns
        and two batches never wait for each other in a circle; nothing here
        touches the change counter, so no plan goes stale and no writer
        of another tenant waits.
        """
        ordered = sorted(set(keys))
        if not ordered:
            return
        with self._own_transaction(write=True) as sql:
            insert = self._upsert(GUESSES)
            placeholders = [{"key": key, "failures": 0} for key in ordered]
            sql.execute(insert.on_conflict_do_nothing(), placeholders)
            locked = (
                sa.select(GUESSES)
                .where(GUESSES.c.key.in_(ordered))
                .order_by(GUESSES.c.key)
                .with_for_update()
            )
            states = {row.key: _guess_state(row) for row in sql.execute(locked)}
            fresh = SignInState()
            for key in ordered:
                states.setdefault(key, fresh)
            changed = {**states, **count(states)}
            gone = [key for key, state in changed.items() if state == fresh]
            kept = [_guess_row(key, state) for key, state in changed.items() if state != fresh]
            if gone:
                sql.execute(GUESSES.delete().where(GUESSES.c.key.in_(gone)))
            if kept:
                upsert = self._upsert(GUESSES)
                sql.execute(
                    upsert.on_conflict_do_update(
                        index_elements=[GUESSES.c.key],
                        set_={
                            "failures": upsert.excluded.failures,
                            "last_failure_at": upsert.excluded.last_failure_at,
                            "locked_until": upsert.excluded.locked_until,
                        },
                    ),
                    kept,
                )
        if next(self._counts) % GUESS_SWEEP == 0:
            self._forget_idle_guesses(now)

    def _forget_idle_guesses(self, now: datetime) -> None:
        """Let go of counters idle for `GUESSES_KEPT` and not locked (`SignInState.idle`).

        A batch at a time, every `GUESS_SWEEP` counts, in a transaction of its
        own after the count: rows another count holds are skipped
        (PostgreSQL), never waited for. A failure is logged.
        """
        stale = sa.and_(
            sa.or_(GUESSES.c.locked_until.is_(None), GUESSES.c.locked_until <= now),
            sa.or_(
                GUESSES.c.last_failure_at.is_(None),
                GUESSES.c.last_failure_at < now - GUESSES_KEPT,
            ),
        )
        idle = sa.select(GUESSES.c.key).where(stale).limit(_IDLE_BATCH)
        if self.dialect == "postgresql":
            idle = idle.with_for_update(skip_locked=True)
        try:
            with self._own_transaction(write=True) as sql:
                sql.execute(GUESSES.delete().where(GUESSES.c.key.in_(idle.scalar_subquery())))
        except (sa.exc.DBAPIError, sa.exc.SQLAlchemyError, StoreError) as exc:
            logger.warning("could not let go of idle guess counters: %s", exc)

    @_translated
    def guess_states(self, keys: Collection[str], /) -> dict[str, SignInState]:
        """The guess counters of `keys` as committed (fresh for a key never counted)."""
        found: dict[str, SignInState] = dict.fromkeys(keys, SignInState())
        if not found:
            return found
        with self._own_transaction(write=False) as sql:
            query = sa.select(GUESSES).where(GUESSES.c.key.in_(sorted(found)))
            found.update((row.key, _guess_state(row)) for row in sql.execute(query))
        return found

    @_translated
    def claim_messages(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        ids: Collection[str] | None = None,
    ) -> list[QueuedMessage]:
        """Claim due messages of the outbox for delivery (see `Store`).

        On PostgreSQL a row another deliverer is claiming is skipped
        (`FOR UPDATE SKIP LOCKED`); SQLite's write lock makes claims take turns.
        """
        with self._own_transaction(write=True) as sql:
            return outbox.claim(
                sql,
                postgresql=self.dialect == "postgresql",
                now=now,
                limit=limit,
                lease=lease,
                ids=ids,
                unseal=lambda value, context: _unseal(self.sealer, value, context, self.label),
            )

    @_translated
    def settle_messages(
        self,
        delivered: Collection[str],
        failed: Mapping[str, tuple[str, datetime | None]],
        /,
        *,
        now: datetime,
    ) -> None:
        """Record how the delivery of claimed messages went (see `Store`)."""
        with self._own_transaction(write=True) as sql:
            outbox.settle(sql, delivered, failed, now)

    @_translated
    def requeue_messages(self, ids: Collection[str], /, *, now: datetime) -> int:
        """Put failed messages back in line (see `Store`)."""
        with self._own_transaction(write=True) as sql:
            return outbox.requeue(sql, ids, now)

    @_translated
    def queued_messages(
        self, *, status: MessageStatus | None, offset: int, limit: int
    ) -> tuple[list[QueuedMessage], int]:
        """One page of the outbox without secrets, and how many match (see `Store`)."""
        with self._own_transaction(write=False) as sql:
            return outbox.listed(sql, status, offset, limit)

    @contextmanager
    def _own_transaction(self, *, write: bool) -> Iterator[Connection]:
        """A transaction on a connection of its own, outside any unit of work.

        It commits on leaving; a `write` one begins as SQLite's `BEGIN IMMEDIATE`.
        """
        sql = self._connect(write=write)
        broken = True
        try:
            if self.dialect == "sqlite":
                sql = sql.execution_options(provisioning_write=write)
            with sql.begin():
                yield sql
            broken = False
        finally:
            self._release(sql, write=write, broken=broken)

    def _upsert(self, table: sa.Table) -> Any:  # noqa: ANN401 - each dialect's own Insert
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def forked_reads(self) -> AbstractContextManager[None] | None:
        """In a forked child: its own connections, closed on leaving; None for `":memory:"`.

        The parent's pooled connections are let go without being closed (they
        are the parent's); an in-memory database lives in one connection, which
        a child cannot share.
        """
        if self._shared:
            return None
        return self._child_reads()

    @contextmanager
    def _child_reads(self) -> Iterator[None]:
        # The parent's pooled connections stay referenced until the child leaves through
        # os._exit, so none is closed (nor a SQLite file's locks touched) from the child.
        self._inherited_pool = self._engine.pool
        self._engine.dispose(close=False)
        try:
            yield
        finally:
            self._engine.dispose()  # the child's own connections

    def close(self) -> None:
        """Close every pooled connection; the store is unusable afterwards."""
        self._engine.dispose()
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for reports and tools that read the tables with plain SQL."""
        return self._engine

    def _connect(self, *, write: bool) -> Connection:
        if self._closed:
            raise closed_unit_of_work()
        nested = getattr(self._writing, "active", False) or self._gate.held()
        if (write or self._shared) and nested:
            raise UsageError(
                code="store.nested_unit_of_work",
                reason="this thread already has a unit of work open on this store",
            )
        if self._shared:
            self._gate.acquire()
        try:
            connection = self._engine.connect()
        except BaseException:
            if self._shared:
                self._gate.release()
            raise
        if write:
            self._writing.active = True
        return connection

    def _release(self, connection: Connection, *, write: bool, broken: bool) -> None:
        if write:
            self._writing.active = False
        try:
            if broken:
                connection.invalidate()
            connection.close()
        finally:
            if self._shared:
                self._gate.release()


_IDLE_BATCH: Final = 1000  # idle guess counters let go of after one count, at most


def _guess_state(row: Any) -> SignInState:  # noqa: ANN401 - a row of `sign_in_guesses`
    return SignInState(
        failures=row.failures, last_failure_at=row.last_failure_at, locked_until=row.locked_until
    )


def _guess_row(key: str, state: SignInState) -> dict[str, Any]:
    return {
        "key": key,
        "failures": state.failures,
        "last_failure_at": state.last_failure_at,
        "locked_until": state.locked_until,
    }


UNREADABLE_URL: Final = "an unreadable store URL"
"""What `redacted` shows of a URL that does not parse."""


def redacted(where: str) -> str:
    """A store's file or URL as it may be shown: a URL without its password.

    A URL that does not parse is not shown at all: where its password ends
    cannot be told.
    """
    if "://" not in where:  # a file, or libpq's `host=... password=...`
        return _KEYWORD_SECRET.sub(lambda found: f"{found.group(1)}=***", where)
    try:
        url = sa.engine.make_url(where)
        query = {
            key: "***" if _SECRET_NAME.search(key) else value for key, value in url.query.items()
        }
        shown = url.set(query=query).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        return UNREADABLE_URL
    return shown.replace("%2A%2A%2A", "***")


_SECRET_NAME: Final = re.compile(r"pass|secret|token|key", re.IGNORECASE)
_KEYWORD_SECRET: Final = re.compile(
    r"\b(\w*(?:pass|secret|token|key)\w*)\s*=\s*(?:'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE
)


def _sqlite_transactions(engine: Engine, *, wal: bool, timeout: float) -> None:
    """Let the store say how each SQLite transaction begins (deferred or immediate)."""

    @event.listens_for(engine, "connect")
    def connect(dbapi: Any, record: Any) -> None:  # noqa: ANN401 - the driver's own objects
        del record
        dbapi.isolation_level = None  # the store emits BEGIN itself
        cursor = dbapi.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("provisioning_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class SqlUnitOfWork(UnitOfWork):
    """One transaction on a `SqlStore`; rolled back on exit unless committed."""

    def __init__(self, store: SqlStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._connection: Connection | None = None
        self._transaction: sa.RootTransaction | None = None
        self._inserted: dict[str, int] = {}
        self.label = store.label
        self.dialect = store.dialect
        self.writers_take_turns = store.dialect != "postgresql"
        self._moved: set[str] = set()  # scopes whose counters a claim moved already
        self._failed = False  # a commit failed: the connection is not to be trusted

        def rows(table: Table[Any]) -> _SqlRows[Any]:
            return _SqlRows(table, self, store.row_mapping(table), store.entity_insert(table))

        self._attach(rows)

    @_translated
    def connection(self, *, write: bool = False) -> Connection:
        """The open transaction's connection; refuses use outside the `with` block.

        A transaction begins on first use (again after a commit); `write`
        refuses a snapshot.
        """
        sql = self._connection
        if sql is None:
            raise closed_unit_of_work()
        if write and self._read_only:
            raise read_only_unit_of_work()
        if self._transaction is None or not self._transaction.is_active:
            self._begin(sql)
        return sql

    def _begin(self, sql: Connection) -> None:
        self._transaction = sql.begin()

    @_translated
    def enqueue(self, messages: Sequence[Message], /, *, now: datetime) -> tuple[Message, ...]:
        """Write `messages` into the outbox in this transaction, their secrets sealed."""
        if not messages:
            return ()
        sql = self.connection(write=True)
        return outbox.insert(sql, messages, now, self._store.sealer)

    @_translated
    def scope_counts(self, scopes: Collection[str], /) -> dict[str, int]:
        """How many committed writes have moved each of `scopes` (see `UnitOfWork`)."""
        sql = self.connection()
        found: dict[str, int] = {}
        for chunk in _chunks(sorted(scopes)):
            query = sa.select(SCOPES.c.scope, SCOPES.c.count).where(SCOPES.c.scope.in_(chunk))
            found.update(cast("list[tuple[str, int]]", sql.execute(query).all()))
        return found

    @_translated
    def claim_scopes(
        self, scopes: Collection[str], /, *, shared: Collection[str] = ()
    ) -> dict[str, int]:
        """Take this transaction's turn on `scopes`; their counts (see `UnitOfWork`).

        SQLite's writers take turns on the whole database: this counts.
        PostgreSQL locks the counter row of each scope, `PLATFORM` first
        (shared when it is in `shared`: most batches only read it), then the
        others in their order, so that no two writers wait for each other in
        a circle; the counters of the scopes written move in the same
        statement. The row of a scope never counted is made and locked after
        them, by an upsert; two writers doing so in opposite orders are a
        deadlock the database breaks, and the engine tries the loser again.
        """
        sql = self.connection(write=True)
        if self._store.dialect != "postgresql" or not scopes:
            return super().claim_scopes(scopes, shared=shared)
        wanted, shared = set(scopes), set(shared)
        written = wanted - shared
        found: dict[str, int] = {}
        if PLATFORM in wanted:
            found.update(self._lock(sql, [PLATFORM], written, share=PLATFORM in shared))
        for chunk in _chunks(sorted(wanted - {PLATFORM})):
            found.update(self._lock(sql, chunk, written, share=False))
        missing = sorted(wanted - set(found))
        for chunk in _chunks(missing):  # first used: made and locked now, after the others
            # (the platform's row included: a store emptied by hand may have lost it)
            insert = postgresql.insert(SCOPES).values(
                [{"scope": s, "count": int(s in written)} for s in chunk]
            )
            upsert = insert.on_conflict_do_update(
                index_elements=[SCOPES.c.scope],
                set_={"count": SCOPES.c.count + insert.excluded.count},
            )
            moved = _pairs(sql.execute(upsert.returning(SCOPES.c.scope, SCOPES.c.count)))
            found.update((scope, count - (scope in written)) for scope, count in moved.items())
        self._moved |= written
        return found

    @staticmethod
    def _lock(
        sql: Connection, scopes: Sequence[str], written: Collection[str], *, share: bool
    ) -> dict[str, int]:
        """Lock the rows of `scopes` in their order, moving those `written`; counts before."""
        rows = (
            sa.select(SCOPES.c.scope)
            .where(SCOPES.c.scope.in_(scopes))
            .order_by(SCOPES.c.scope)
            .with_for_update(read=share)
            .subquery()
        )
        moves = [scope for scope in scopes if scope in written]
        if not moves:
            query = sa.select(SCOPES.c.scope, SCOPES.c.count).where(SCOPES.c.scope.in_(scopes))
            return _pairs(sql.execute(query.with_for_update(read=share)))
        change = (
            SCOPES.update()
            .where(SCOPES.c.scope == rows.c.scope)
            .values(count=SCOPES.c.count + sa.case((SCOPES.c.scope.in_(moves), 1), else_=0))
            .returning(SCOPES.c.scope, SCOPES.c.count)
        )
        counted = _pairs(sql.execute(change))
        return {scope: count - (scope in written) for scope, count in counted.items()}

    @_translated
    def __enter__(self) -> Self:
        write = not self._read_only
        sql = self._store._connect(write=write)  # noqa: SLF001 - one adapter
        try:
            if self._store.dialect == "sqlite":
                sql = sql.execution_options(provisioning_write=write)
            elif self._read_only:
                sql = sql.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            self._connection = sql
            self.connection()
        except BaseException:
            self._connection = None
            self._store._release(sql, write=write, broken=True)  # noqa: SLF001
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        sql, self._connection = self._connection, None
        if sql is None:
            return
        # After a failure the connection's state is not to be trusted (a COMMIT that never
        # ran leaves SQLite inside its transaction): it is rolled back and then discarded,
        # never handed out again, so one failure cannot wedge the store.
        broken = exc_type is not None or self._failed
        try:
            if self._transaction is not None and self._transaction.is_active:
                self._transaction.rollback()
            elif broken:
                sql.rollback()
        except (sa.exc.DBAPIError, sa.exc.SQLAlchemyError):
            broken = True
        finally:
            self._transaction = None
            self._store._release(sql, write=not self._read_only, broken=broken)  # noqa: SLF001

    @_translated
    def commit(self) -> None:
        """Commit every change so far; the unit of work stays usable for more."""
        sql = self.connection()
        if self._touched - self._moved:
            self._count(sql, sorted(self._touched - self._moved))
        self._touched.clear()
        self._moved.clear()
        transaction = self._transaction
        assert transaction is not None  # noqa: S101 - connection() began one
        try:
            transaction.commit()
        except BaseException:
            self._failed = True  # SQLite may still be inside the transaction: discard it
            raise
        self._transaction = None
        self._refresh_statistics(sql)

    def _count(self, sql: Connection, scopes: Sequence[str]) -> None:
        """Move the counters of `scopes` by one (making the rows of scopes never counted)."""
        insert = (postgresql if self._store.dialect == "postgresql" else sqlite).insert(SCOPES)
        upsert = insert.values(scope=sa.bindparam("scope"), count=1).on_conflict_do_update(
            index_elements=[SCOPES.c.scope], set_={"count": SCOPES.c.count + 1}
        )
        for start in range(0, len(scopes), _SLICE):
            sql.execute(upsert, [{"scope": scope} for scope in scopes[start : start + _SLICE]])

    def inserted(self, table: str, count: int) -> None:
        """Note that `count` rows went into `table` (for the planner's statistics)."""
        self._inserted[table] = self._inserted.get(table, 0) + count

    def _refresh_statistics(self, sql: Connection) -> None:
        """After a large import, let the query planner know the tables' new sizes.

        Without fresh statistics both databases plan searches over the new
        rows badly (a scan of a whole account instead of a trigram look-up).
        The change is committed already: a failure here is only logged.
        """
        grown = sorted(name for name, count in self._inserted.items() if count >= _ANALYZE_AFTER)
        self._inserted.clear()
        for name in grown:
            try:
                with sql.begin():
                    sql.exec_driver_sql(f"ANALYZE {name}")
            except (sa.exc.DBAPIError, sa.exc.SQLAlchemyError) as exc:
                logger.warning("could not refresh the statistics of %s: %s", name, exc)

    @_translated
    def rollback(self) -> None:
        """Discard every change since the last commit."""
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
        self._transaction = None
        self._touched.clear()
        self._moved.clear()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo the block's changes if it raises, then let the exception propagate."""
        sql = self.connection()
        try:
            nested = sql.begin_nested()
        except (sa.exc.DBAPIError, sa.exc.SQLAlchemyError) as exc:
            raise translate(self.label, exc) from exc
        try:
            yield
        except BaseException:
            try:
                nested.rollback()
            except (sa.exc.DBAPIError, sa.exc.SQLAlchemyError) as exc:
                raise translate(self.label, exc) from exc
            raise
        try:
            nested.commit()
        except (sa.exc.DBAPIError, sa.exc.SQLAlchemyError) as exc:
            raise translate(self.label, exc) from exc


class SqliteStore(SqlStore):
    """A store in one SQLite file (or `":memory:"`), created and migrated on open.

    Units of work take connections of their own from a pool, so a thread may
    read a snapshot while another writes; other processes opening the same
    file wait for the write lock up to `timeout` seconds (then `StoreError`
    `store.unavailable`). An in-memory database lives in one connection, so
    its units of work take turns.

    Examples:
        >>> store = SqliteStore(":memory:")
        >>> with store.unit_of_work() as uow:
        ...     uow.users.count()
        0
        >>> store.close()
    """

    def __init__(
        self,
        path: str | Path,
        *,
        timeout: float = 30.0,
        upgrade: bool = True,
        sealer: Sealer | None = None,
    ) -> None:
        self.path = str(path)
        if self.path == ":memory:":
            engine = sa.create_engine(
                "sqlite://",
                poolclass=StaticPool,
                connect_args={"check_same_thread": False},
                hide_parameters=True,  # secrets never reach a log line or an error's text
            )
        else:
            engine = sa.create_engine(
                f"sqlite:///{self.path}",
                connect_args={"timeout": timeout, "check_same_thread": False},
                pool_size=8,
                max_overflow=56,
                hide_parameters=True,  # secrets never reach a log line or an error's text
            )
        _sqlite_transactions(engine, wal=self.path != ":memory:", timeout=timeout)
        super().__init__(engine, label=self.path, upgrade=upgrade, sealer=sealer)


class PostgresStore(SqlStore):
    """A store in a PostgreSQL database, through psycopg 3 (`provisioning[postgres]`).

    `url` is a `postgresql://user:password@host:port/database` URL (the
    password never shows in errors or reprs). Several processes and machines
    may share the database; writers take turns on the store's change counter
    for the few milliseconds a batch takes to write.
    """

    def __init__(
        self,
        url: str,
        *,
        upgrade: bool = True,
        pool_size: int = 5,
        sealer: Sealer | None = None,
    ) -> None:
        label = redacted(url)
        try:
            driver_url = sa.engine.make_url(url).set(drivername="postgresql+psycopg")
        except (sa.exc.ArgumentError, ValueError):
            raise StoreError(
                code="store.url_invalid",
                path=label,
                reason="not a postgresql://user:password@host:port/database URL",
            ) from None
        try:
            import psycopg  # noqa: F401, PLC0415 - the optional driver, imported on use
        except ImportError:
            raise StoreError(
                code="store.driver_missing",
                path=label,
                reason="install provisioning[postgres] to use PostgreSQL",
            ) from None
        engine = sa.create_engine(
            driver_url,
            pool_size=pool_size,
            max_overflow=2 * pool_size,
            pool_pre_ping=True,
            hide_parameters=True,  # secrets never reach a log line or an error's text
        )
        super().__init__(engine, label=label, upgrade=upgrade, sealer=sealer)


def _pairs(result: sa.Result[Any]) -> dict[str, int]:
    """A (scope, count) result as a mapping."""
    return dict(cast("list[tuple[str, int]]", result.all()))
