"""The SQLite store: the embedded, persistent default.

One file holds everything. Each aggregate has a table of `(id, data)`
rows, `data` being the entity as JSON through the library's cattrs converter.
Look-up values live in two side tables: `unique_keys`, whose primary key makes
the database itself refuse a second holder of a username, alias or domain
name, and `index_keys` for the non-unique look-ups (users of a domain ...).

A unit of work is one `BEGIN IMMEDIATE` transaction: it takes the database's
write lock up front, so two units of work, in two threads or two processes,
never interleave their reads and writes. Files are opened in WAL mode so
readers in other processes are not blocked by a writer.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Generic, Self, TypeVar

import attrs

from provisioning._converter import storage
from provisioning.adapters._gate import Gate, closed_unit_of_work
from provisioning.adapters._tables import (
    TABLES,
    Identified,
    Repositories,
    Select,
    Table,
)
from provisioning.exceptions import Conflict, ProvisioningError

__all__ = ["SqliteStore", "SqliteUnitOfWork", "StoreError"]

_E = TypeVar("_E", bound=Identified)

SCHEMA_VERSION: Final = 1
_BATCH: Final = 500  # values per `IN (...)` look-up, well under SQLite's variable limit


class StoreError(ProvisioningError):
    """The database could not be used: locked for too long, unreadable, or of a newer schema.

    `code` is `store.unavailable`, `store.corrupt` or `store.schema_newer`.
    """

    def __init__(self, *, code: str, path: str, reason: str) -> None:
        super().__init__(f"{code}: {path}: {reason}", code=code, path=path, reason=reason)
        self.code = code
        self.path = path
        self.reason = reason


def _schema() -> str:
    statements = []
    for t in TABLES.all():
        columns = "".join(f", {c.name} TEXT" for c in t.columns)
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {t.name}"
            f" (id TEXT PRIMARY KEY, data TEXT NOT NULL{columns});"
        )
        statements.extend(
            f"CREATE INDEX IF NOT EXISTS {t.name}_{'_'.join(i)} ON {t.name} ({', '.join(i)});"
            for i in t.indexes
        )
    tables = "\n".join(statements)
    return f"""
{tables}
CREATE TABLE IF NOT EXISTS unique_keys (
    namespace TEXT NOT NULL,
    value TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (namespace, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unique_keys_owner ON unique_keys (owner, namespace);
CREATE TABLE IF NOT EXISTS index_keys (
    namespace TEXT NOT NULL,
    value TEXT NOT NULL,
    owner TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS index_keys_lookup ON index_keys (namespace, value);
CREATE INDEX IF NOT EXISTS index_keys_owner ON index_keys (owner, namespace);
"""


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


@attrs.define
class _SqlRows(Generic[_E]):
    """One table of one unit of work, as SQL."""

    table: Table[Any]
    _uow: SqliteUnitOfWork

    def _sql(self) -> sqlite3.Connection:
        return self._uow.connection()

    def _load(self, data: str) -> _E:
        entity: _E = storage.structure(json.loads(data), self.table.entity)
        return entity

    def fetch(self, entity_id: str, /) -> _E | None:
        row = (
            self._sql()
            .execute(f"SELECT data FROM {self.table.name} WHERE id = ?", (entity_id,))  # noqa: S608 - table names are ours
            .fetchone()
        )
        return None if row is None else self._load(row[0])

    def fetch_many(self, entity_ids: Sequence[str], /) -> dict[str, _E]:
        found: dict[str, _E] = {}
        for chunk in _chunks(entity_ids):
            marks = ",".join("?" * len(chunk))
            rows = self._sql().execute(
                f"SELECT id, data FROM {self.table.name} WHERE id IN ({marks})",  # noqa: S608
                tuple(chunk),
            )
            found.update((entity_id, self._load(data)) for entity_id, data in rows)
        return {i: found[i] for i in entity_ids if i in found}

    def insert(self, entity: _E, /) -> None:
        entity_id: str = entity.id
        self._check_unique(entity, entity_id, previous=None)
        names = "".join(f", {c.name}" for c in self.table.columns)
        marks = ", ?" * len(self.table.columns)
        self._sql().execute(
            f"INSERT INTO {self.table.name} (id, data{names}) VALUES (?, ?{marks})",  # noqa: S608
            (entity_id, self._dump(entity), *self._columns(entity)),
        )
        self._write_keys(entity_id, previous=None, entity=entity)

    def replace(self, old: _E, new: _E, /) -> None:
        entity_id: str = new.id
        self._check_unique(new, entity_id, previous=old)
        sets = "".join(f", {c.name} = ?" for c in self.table.columns)
        self._sql().execute(
            f"UPDATE {self.table.name} SET data = ?{sets} WHERE id = ?",  # noqa: S608
            (self._dump(new), *self._columns(new), entity_id),
        )
        self._write_keys(entity_id, previous=old, entity=new)

    def delete(self, entity: _E, /) -> None:
        entity_id: str = entity.id
        self._sql().execute(f"DELETE FROM {self.table.name} WHERE id = ?", (entity_id,))  # noqa: S608
        self._write_keys(entity_id, previous=entity, entity=None)

    def lookup(self, namespace: str, values: Sequence[str], /) -> dict[str, list[str]]:
        key = self.table.key(namespace)
        side = "unique_keys" if key.unique else "index_keys"
        order = "" if key.unique else " ORDER BY rowid"
        found: dict[str, list[str]] = {}
        for chunk in _chunks(list(dict.fromkeys(values))):
            marks = ",".join("?" * len(chunk))
            rows = self._sql().execute(
                f"SELECT value, owner FROM {side} "  # noqa: S608
                f"WHERE namespace = ? AND value IN ({marks}){order}",
                (namespace, *chunk),
            )
            for value, owner in rows:
                found.setdefault(value, []).append(owner)
        return found

    def ids(self) -> list[str]:
        rows = self._sql().execute(f"SELECT id FROM {self.table.name} ORDER BY rowid")  # noqa: S608
        return [entity_id for (entity_id,) in rows]

    def size(self) -> int:
        (count,) = self._sql().execute(f"SELECT count(*) FROM {self.table.name}").fetchone()  # noqa: S608
        return int(count)

    def select(self, query: Select, /) -> tuple[list[str], int]:
        where, params = ["1 = 1"], []
        for name, value in query.equals:
            where.append(f"{self.table.column(name).name} = ?")
            params.append(value)
        if query.text is not None:
            tests = [f"instr({self.table.column(c).name}, ?) > 0" for c in query.text_columns]
            where.append(f"({' OR '.join([*tests, 'id = ? COLLATE NOCASE'])})")
            params.extend([query.text] * len(tests) + [query.text])
        clause = " AND ".join(where)
        direction = "DESC" if query.descending else "ASC"
        order = self.table.column(query.order_by).name
        page = f" ORDER BY {order} {direction}, id {direction} LIMIT ? OFFSET ?"
        bounds = (-1 if query.limit is None else query.limit, query.offset)
        if query.text is not None:
            # A text search scans the rows anyway: count them in the same pass.
            rows = (
                self._sql()
                .execute(
                    f"SELECT id, count(*) OVER () FROM {self.table.name} WHERE {clause}{page}",  # noqa: S608
                    (*params, *bounds),
                )
                .fetchall()
            )
            if rows or query.offset == 0:
                return [entity_id for entity_id, _ in rows], int(rows[0][1]) if rows else 0
        # Otherwise the indexes answer both the count and the ordered page.
        (total,) = (
            self._sql()
            .execute(f"SELECT count(*) FROM {self.table.name} WHERE {clause}", params)  # noqa: S608
            .fetchone()
        )
        rows = (
            self._sql()
            .execute(
                f"SELECT id FROM {self.table.name} WHERE {clause}{page}",  # noqa: S608
                (*params, *bounds),
            )
            .fetchall()
        )
        return [entity_id for (entity_id,) in rows], int(total)

    def _columns(self, entity: _E) -> list[str | None]:
        return [column.value(entity) for column in self.table.columns]

    def _dump(self, entity: _E) -> str:
        return json.dumps(storage.unstructure(entity), ensure_ascii=False, separators=(",", ":"))

    def _check_unique(self, entity: _E, entity_id: str, previous: _E | None) -> None:
        # Checked before anything is written, so a refused write changes nothing.
        for key in self.table.keys:
            if key.code is None:
                continue
            values = set(key.values(entity))
            if previous is not None:
                values -= set(key.values(previous))
            if not values:
                continue
            holders = self.lookup(key.namespace, sorted(values))
            for value, owners in sorted(holders.items()):
                if any(owner != entity_id for owner in owners):
                    raise Conflict(code=key.code, entity=self.table.label, key=value)

    def _write_keys(self, entity_id: str, *, previous: _E | None, entity: _E | None) -> None:
        sql = self._sql()
        for key in self.table.keys:
            side = "unique_keys" if key.unique else "index_keys"
            old = set() if previous is None else set(key.values(previous))
            new_values = () if entity is None else key.values(entity)
            gone = sorted(old - set(new_values))
            if gone:
                sql.executemany(
                    f"DELETE FROM {side} WHERE namespace = ? AND value = ? AND owner = ?",  # noqa: S608
                    [(key.namespace, value, entity_id) for value in gone],
                )
            added = [value for value in dict.fromkeys(new_values) if value not in old]
            if added:
                sql.executemany(
                    f"INSERT INTO {side} (namespace, value, owner) VALUES (?, ?, ?)",  # noqa: S608
                    [(key.namespace, value, entity_id) for value in added],
                )


class SqliteStore:
    """A store in one SQLite file (or `":memory:"`), created with its schema on open.

    One connection serves the store; units of work of different threads take
    turns on it, and other processes opening the same file wait for the write
    lock (up to `timeout` seconds, then `StoreError` `store.unavailable`).

    Examples:
        >>> store = SqliteStore(":memory:")
        >>> with store.unit_of_work() as uow:
        ...     uow.users.count()
        0
        >>> store.close()
    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self._gate = Gate()
        try:
            self._connection = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._prepare()
        except sqlite3.DatabaseError as exc:
            raise _store_error(self.path, exc) from None

    def _prepare(self) -> None:
        sql = self._connection
        if self.path != ":memory:":
            sql.execute("PRAGMA journal_mode = WAL")
        sql.execute("BEGIN IMMEDIATE")
        try:
            _check_schema_version(self.path, sql)
            for statement in _schema().split(";"):
                if statement.strip():
                    sql.execute(statement)
            sql.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            sql.execute("COMMIT")
        except BaseException:
            sql.execute("ROLLBACK")
            raise

    def unit_of_work(self) -> SqliteUnitOfWork:
        """A new unit of work: one transaction."""
        return SqliteUnitOfWork(self)

    def close(self) -> None:
        """Close the database connection; the store is unusable afterwards."""
        with self._gate:
            self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _begin(self) -> sqlite3.Connection:
        self._gate.acquire()
        try:
            self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._end()
            raise _store_error(self.path, exc) from None
        return self._connection

    def _end(self) -> None:
        self._gate.release()


def _check_schema_version(path: str, sql: sqlite3.Connection) -> None:
    (version,) = sql.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise StoreError(
            code="store.schema_newer",
            path=path,
            reason=f"schema version {version} is newer than {SCHEMA_VERSION}: upgrade provisioning",
        )


def _store_error(path: str, exc: sqlite3.Error) -> StoreError:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        return StoreError(code="store.unavailable", path=path, reason=text)
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return StoreError(code="store.corrupt", path=path, reason=text)
    return StoreError(code="store.unavailable", path=path, reason=text)


class SqliteUnitOfWork(Repositories):
    """One transaction on a `SqliteStore`; rolled back on exit unless committed."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._connection: sqlite3.Connection | None = None
        self._savepoints = itertools.count(1)
        self._attach(lambda table: _SqlRows(table, self))

    def connection(self) -> sqlite3.Connection:
        """The open transaction's connection; refuses use outside the `with` block."""
        if self._connection is None:
            raise closed_unit_of_work()
        return self._connection

    def __enter__(self) -> Self:
        self._connection = self._store._begin()  # noqa: SLF001 - one adapter
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._connection is not None and self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
        finally:
            self._connection = None
            self._store._end()  # noqa: SLF001

    def commit(self) -> None:
        """Commit every change so far; the unit of work stays usable for more."""
        sql = self.connection()
        try:
            sql.execute("COMMIT")
            sql.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _store_error(self._store.path, exc) from None

    def rollback(self) -> None:
        """Discard every change since the last commit."""
        sql = self.connection()
        try:
            if sql.in_transaction:
                sql.execute("ROLLBACK")
            sql.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _store_error(self._store.path, exc) from None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo the block's changes if it raises, then let the exception propagate."""
        sql = self.connection()
        name = f"sp{next(self._savepoints)}"
        sql.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            sql.execute(f"ROLLBACK TO {name}")
            sql.execute(f"RELEASE {name}")
            raise
        sql.execute(f"RELEASE {name}")
