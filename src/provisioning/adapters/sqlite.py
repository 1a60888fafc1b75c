"""The SQLite store: the embedded, persistent default.

One file holds everything. Each aggregate has a table of `(id, data)`
rows, `data` being the entity as JSON through the library's cattrs converter.
Look-up values live in two side tables: `unique_keys`, whose primary key makes
the database itself refuse a second holder of a username, alias or domain
name, and `index_keys` for the non-unique look-ups (users of a domain ...).

A unit of work is one `BEGIN IMMEDIATE` transaction: it takes the database's
write lock up front, so two units of work, in two threads or two processes,
never interleave their reads and writes. A `snapshot()` is a deferred read
transaction: files are opened in WAL mode, so it reads one consistent state
of the database without waiting for a writer or holding one up. Each unit of
work has a connection of its own from a small pool; SQLite's own locking is
the only lock between them. A `meta` row counts the committed write
transactions, so a plan can tell whether the store changed since it read it.
"""

from __future__ import annotations

import functools
import itertools
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Generic, ParamSpec, Self, TypeVar

import attrs

from provisioning._converter import storage
from provisioning.adapters._gate import Gate, closed_unit_of_work, read_only_unit_of_work
from provisioning.adapters._tables import (
    TABLES,
    Identified,
    Repositories,
    Select,
    Table,
)
from provisioning.exceptions import Conflict, StoreError, UsageError

__all__ = ["SqliteStore", "SqliteUnitOfWork", "StoreError"]

_E = TypeVar("_E", bound=Identified)

SCHEMA_VERSION: Final = 2
_BATCH: Final = 500  # values per `IN (...)` look-up, well under SQLite's variable limit


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
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('changes', 0);
"""  # noqa: S608 - table names are ours


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


_P = ParamSpec("_P")
_T = TypeVar("_T")


def _translated(method: Callable[_P, _T]) -> Callable[_P, _T]:
    """The method, with the driver's errors turned into typed `StoreError`s."""

    @functools.wraps(method)
    def translated(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            rows = args[0]
            path = rows._uow._store.path if isinstance(rows, _SqlRows) else ""  # noqa: SLF001
            raise _store_error(path, exc) from exc

    return translated


@attrs.define
class _SqlRows(Generic[_E]):
    """One table of one unit of work, as SQL."""

    table: Table[Any]
    _uow: SqliteUnitOfWork

    def _sql(self) -> sqlite3.Connection:
        return self._uow.connection()

    def _writer(self) -> sqlite3.Connection:
        return self._uow.connection(write=True)

    def _load(self, data: str) -> _E:
        entity: _E = storage.structure(json.loads(data), self.table.entity)
        return entity

    @_translated
    def fetch(self, entity_id: str, /) -> _E | None:
        row = (
            self._sql()
            .execute(f"SELECT data FROM {self.table.name} WHERE id = ?", (entity_id,))  # noqa: S608 - table names are ours
            .fetchone()
        )
        return None if row is None else self._load(row[0])

    @_translated
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

    @_translated
    def insert(self, entity: _E, /) -> None:
        entity_id: str = entity.id
        self._check_unique(entity, entity_id, previous=None)
        names = "".join(f", {c.name}" for c in self.table.columns)
        marks = ", ?" * len(self.table.columns)
        self._writer().execute(
            f"INSERT INTO {self.table.name} (id, data{names}) VALUES (?, ?{marks})",  # noqa: S608
            (entity_id, self._dump(entity), *self._columns(entity)),
        )
        self._write_keys(entity_id, previous=None, entity=entity)

    @_translated
    def replace(self, old: _E, new: _E, /) -> None:
        entity_id: str = new.id
        self._check_unique(new, entity_id, previous=old)
        sets = "".join(f", {c.name} = ?" for c in self.table.columns)
        self._writer().execute(
            f"UPDATE {self.table.name} SET data = ?{sets} WHERE id = ?",  # noqa: S608
            (self._dump(new), *self._columns(new), entity_id),
        )
        self._write_keys(entity_id, previous=old, entity=new)

    @_translated
    def delete(self, entity: _E, /) -> None:
        entity_id: str = entity.id
        self._writer().execute(f"DELETE FROM {self.table.name} WHERE id = ?", (entity_id,))  # noqa: S608
        self._write_keys(entity_id, previous=entity, entity=None)

    @_translated
    def insert_many(self, entities: Sequence[_E], /) -> None:
        if not entities:
            return
        sql = self._writer()
        for key in self.table.keys:
            if key.code is None:
                continue
            values = {value: entity.id for entity in entities for value in key.values(entity)}
            for value, owners in sorted(self.lookup(key.namespace, list(values)).items()):
                if any(owner != values[value] for owner in owners):
                    raise Conflict(code=key.code, entity=self.table.label, key=value)
        names = "".join(f", {c.name}" for c in self.table.columns)
        marks = ", ?" * len(self.table.columns)
        try:
            sql.executemany(
                f"INSERT INTO {self.table.name} (id, data{names}) VALUES (?, ?{marks})",  # noqa: S608
                [(e.id, self._dump(e), *self._columns(e)) for e in entities],
            )
        except sqlite3.IntegrityError:  # an id source that repeated an id
            held = self.fetch_many([e.id for e in entities])
            raise Conflict(
                code="id.taken", entity=self.table.label, key=next(iter(held), "")
            ) from None
        for key in self.table.keys:
            side = "unique_keys" if key.unique else "index_keys"
            sql.executemany(
                f"INSERT INTO {side} (namespace, value, owner) VALUES (?, ?, ?)",  # noqa: S608
                [
                    (key.namespace, value, e.id)
                    for e in entities
                    for value in dict.fromkeys(key.values(e))
                ],
            )

    @_translated
    def replace_many(self, pairs: Sequence[tuple[_E, _E]], /) -> None:
        for old, new in pairs:
            self.replace(old, new)

    @_translated
    def delete_many(self, entities: Sequence[_E], /) -> None:
        for entity in entities:
            self.delete(entity)

    @_translated
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

    @_translated
    def ids(self) -> list[str]:
        rows = self._sql().execute(f"SELECT id FROM {self.table.name} ORDER BY rowid")  # noqa: S608
        return [entity_id for (entity_id,) in rows]

    @_translated
    def size(self) -> int:
        (count,) = self._sql().execute(f"SELECT count(*) FROM {self.table.name}").fetchone()  # noqa: S608
        return int(count)

    @_translated
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
        sql = self._writer()
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

    Units of work take a connection each from a pool, so a thread may read a
    snapshot while another writes; other processes opening the same file wait
    for the write lock (up to `timeout` seconds, then `StoreError`
    `store.unavailable`). An in-memory database lives in one connection, so
    its units of work take turns.

    Examples:
        >>> store = SqliteStore(":memory:")
        >>> with store.unit_of_work() as uow:
        ...     uow.users.count()
        0
        >>> store.close()
    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self._timeout = timeout
        self._shared = self.path == ":memory:"
        self._gate = Gate()
        self._pool_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._open: set[sqlite3.Connection] = set()
        self._writing = threading.local()
        self._closed = False
        try:
            connection = self._connect()
            self._prepare(connection)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise _store_error(self.path, exc) from None
        self._idle.append(connection)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        self._open.add(connection)
        return connection

    def _prepare(self, sql: sqlite3.Connection) -> None:
        # A file already at this schema is opened without taking the write lock,
        # so a second process opens it while another one writes.
        (version,) = sql.execute("PRAGMA user_version").fetchone()
        if version == SCHEMA_VERSION:
            return
        if not self._shared:
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
        """A new unit of work: one write transaction."""
        return SqliteUnitOfWork(self)

    def snapshot(self) -> SqliteUnitOfWork:
        """A unit of work for reading only: one read transaction that waits for no writer."""
        return SqliteUnitOfWork(self, read_only=True)

    def close(self) -> None:
        """Close every connection; the store is unusable afterwards."""
        with self._pool_lock:
            self._closed = True
            for connection in self._open:
                connection.close()
            self._open.clear()
            self._idle.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _acquire(self, *, write: bool) -> sqlite3.Connection:
        nested = getattr(self._writing, "active", False) or self._gate.held()
        if (write or self._shared) and nested:
            raise UsageError(
                code="store.nested_unit_of_work",
                reason="this thread already has a unit of work open on this store",
            )
        if self._shared:
            self._gate.acquire()
        with self._pool_lock:
            if self._closed:
                if self._shared:
                    self._gate.release()
                raise closed_unit_of_work()
            if self._idle:
                connection = self._idle.pop()
            else:
                try:
                    connection = self._connect()
                except sqlite3.Error as exc:
                    raise _store_error(self.path, exc) from None
        if write:
            self._writing.active = True
        return connection

    def _release(self, connection: sqlite3.Connection, *, write: bool, broken: bool) -> None:
        if write:
            self._writing.active = False
        with self._pool_lock:
            if broken or self._closed:
                self._open.discard(connection)
                connection.close()
            else:
                self._idle.append(connection)
        if self._shared:
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
    if getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "disk is full" in text:
        return StoreError(code="store.full", path=path, reason=text)
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return StoreError(code="store.corrupt", path=path, reason=text)
    return StoreError(code="store.unavailable", path=path, reason=text)


class SqliteUnitOfWork(Repositories):
    """One transaction on a `SqliteStore`; rolled back on exit unless committed."""

    def __init__(self, store: SqliteStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._connection: sqlite3.Connection | None = None
        self._dirty = False
        self._savepoints = itertools.count(1)
        self._attach(lambda table: _SqlRows(table, self))

    def connection(self, *, write: bool = False) -> sqlite3.Connection:
        """The open transaction's connection; refuses use outside the `with` block.

        A transaction begins on first use (again after a commit); `write`
        refuses a snapshot and marks the unit of work as having changes.
        """
        sql = self._connection
        if sql is None:
            raise closed_unit_of_work()
        if write:
            if self._read_only:
                raise read_only_unit_of_work()
            self._dirty = True
        if not sql.in_transaction:
            try:
                sql.execute("BEGIN" if self._read_only else "BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _store_error(self._store.path, exc) from None
        return sql

    def change_count(self) -> int:
        """How many write transactions have committed changes to the file so far."""
        (count,) = (
            self.connection().execute("SELECT value FROM meta WHERE key = 'changes'").fetchone()
        )
        return int(count)

    def __enter__(self) -> Self:
        self._connection = self._store._acquire(write=not self._read_only)  # noqa: SLF001
        try:
            self.connection()
        except BaseException:
            self._store._release(self._connection, write=not self._read_only, broken=True)  # noqa: SLF001
            self._connection = None
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
        broken = False
        try:
            if sql.in_transaction:
                sql.execute("ROLLBACK")
        except sqlite3.Error:
            broken = True  # a connection that cannot roll back is not handed out again
        finally:
            self._store._release(sql, write=not self._read_only, broken=broken)  # noqa: SLF001

    def commit(self) -> None:
        """Commit every change so far; the unit of work stays usable for more."""
        sql = self.connection()
        try:
            if self._dirty:
                sql.execute("UPDATE meta SET value = value + 1 WHERE key = 'changes'")
            sql.execute("COMMIT")
        except sqlite3.Error as exc:
            raise _store_error(self._store.path, exc) from None
        self._dirty = False

    def rollback(self) -> None:
        """Discard every change since the last commit."""
        sql = self.connection()
        try:
            if sql.in_transaction:
                sql.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise _store_error(self._store.path, exc) from None
        self._dirty = False

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
