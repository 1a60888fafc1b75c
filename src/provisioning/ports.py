"""Ports: the protocols through which the core reaches state and the outside world.

Stores implement `Store` (which hands out `UnitOfWork`s exposing one repository
per aggregate); the workflow takes a `Clock`, an `IdSource` and a `Notifier`.
In-memory implementations ship in `provisioning.adapters.memory`, the SQLite
store in `provisioning.adapters.sql`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from provisioning.model import (
    DomainName,
    Message,
    MessageStatus,
    QueuedMessage,
    SignInState,
)
from provisioning.storage import UnitOfWork

__all__ = [
    "Clock",
    "DnsResolver",
    "Environment",
    "ForkReadable",
    "GuessCount",
    "IdSource",
    "Message",
    "Notifier",
    "PasswordHasher",
    "Sealer",
    "Store",
    "TokenSource",
    "UnitOfWork",
]


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

    def claim_messages(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        ids: Collection[str] | None = None,
    ) -> list[QueuedMessage]:
        """Claim up to `limit` messages of the outbox for delivery, in a transaction of their own.

        A message is due when it is pending, its next attempt is not after
        `now`, and no other claim on it runs past `now`; of one recipient's
        messages only the oldest pending one is claimed, so that they arrive
        in order. Each is claimed until `now + lease`: deliverers running at
        once never claim one message twice while their claims last (on
        PostgreSQL, rows another deliverer is claiming are skipped). With
        `ids`, only those messages are claimed. They come with their secrets.
        """
        ...

    def settle_messages(
        self,
        delivered: Collection[str],
        failed: Mapping[str, tuple[str, datetime | None]],
        /,
        *,
        now: datetime,
    ) -> None:
        """Record how claimed messages went, in a transaction of their own.

        A delivered message loses its secrets and keeps its record; a failed
        one keeps its reason (`failed[id] = (reason, retry_at)`) and is tried
        again at `retry_at`, or, with None, is given up on (`FAILED`).
        """
        ...

    def requeue_messages(self, ids: Collection[str], /, *, now: datetime) -> int:
        """Put the failed messages among `ids` back in line, due `now`; how many were."""
        ...

    def queued_messages(
        self, *, status: MessageStatus | None, offset: int, limit: int
    ) -> tuple[list[QueuedMessage], int]:
        """One page of the outbox in the order it was written, without secrets, and its total."""
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
    def notifier(self) -> Notifier | None:
        """Where `deliver` sends messages; with one, `apply` delivers a batch's right away."""
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
