"""The overlay a batch is planned in: the store's reads, with the batch's own writes on top.

`plan` never writes to the store. It opens a read transaction and wraps it in
an `Overlay`: a unit of work whose repositories read through to the store and
keep every write in memory, so the commands of a batch see each other's
effects (two creates of one name clash) while the store stays untouched. The
overlay also remembers what it read, so each row and each look-up value is
asked of the store once per batch, and `prefetch` asks for many at once.

What the batch wrote is its `changes()`: per table, the state each touched row
had in the store and the state it is to have. `apply` hands those to the
store's write transaction, which writes them in sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Generic, Self, TypeVar

import attrs

from provisioning.errors import Conflict, UsageError, codes
from provisioning.model import Message
from provisioning.storage._repositories import Change, TableChanges, UnitOfWork
from provisioning.storage._scopes import EVERYTHING, lookup_scope, row_accounts
from provisioning.storage._tables import (
    TABLES,
    Backend,
    Identified,
    Key,
    KeyIndex,
    RowByRow,
    Select,
    Table,
    reindex,
)

__all__ = ["Overlay"]

CODES: Final = codes(
    usage=("store.overlay_commit",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_E = TypeVar("_E", bound=Identified)
_ABSENT: Final[Any] = object()  # "not cached yet", distinct from a cached None
_NONE: Final[Sequence[str]] = ()  # no holder: one shared empty answer
_NO_IDS: Final[frozenset[str]] = frozenset()


@attrs.define
class _OverlayRows(RowByRow, Generic[_E]):
    """One table seen through the overlay: the store's rows, then the batch's writes."""

    table: Table[Any]
    _base: Backend[_E]
    # id -> the row as the batch left it (None: deleted by the batch)
    _written: dict[str, _E | None] = attrs.Factory(dict)
    # id -> the row as the store had it when the batch first touched it
    _original: dict[str, _E | None] = attrs.Factory(dict)
    # The look-up keys of the written rows, for the namespaces looked up so far only:
    # a namespace is indexed when first asked for, so a large batch does not keep
    # indexes nobody reads (the audit log's, say).
    _keys: KeyIndex = attrs.Factory(dict)
    _fetched: dict[str, _E | None] = attrs.Factory(dict)
    _looked_up: dict[str, dict[str, Sequence[str]]] = attrs.Factory(dict)
    # How to undo each write since the outermost savepoint opened (shared by every table, so a
    # savepoint marks and releases it at once): (table, id, the row it replaced or _ABSENT).
    _journal: list[tuple[_OverlayRows[Any], str, Any]] = attrs.field(factory=list, alias="journal")
    # Ids the id source made for this batch: no store holds them (shared by every table).
    _fresh: set[str] = attrs.field(factory=set, alias="fresh")
    # table name -> the ids the batch inserted that the store did not hold (shared by every
    # table, so that a key naming another table's rows can tell its new ones)
    _born: dict[str, set[str]] = attrs.field(factory=dict, alias="born")
    # The change scopes of everything read from the store (shared by every table).
    _reads: set[str] = attrs.field(factory=set, alias="reads")
    # Rows whose writes someone counts (the actor's own, for its permissions): id -> writes.
    _watched: dict[str, int] = attrs.Factory(dict)
    generation: int = 0
    # The table's keys by namespace, and its unique ones: asked for on every write.
    _by_namespace: dict[str, Key] = attrs.field(init=False)
    _unique: tuple[Key, ...] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._by_namespace = {key.namespace: key for key in self.table.keys}
        self._unique = tuple(key for key in self.table.keys if key.unique)

    def stamp(self, entity_id: str) -> int:
        """A number that grows whenever the batch writes the row `entity_id` from now on."""
        return self._watched.setdefault(entity_id, 0)

    # -- reads -------------------------------------------------------------

    def fetch(self, entity_id: str, /) -> _E | None:
        if entity_id in self._written:
            return self._written[entity_id]
        if entity_id in self._fresh:
            return None
        cached = self._fetched.get(entity_id, _ABSENT)
        if cached is _ABSENT:
            cached = self._base.fetch(entity_id)
            self._fetched[entity_id] = cached
            if cached is not None:
                self._reads.update(row_accounts(self.table, cached))
        return cached

    def fetch_many(self, entity_ids: Sequence[str], /) -> dict[str, _E]:
        self.prefetch(entity_ids)
        found: dict[str, _E] = {}
        for entity_id in entity_ids:
            entity = self.fetch(entity_id)
            if entity is not None:
                found[entity_id] = entity
        return found

    def prefetch(self, entity_ids: Iterable[str]) -> None:
        """Read the rows among `entity_ids` not read yet, in one look-up."""
        missing = [
            i
            for i in dict.fromkeys(entity_ids)
            if i not in self._fetched and i not in self._written and i not in self._fresh
        ]
        if missing:
            found = self._base.fetch_many(missing)
            for entity_id in missing:
                self._fetched[entity_id] = found.get(entity_id)
            reads, table = self._reads, self.table
            for entity in found.values():
                reads.update(row_accounts(table, entity))

    def lookup(self, namespace: str, values: Sequence[str], /) -> dict[str, list[str]]:
        cache = self.prefetch_keys(namespace, values)
        written = self._written
        index = self._keys.get(namespace)
        if index is None:  # first asked for: index what the batch wrote so far
            index = self._keys[namespace] = {}
            key = self._by_namespace[namespace]
            for entity_id, entity in written.items():
                if entity is not None:
                    for value in key.values(entity):
                        index.setdefault(value, {})[entity_id] = None
        result: dict[str, list[str]] = {}
        for value in values:
            ids = [i for i in cache[value] if i not in written]
            ids.extend(index.get(value, ()))
            if ids:
                result[value] = ids
        return result

    def prefetch_keys(self, namespace: str, values: Iterable[str]) -> dict[str, Sequence[str]]:
        """Look up the values of `namespace` not looked up yet, in one look-up; the cache."""
        cache = self._looked_up.setdefault(namespace, {})
        missing = [value for value in dict.fromkeys(values) if value not in cache]
        key = self._by_namespace[namespace]
        if missing and key.owner is not None:  # values naming the batch's new rows: not stored
            owner, born = key.owner, self._born.get(key.owner_table, _NO_IDS)
            for value in missing:
                if owner(value) in born:
                    cache[value] = _NONE
            missing = [value for value in missing if value not in cache]
        if missing:
            found = self._base.lookup(namespace, missing)
            for value in missing:
                cache[value] = found.get(value, _NONE)
                scope = lookup_scope(namespace, value)
                if scope is not None:
                    self._reads.add(scope)
        return cache

    def ids(self) -> list[str]:
        self._reads.add(EVERYTHING)
        written = self._written
        ids = [i for i in self._base.ids() if i not in written]
        ids.extend(i for i, entity in written.items() if entity is not None)
        return ids

    def size(self) -> int:
        self._reads.add(EVERYTHING)
        delta = 0
        for entity_id, entity in self._written.items():
            delta += (entity is not None) - (self._original[entity_id] is not None)
        return self._base.size() + delta

    def select(self, query: Select, /) -> tuple[list[str], int]:
        self._reads.add(EVERYTHING)
        if not self._written:
            return self._base.select(query)
        # Rare (queries do not run in a batch): merge the store's matches with the batch's rows.
        everything = attrs.evolve(query, offset=0, limit=None, after=None)
        ids, _ = self._base.select(everything)
        found = [i for i in ids if i not in self._written]
        found += [
            i
            for i, entity in self._written.items()
            if entity is not None and _matches(self.table, entity, query)
        ]
        matched: list[tuple[Any, str]] = [
            (position if query.order_by is None else self._order(i, query.order_by), i)
            for position, i in enumerate(found)
        ]
        total = len(matched)
        if query.after is not None:
            after = query.after
            matched = [m for m in matched if (m < after) == query.descending and m != after]
        ordered = sorted(matched, reverse=query.descending)
        end = None if query.limit is None else query.offset + query.limit
        return [i for _, i in ordered[query.offset : end]], total

    def _order(self, entity_id: str, column: str) -> str:
        entity = self.fetch(entity_id)
        value = None if entity is None else self.table.column(column).value(entity)
        return value or ""

    # -- writes ------------------------------------------------------------

    def insert(self, entity: _E, /) -> None:
        if self._written.get(entity.id) is not None:  # the batch made this id already
            raise Conflict(code="id.taken", entity=self.table.label, key=entity.id)
        self._check_unique(entity, previous=None)
        self._write(entity.id, entity)

    def replace(self, old: _E, new: _E, /) -> None:
        self._check_unique(new, previous=old)
        self._write(new.id, new)

    def delete(self, entity: _E, /) -> None:
        self._write(entity.id, None)

    def _check_unique(self, entity: _E, previous: _E | None) -> None:
        for key in self._unique:
            values = list(dict.fromkeys(key.values(entity)))
            if previous is not None:
                held = set(key.values(previous))
                values = [value for value in values if value not in held]
            if not values:
                continue
            for value, holders in self.lookup(key.namespace, values).items():
                if any(holder != entity.id for holder in holders):
                    raise Conflict(code=key.code or "", entity=self.table.label, key=value)

    def _write(self, entity_id: str, entity: _E | None) -> None:
        if entity_id not in self._original:
            original = self._original[entity_id] = self.fetch(entity_id)
            if original is None and entity is not None:
                self._born.setdefault(self.table.name, set()).add(entity_id)
        self._journal.append((self, entity_id, self._written.get(entity_id, _ABSENT)))
        self._put(entity_id, entity)

    def _put(self, entity_id: str, entity: Any) -> None:  # noqa: ANN401 - a row, None or _ABSENT
        self.generation += 1
        if entity_id in self._watched:
            self._watched[entity_id] += 1
        previous = self._written.pop(entity_id, None)
        new = None if entity is _ABSENT else entity
        reindex(self._keys, self.table, entity_id, previous, new, only=self._keys)
        if entity is not _ABSENT:
            self._written[entity_id] = entity

    def forget(self) -> None:
        """Drop every write of the batch (what was read stays cached)."""
        self.generation += 1
        for entity_id in self._watched:
            self._watched[entity_id] += 1
        self._written.clear()
        self._original.clear()
        self._keys.clear()

    def undo(self, entity_id: str, previous: Any) -> None:  # noqa: ANN401 - a row, None or _ABSENT
        """Take one write back: the row as it was before it (`_ABSENT`: not written before)."""
        self._put(entity_id, previous)
        if previous is _ABSENT and entity_id in self._original:
            del self._original[entity_id]

    def changes(self) -> TableChanges:
        rows = tuple(
            Change(self._original[entity_id], entity)
            for entity_id, entity in self._written.items()
            if entity is not None or self._original[entity_id] is not None
        )
        return TableChanges(self.table, rows)


def _matches(table: Table[Any], entity: object, query: Select) -> bool:
    for name, value in query.equals:
        if table.column(name).value(entity) != value:
            return False
    if query.since is not None:
        name, value = query.since
        held = table.column(name).value(entity)
        if held is None or held <= value:
            return False
    if query.text is None:
        return True
    for name in query.text_columns:
        held = table.column(name).value(entity)
        if held is not None and query.text in held:
            return True
    return str(getattr(entity, "id", "")).casefold() == query.text


class Overlay(UnitOfWork):
    """A unit of work over `base` that reads through to it and keeps its own writes.

    Nothing it is given reaches `base`: `commit` is refused, and leaving it
    simply forgets the writes. `changes()` hands them over instead.
    """

    def __init__(self, base: UnitOfWork) -> None:
        self._base = base
        self._rows: dict[str, _OverlayRows[Any]] = {}

        self._fresh: set[str] = set()
        self._born: dict[str, set[str]] = {}
        self.reads: set[str] = set()
        """The change scopes of everything the batch read from the store (see `_scopes`)."""
        self._journal: list[tuple[_OverlayRows[Any], str, Any]] = []
        self._depth = 0

        def backend(table: Table[Any]) -> _OverlayRows[Any]:
            rows: _OverlayRows[Any] = _OverlayRows(
                table,
                base.backend(table),
                fresh=self._fresh,
                born=self._born,
                reads=self.reads,
                journal=self._journal,
            )
            self._rows[table.name] = rows
            return rows

        self._attach(backend)

    def rows(self, table: Table[Any]) -> _OverlayRows[Any]:
        """The overlay's view of one table (for prefetching)."""
        return self._rows[table.name]

    def fresh_id(self, entity_id: str) -> None:
        """Record that `entity_id` was just made by the id source: no table holds it yet.

        The store's primary keys still refuse a duplicate when the batch is
        written (an id source that repeats itself gets `Conflict` `id.taken`).
        """
        self._fresh.add(entity_id)

    def generation(self, *tables: Table[Any]) -> int:
        """A number that grows with every write to any of `tables`."""
        return sum(self._rows[table.name].generation for table in tables)

    def changes(self) -> tuple[TableChanges, ...]:
        """Every table's changes, in the order of `TABLES` (parents before children)."""
        return tuple(self._rows[table.name].changes() for table in TABLES.all())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def enqueue(self, messages: Sequence[Message], /, *, now: datetime) -> tuple[Message, ...]:
        """Refused: a batch's messages reach the outbox only through `apply`."""
        del messages, now
        raise UsageError(code="store.overlay_commit", reason="a planned batch is never committed")

    def commit(self) -> None:
        """Refused: an overlay's writes reach the store only through `apply`."""
        raise UsageError(code="store.overlay_commit", reason="a planned batch is never committed")

    def rollback(self) -> None:
        """Forget every write (also those of commands whose undo records were released)."""
        for rows in self._rows.values():
            rows.forget()
        self._journal.clear()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Forget the block's writes if it raises, then let the exception propagate."""
        journal = self._journal
        mark = len(journal)
        self._depth += 1
        try:
            yield
        except BaseException:
            while len(journal) > mark:
                rows, entity_id, previous = journal.pop()
                rows.undo(entity_id, previous)
            raise
        finally:
            self._depth -= 1
        if self._depth == 0:  # nothing can ask to undo these writes any more
            journal.clear()
