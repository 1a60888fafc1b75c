"""Composition: the one module that names concrete adapters.

A `Context` is the store and the ports a workflow runs with. Every port has a
default that suits a notebook; an application passes its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypedDict, Unpack

import attrs

from provisioning.adapters.memory import MemoryStore, Outbox
from provisioning.adapters.sql import PostgresStore, SqliteStore, redacted
from provisioning.adapters.system import SystemClock, SystemDns, SystemTokens, TimeOrderedIds
from provisioning.exceptions import StoreError
from provisioning.ports import (
    Clock,
    DnsResolver,
    IdSource,
    Notifier,
    PasswordHasher,
    Sealer,
    Store,
    TokenSource,
)
from provisioning.security import Argon2Hasher
from provisioning.services import HANDLERS, PREFETCH, Handler, Prefetch

__all__ = ["Context", "Ports"]


class Ports(TypedDict, total=False):
    """The ports a `Context` can be given besides its store (each has a default)."""

    clock: Clock
    ids: IdSource
    notifier: Notifier
    tokens: TokenSource
    dns: DnsResolver
    hasher: PasswordHasher
    handlers: Mapping[type, Handler]
    prefetch: Mapping[type, Prefetch]
    fresh_for: timedelta


@attrs.frozen(kw_only=True)
class Context:
    """The store and ports a workflow runs with.

    The defaults suit a notebook: the system clock, time-ordered UUIDs, an
    in-memory `Outbox` that keeps the latest notifications, tokens from the
    operating system's random source, DNS through dnspython and argon2id
    password hashing. `handlers` maps each command type to its handler (and
    `prefetch` to what a batch of them reads in one go); an embedding
    application may pass a copy of `provisioning.services.HANDLERS` extended
    with commands of its own, which then take the same plan/apply road.
    `fresh_for` is how long a plan stays fresh: `apply` writes a fresh plan's
    changes without validating it again when the store has not changed.

    Examples:
        >>> ctx = Context.in_memory()
        >>> type(ctx.notifier).__name__
        'Outbox'
    """

    store: Store
    clock: Clock = attrs.field(factory=SystemClock)
    ids: IdSource = attrs.field(factory=TimeOrderedIds)
    notifier: Notifier = attrs.field(factory=Outbox)
    tokens: TokenSource = attrs.field(factory=SystemTokens)
    dns: DnsResolver = attrs.field(factory=SystemDns)
    hasher: PasswordHasher = attrs.field(factory=Argon2Hasher)
    handlers: Mapping[type, Handler] = HANDLERS
    prefetch: Mapping[type, Prefetch] = PREFETCH
    fresh_for: timedelta = timedelta(minutes=15)

    @classmethod
    def in_memory(cls, **ports: Unpack[Ports]) -> Context:
        """A context over a new, empty `MemoryStore`; `ports` replace the defaults."""
        return cls(store=MemoryStore(), **ports)

    @classmethod
    def open(
        cls,
        where: str | Path,
        *,
        sealer: Sealer | None = None,
        upgrade: bool = True,
        **ports: Unpack[Ports],
    ) -> Context:
        """A context over a SQL store, created and migrated if need be.

        `where` is a SQLite file (created if missing) or a `postgresql://`
        URL (with `provisioning[postgres]` installed). `sealer` (an
        `AesGcmSealer` with the application's key) seals the secrets the
        store keeps; without it they are stored unsealed, which the library
        says once through `logging`. With `upgrade=False` a database of an
        older schema is refused (`StoreError` `store.schema_older`) instead
        of migrated; a new one is still created.
        """
        if isinstance(where, str) and where.startswith(("postgresql://", "postgres://")):
            return cls(store=PostgresStore(where, sealer=sealer, upgrade=upgrade), **ports)
        if isinstance(where, str) and "://" in where:
            raise StoreError(
                code="store.url_invalid",
                path=redacted(where),
                reason="a store is a SQLite file or a postgresql:// URL",
            )
        return cls(store=SqliteStore(where, sealer=sealer, upgrade=upgrade), **ports)

    def __repr__(self) -> str:
        names: dict[str, Any] = {"store": self.store, "clock": self.clock, "hasher": self.hasher}
        return "Context(" + ", ".join(f"{k}={type(v).__name__}" for k, v in names.items()) + ")"
