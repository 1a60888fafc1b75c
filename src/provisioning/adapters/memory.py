"""The in-memory store, outbox, clock and id source.

These are first-class adapters, not test helpers: notebooks and test suites use
them as they are. The store keeps the same invariants as the SQLite store (the
same contract test-suite runs over both): unique values per table, version
checks, and units of work that are all or nothing.

A unit of work holds the store's lock from `__enter__` to `__exit__`, so units
of work of different threads run one after the other (serialisable). Writes go
straight to the tables and are journalled; rollback replays the journal
backwards, so a failed or uncommitted unit of work leaves the store exactly as
it found it. A `snapshot()` is for reading only: it takes the lock for each
read, never for its whole length, so a long plan does not hold writers up; it
sees what was committed before each read.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Final, Generic, Self, TypeVar

import attrs

from provisioning.adapters._gate import Gate, closed_unit_of_work, read_only_unit_of_work
from provisioning.adapters._outbox import MemoryOutbox
from provisioning.errors import Conflict, DnsUnavailable
from provisioning.model import (
    GUESS_SWEEP,
    DomainName,
    Message,
    MessageStatus,
    QueuedMessage,
    SignInState,
)
from provisioning.ports import GuessCount
from provisioning.storage import (
    TABLES,
    Identified,
    KeyIndex,
    RowByRow,
    Select,
    Table,
    UnitOfWork,
    reindex,
)

__all__ = [
    "FixedClock",
    "MemoryDns",
    "MemoryStore",
    "MemoryUnitOfWork",
    "Outbox",
    "SequentialIds",
    "SequentialTokens",
]

_E = TypeVar("_E", bound=Identified)


@attrs.define
class _Rows(Generic[_E]):
    """The committed-or-in-flight contents of one table, with its key indexes."""

    table: Table[Any]
    rows: dict[str, _E] = attrs.Factory(dict)
    keys: KeyIndex = attrs.Factory(dict)
    # id -> the table's column values, computed once per write for `select`
    columns: dict[str, dict[str, str | None]] = attrs.Factory(dict)

    def put(self, entity_id: str, entity: _E | None) -> _E | None:
        """Set (or, with None, delete) one row and its keys, unconditionally; return the old row."""
        old = self.rows.pop(entity_id, None)
        self.columns.pop(entity_id, None)
        reindex(self.keys, self.table, entity_id, old, entity)
        if entity is not None:
            self.rows[entity_id] = entity
            if self.table.columns:
                self.columns[entity_id] = {c.name: c.value(entity) for c in self.table.columns}
        return old

    def taken(self, entity: object, entity_id: str) -> Conflict | None:
        """The conflict `entity` would cause with another row's unique value, if any."""
        for key in self.table.keys:
            if key.code is None:
                continue
            index = self.keys.get(key.namespace, {})
            for value in key.values(entity):
                if any(holder != entity_id for holder in index.get(value, ())):
                    return Conflict(code=key.code, entity=self.table.label, key=value)
        return None


def _contains(
    row: dict[str, str | None], searched: Sequence[str], text: str, entity_id: str
) -> bool:
    for name in searched:
        value = row[name]
        if value is not None and text in value:
            return True
    return entity_id.casefold() == text


@attrs.define
class _Journalled(RowByRow, Generic[_E]):
    """One unit of work's view of a table: every write is journalled for rollback."""

    table: Table[Any]
    _rows: _Rows[_E]
    _uow: MemoryUnitOfWork

    def fetch(self, entity_id: str, /) -> _E | None:
        with self._uow.reading():
            return self._rows.rows.get(entity_id)

    def fetch_many(self, entity_ids: Sequence[str], /) -> dict[str, _E]:
        with self._uow.reading():
            rows = self._rows.rows
            return {i: rows[i] for i in entity_ids if i in rows}

    def replace(self, old: _E, new: _E, /) -> None:
        del old
        self._write(new.id, new)

    def delete(self, entity: _E, /) -> None:
        self._uow.ensure_writable()
        entity_id = entity.id
        previous = self._rows.put(entity_id, None)
        self._uow.journal.append((self._rows, entity_id, previous))
        self._uow.touch_rows(self.table, (previous,))

    def lookup(self, namespace: str, values: Sequence[str], /) -> dict[str, list[str]]:
        with self._uow.reading():
            index = self._rows.keys.get(namespace, {})
            return {value: list(index[value]) for value in values if index.get(value)}

    def ids(self) -> list[str]:
        with self._uow.reading():
            return list(self._rows.rows)

    def size(self) -> int:
        with self._uow.reading():
            return len(self._rows.rows)

    def select(self, query: Select, /) -> tuple[list[str], int]:
        with self._uow.reading():
            return self._select(query)

    def _select(self, query: Select) -> tuple[list[str], int]:
        columns = self._rows.columns
        candidates: Iterable[str] = self._rows.rows
        tests = list(query.equals)
        for name, value in query.equals:
            index = self.table.column(name).index
            if index is not None:  # narrow by the key index instead of scanning every row
                candidates = self._rows.keys.get(index, {}).get(value, {})
                tests.remove((name, value))
                break
        text, searched, order = query.text, query.text_columns, query.order_by
        since = query.since
        matched: list[tuple[Any, str]] = []
        for position, entity_id in enumerate(candidates):
            row = columns[entity_id]
            if tests and any(row[name] != value for name, value in tests):
                continue
            if since is not None and (row[since[0]] or "") <= since[1]:
                continue
            if text is not None and not _contains(row, searched, text, entity_id):
                continue
            matched.append((position if order is None else row[order] or "", entity_id))
        total = len(matched)
        if query.after is not None:
            after = query.after
            matched = [m for m in matched if (m < after) == query.descending and m != after]
        if query.limit is None:
            page = sorted(matched, reverse=query.descending)[query.offset :]
        else:  # only the rows up to the page's end need ordering
            pick = heapq.nlargest if query.descending else heapq.nsmallest
            page = pick(query.offset + query.limit, matched)[query.offset :]
        return [entity_id for _, entity_id in page], total

    def insert(self, entity: _E, /) -> None:
        if entity.id in self._rows.rows:
            self._uow.ensure_writable()
            raise Conflict(code="id.taken", entity=self.table.label, key=entity.id)
        self._write(entity.id, entity)

    def _write(self, entity_id: str, entity: _E) -> None:
        self._uow.ensure_writable()
        conflict = self._rows.taken(entity, entity_id)
        if conflict is not None:
            raise conflict
        previous = self._rows.put(entity_id, entity)
        self._uow.journal.append((self._rows, entity_id, previous))
        self._uow.touch_rows(self.table, (previous, entity))


_FRESH: Final = SignInState()


@attrs.define
class MemoryStore:
    """A store that keeps everything in this process's memory.

    Examples:
        >>> store = MemoryStore()
        >>> with store.unit_of_work() as uow:
        ...     uow.accounts.count()
        0
    """

    _tables: dict[str, _Rows[Any]] = attrs.field(
        init=False, factory=lambda: {t.name: _Rows(t) for t in TABLES.all()}
    )
    _gate: Gate = attrs.field(init=False, factory=Gate)
    _scopes: dict[str, int] = attrs.field(init=False, factory=dict)
    _guesses: dict[str, SignInState] = attrs.field(init=False, factory=dict)
    _counts: int = attrs.field(init=False, default=0)
    _outbox: MemoryOutbox = attrs.field(init=False, factory=MemoryOutbox)

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A new unit of work over this store."""
        return MemoryUnitOfWork(self)

    def snapshot(self) -> MemoryUnitOfWork:
        """A unit of work for reading only; it holds the store's lock only while it reads."""
        return MemoryUnitOfWork(self, read_only=True)

    def forked_reads(self) -> AbstractContextManager[None]:
        """A forked child reads its own copy of the rows, as they were at the fork: no more."""
        return nullcontext()

    def count_guesses(self, keys: Collection[str], count: GuessCount, /, *, now: datetime) -> None:
        """Change the guess counters of `keys`, holding the store's lock (see `Store`)."""
        with self._gate:
            states = {key: self._guesses.get(key, _FRESH) for key in keys}
            for key, state in count(states).items():
                if state == _FRESH:
                    self._guesses.pop(key, None)
                else:
                    self._guesses[key] = state
            self._counts += 1
            if self._counts % GUESS_SWEEP == 0:
                self._guesses = {k: v for k, v in self._guesses.items() if not v.idle(now)}

    def guess_states(self, keys: Collection[str], /) -> dict[str, SignInState]:
        """The guess counters of `keys` (fresh for a key never counted)."""
        with self._gate.shared():
            return {key: self._guesses.get(key, _FRESH) for key in keys}

    def claim_messages(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        ids: Collection[str] | None = None,
    ) -> list[QueuedMessage]:
        """Claim due messages of the outbox for delivery (see `Store`)."""
        with self._gate:
            return self._outbox.claim(now, limit, lease, ids)

    def settle_messages(
        self,
        delivered: Collection[str],
        failed: Mapping[str, tuple[str, datetime | None]],
        /,
        *,
        now: datetime,
    ) -> None:
        """Record how the delivery of claimed messages went (see `Store`)."""
        with self._gate:
            self._outbox.settle(delivered, failed, now)

    def requeue_messages(self, ids: Collection[str], /, *, now: datetime) -> int:
        """Put failed messages back in line (see `Store`)."""
        with self._gate:
            return self._outbox.requeue(ids, now)

    def queued_messages(
        self, *, status: MessageStatus | None, offset: int, limit: int
    ) -> tuple[list[QueuedMessage], int]:
        """One page of the outbox without secrets, and how many match (see `Store`)."""
        with self._gate.shared():
            return self._outbox.listed(status, offset, limit)


_Undo = tuple[_Rows[Any] | MemoryOutbox, str, Any]
_HELD: Final = nullcontext()  # a writing unit of work holds the lock already


class MemoryUnitOfWork(UnitOfWork):
    """A unit of work over a `MemoryStore`; see the module docstring for its semantics."""

    def __init__(self, store: MemoryStore, *, read_only: bool = False) -> None:
        self._store = store
        self._open = False
        self._read_only = read_only
        self._committed = 0
        self.journal: list[_Undo] = []
        tables = store._tables  # noqa: SLF001 - the store and its unit of work are one adapter
        self._attach(lambda table: _Journalled(table, tables[table.name], self))

    def ensure_open(self) -> None:
        """Refuse repository use outside the `with` block."""
        if not self._open:
            raise closed_unit_of_work()

    def ensure_writable(self) -> None:
        """Refuse writes outside the `with` block and in a snapshot."""
        self.ensure_open()
        if self._read_only:
            raise read_only_unit_of_work()

    def reading(self) -> AbstractContextManager[object]:
        """What to hold for one read: the store's lock in a snapshot, nothing otherwise."""
        self.ensure_open()
        if self._read_only:
            return self._store._gate.shared()  # noqa: SLF001
        return _HELD

    def scope_counts(self, scopes: Collection[str], /) -> dict[str, int]:
        """How many committed writes have moved each of `scopes` (see `UnitOfWork`)."""
        with self.reading():
            counts = self._store._scopes  # noqa: SLF001
            return {scope: counts[scope] for scope in scopes if scope in counts}

    def __enter__(self) -> Self:
        if not self._read_only:
            self._store._gate.acquire()  # noqa: SLF001
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._read_only:
            self._open = False
            return
        try:
            self.rollback()
        finally:
            self._open = False
            self._store._gate.release()  # noqa: SLF001

    def enqueue(self, messages: Sequence[Message], /, *, now: datetime) -> tuple[Message, ...]:
        """Write `messages` into the store's outbox; a rollback takes them back out."""
        self.ensure_writable()
        outbox = self._store._outbox  # noqa: SLF001
        written = outbox.add(messages, now)
        self.journal.extend((outbox, message.id, None) for message in written)
        return written

    def commit(self) -> None:
        """Keep every change made so far."""
        self.ensure_open()
        counts = self._store._scopes  # noqa: SLF001
        for scope in self._touched:
            counts[scope] = counts.get(scope, 0) + 1
        self._touched.clear()
        self.journal.clear()

    def rollback(self) -> None:
        """Undo every change made since the last commit."""
        self._undo_to(0)
        self._touched.clear()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo the block's changes if it raises, then let the exception propagate."""
        self.ensure_open()
        mark = len(self.journal)
        try:
            yield
        except BaseException:
            self._undo_to(mark)
            raise

    def _undo_to(self, mark: int) -> None:
        while len(self.journal) > mark:
            rows, entity_id, previous = self.journal.pop()
            rows.put(entity_id, previous)


@attrs.define
class Outbox:
    """A notifier that keeps the messages it is sent, for tests and notebooks.

    It delivers nothing: it is a fake to look into. It keeps the latest
    `limit` messages (10,000 by default) so a large import does not grow it
    without end; `dropped` counts the older ones it let go.

    Examples:
        >>> from provisioning.ports import Message
        >>> outbox = Outbox(limit=2)
        >>> outbox.send([Message(template=t, to="ann@acme.example") for t in "abc"])
        >>> [m.template for m in outbox.messages], outbox.dropped
        (['b', 'c'], 1)
    """

    limit: int = 10_000
    dropped: int = attrs.field(init=False, default=0)
    _kept: deque[Message] = attrs.field(init=False)

    @_kept.default
    def _ring(self) -> deque[Message]:
        return deque(maxlen=self.limit)

    @property
    def messages(self) -> list[Message]:
        """The messages kept, oldest first."""
        return list(self._kept)

    def send(self, messages: Collection[Message], /) -> None:
        """Keep the messages, in order, letting the oldest go beyond `limit`."""
        self.dropped += max(0, len(self._kept) + len(messages) - self.limit)
        self._kept.extend(messages)

    def clear(self) -> None:
        """Forget every message kept so far."""
        self._kept.clear()
        self.dropped = 0


@attrs.define
class FixedClock:
    """A clock that stands still until told to move; for deterministic tests.

    Examples:
        >>> from datetime import UTC
        >>> clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
        >>> clock.advance(days=7).isoformat()
        '2026-01-08T00:00:00+00:00'
    """

    current: datetime = attrs.field()

    @current.validator
    def _aware(self, attribute: attrs.Attribute[datetime], value: datetime) -> None:
        del attribute
        if value.tzinfo is None:
            msg = "FixedClock needs a timezone-aware datetime"
            raise ValueError(msg)

    def now(self) -> datetime:
        """The time the clock shows."""
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by `timedelta(**delta)` and return the new time."""
        self.current = self.current + timedelta(**delta)
        return self.current


@attrs.define
class SequentialIds:
    """Ids `prefix-1`, `prefix-2` ...: readable and deterministic, for tests and examples.

    Examples:
        >>> ids = SequentialIds()
        >>> ids.new_id(), ids.new_id()
        ('id-1', 'id-2')
    """

    prefix: str = "id"
    _counter: Iterator[int] = attrs.field(init=False, factory=lambda: itertools.count(1))
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock)

    def new_id(self) -> str:
        """The next id."""
        with self._lock:
            return f"{self.prefix}-{next(self._counter)}"


@attrs.define
class SequentialTokens:
    """Predictable tokens `token-1`, `token-2` ...: for tests and examples only.

    Examples:
        >>> SequentialTokens().token()
        'token-1'
    """

    prefix: str = "token"
    _ids: SequentialIds = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._ids = SequentialIds(self.prefix)

    def token(self) -> str:
        """The next token."""
        return self._ids.new_id()


@attrs.define
class MemoryDns:
    """A DNS resolver answering from a dict: publish records in tests and notebooks.

    Examples:
        >>> from provisioning.model import DomainName
        >>> dns = MemoryDns()
        >>> dns.publish("acme.example", "v=spf1 -all")
        >>> dns.txt_records(DomainName.parse("ACME.example"))
        ['v=spf1 -all']
    """

    records: dict[str, list[str]] = attrs.Factory(dict)
    failing: set[str] = attrs.Factory(set)

    def publish(self, name: str, value: str) -> None:
        """Add a TXT record `value` to the domain `name`."""
        self.records.setdefault(DomainName.parse(name).ascii, []).append(value)

    def fail(self, name: str) -> None:
        """Make look-ups of `name` fail, as an unreachable DNS server would."""
        self.failing.add(DomainName.parse(name).ascii)

    def txt_records(self, name: DomainName, /) -> list[str]:
        """The published values of `name`."""
        if name.ascii in self.failing:
            raise DnsUnavailable(name=name.ascii, reason="the test resolver was told to fail")
        return list(self.records.get(name.ascii, []))
