"""Composition: the one module that names concrete adapters.

A `Context` is the store and the ports a workflow runs with. Every port has a
default that suits a notebook; an application passes its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, TypedDict, Unpack

import attrs

from provisioning.adapters.memory import MemoryStore, Outbox
from provisioning.adapters.sql import (
    UNREADABLE_URL,
    PostgresStore,
    SqliteStore,
    redacted,
)
from provisioning.adapters.system import SystemClock, SystemDns, SystemTokens, TimeOrderedIds
from provisioning.errors import StoreError, codes
from provisioning.handlers import GUESSES, HANDLERS, PREFETCH, GuessRule, Handler, Prefetch
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
from provisioning.security import AesGcmSealer, Argon2Hasher

__all__ = ["Context", "Ports"]

CODES: Final = codes(
    invalid=("store.url_invalid",),
    unavailable=(
        "store.key_invalid",
        "store.key_required",
        "store.key_unreadable",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


class Ports(TypedDict, total=False):
    """The ports a `Context` can be given besides its store (each has a default)."""

    clock: Clock
    ids: IdSource
    notifier: Notifier | None
    tokens: TokenSource
    dns: DnsResolver
    hasher: PasswordHasher
    handlers: Mapping[type, Handler]
    prefetch: Mapping[type, Prefetch]
    guesses: Mapping[type, GuessRule]
    fresh_for: timedelta


@attrs.frozen(kw_only=True)
class Context:
    """The store and ports a workflow runs with.

    The defaults suit a notebook: the system clock, time-ordered UUIDs,
    tokens from the operating system's random source, DNS through dnspython
    and argon2id password hashing. Messages wait in the store's outbox until
    `deliver` sends them; with a `notifier`, `apply` delivers a batch's
    messages through it right after the batch commits (and those it cannot
    deliver wait in the outbox). `Context.in_memory()` gives the in-memory
    `Outbox` fake, which keeps what it is sent for a test or a notebook to
    look into. `handlers` maps each command type to its handler (and
    `prefetch` to what a batch of them reads in one go, `guesses` to the
    guess at a secret that is counted before such a command is checked); an
    embedding application may pass a copy of `provisioning.handlers.HANDLERS`
    extended with commands of its own, which then take the same plan/apply
    road.
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
    notifier: Notifier | None = None
    tokens: TokenSource = attrs.field(factory=SystemTokens)
    dns: DnsResolver = attrs.field(factory=SystemDns)
    hasher: PasswordHasher = attrs.field(factory=Argon2Hasher)
    handlers: Mapping[type, Handler] = HANDLERS
    prefetch: Mapping[type, Prefetch] = PREFETCH
    guesses: Mapping[type, GuessRule] = GUESSES
    fresh_for: timedelta = timedelta(minutes=15)

    @classmethod
    def in_memory(cls, **ports: Unpack[Ports]) -> Context:
        """A context over a new, empty `MemoryStore`; `ports` replace the defaults.

        Its notifier is the in-memory `Outbox` fake unless `notifier` says
        otherwise (`notifier=None`: messages wait in the store's outbox).
        """
        ports.setdefault("notifier", Outbox())
        return cls(store=MemoryStore(), **ports)

    @classmethod
    def open(
        cls,
        where: str | Path,
        *,
        sealer: Sealer | None = None,
        sealed: bool = True,
        upgrade: bool = True,
        **ports: Unpack[Ports],
    ) -> Context:
        """A context over a SQL store, created and migrated if need be.

        `where` is a SQLite file (created if missing) or a `postgresql://`
        URL (with `provisioning[postgres]` installed). The secrets the store
        keeps are sealed with `sealer` (an `AesGcmSealer` with the
        application's key). Without one they are sealed by default, with the
        key in the environment variable `PROVISIONING_SEALING_KEY` or, for a
        SQLite file created here, a key file beside it (`tenants.db.key`,
        readable by its owner alone); PostgreSQL needs the key
        (`store.key_required`). A SQLite file made before without a key file
        stays unsealed, as does any store opened with `sealed=False`; the
        library says so once through `logging`. With `upgrade=False` a
        database of an older schema is refused (`StoreError`
        `store.schema_older`) instead of migrated; a new one is still created.
        Messages wait in the store's outbox for `deliver`, unless a
        `notifier` is given.
        """
        if isinstance(where, str) and where.startswith(("postgresql://", "postgres://")):
            if sealer is None and sealed:
                sealer = _environment_sealer(where)
            return cls(store=PostgresStore(where, sealer=sealer, upgrade=upgrade), **ports)
        if isinstance(where, str) and "://" in where:
            raise StoreError(
                code="store.url_invalid",
                path=redacted(where),
                reason="a store is a SQLite file or a postgresql:// URL",
            )
        if sealer is None and sealed:
            sealer = _file_sealer(where)
        return cls(store=SqliteStore(where, sealer=sealer, upgrade=upgrade), **ports)

    def __repr__(self) -> str:
        names: dict[str, Any] = {"store": self.store, "clock": self.clock, "hasher": self.hasher}
        return "Context(" + ", ".join(f"{k}={type(v).__name__}" for k, v in names.items()) + ")"


SEALING_KEY_VARIABLE = "PROVISIONING_SEALING_KEY"
"""The environment variable `Context.open` reads a store's sealing key from."""


def _environment_sealer(url: str) -> Sealer | None:
    key = os.environ.get(SEALING_KEY_VARIABLE)
    if not key and redacted(url) == UNREADABLE_URL:
        return None  # the store says what is wrong with the URL first
    if not key:
        raise StoreError(
            code="store.key_required",
            path=redacted(url),
            reason=f"a PostgreSQL store seals its secrets: set {SEALING_KEY_VARIABLE} to its key"
            " (AesGcmSealer.new_key()), pass a sealer, or open it with sealed=False",
        )
    return _sealer_of(key, url)


def _sealer_of(key: str, where: str) -> Sealer:
    try:
        return AesGcmSealer(key.strip())
    except (ValueError, TypeError):
        raise StoreError(
            code="store.key_invalid",
            path=redacted(where),
            reason="the sealing key is not an AES key in URL-safe base64 (AesGcmSealer.new_key())",
        ) from None


def _file_sealer(where: str | Path) -> Sealer | None:
    """The sealer of a SQLite store: the environment's key, its key file, or a new one.

    A new database gets a new key in a file beside it, readable by its owner
    alone; a database made before without one stays unsealed (None).
    """
    key = os.environ.get(SEALING_KEY_VARIABLE)
    if key:
        return _sealer_of(key, str(where))
    if str(where) == ":memory:":
        return AesGcmSealer(AesGcmSealer.new_key())  # gone with the process, like the data
    path = Path(where)
    key_file = path.with_name(path.name + ".key")
    try:
        if key_file.exists():
            return _sealer_of(key_file.read_text(encoding="ascii"), str(key_file))
        if path.exists() and path.stat().st_size > 0:
            return None  # made unsealed before: `reseal` with a sealer seals it
        key = AesGcmSealer.new_key()
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as written:
            written.write(key + "\n")
        return AesGcmSealer(key)
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(
            code="store.key_unreadable",
            path=str(key_file),
            reason=f"the store's key file cannot be read or made: {exc}",
        ) from exc
