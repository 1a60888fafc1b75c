"""Stored secrets sealed with the application's key (issue 10, item 8)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import FAST_HASHER, OPERATOR, active_domain, empty_postgres
from provisioning import (
    Actor,
    Authenticate,
    Context,
    CreateAccount,
    CreateUser,
    EnrollMfa,
    FinalizeMfa,
    StoreError,
    UsageError,
    run,
)
from provisioning.adapters.memory import FixedClock, MemoryDns
from provisioning.adapters.sql import PostgresStore, SqliteStore
from provisioning.adapters.sql import _store as sql_store
from provisioning.security import AesGcmSealer, Totp

PASSWORD = "Quiet-Harbour-Lights-72"
OLD_KEY = AesGcmSealer.new_key()
NEW_KEY = AesGcmSealer.new_key()


def _context(path: Path, clock: FixedClock, dns: MemoryDns, key: str | None) -> Context:
    sealer = AesGcmSealer(key) if key is not None else None
    return Context(store=SqliteStore(path, sealer=sealer), clock=clock, dns=dns, hasher=FAST_HASHER)


def _tenant(ctx: Context, dns: MemoryDns, clock: FixedClock) -> tuple[str, Totp]:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    active_domain(ctx, dns, "acme", "acme.example", admin_email="it@home.example")
    user = run(
        ctx,
        OPERATOR,
        CreateUser(
            account_id="acme",
            username="ann@acme.example",
            password=PASSWORD,
            password_repeat=PASSWORD,
        ),
    )
    enrollment = run(ctx, Actor.user(user.id), EnrollMfa(user_id=user.id))
    totp = Totp(enrollment.secret)
    run(ctx, Actor.user(user.id), FinalizeMfa(user_id=user.id, code=totp.code(clock.now())))
    return user.id, totp


def _stored(path: Path, user_id: str) -> dict[str, str]:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as sql:
        row = sql.execute(
            sa.text("SELECT mfa_secret, credentials_password_hash FROM users WHERE id = :id"),
            {"id": user_id},
        ).one()
    engine.dispose()
    return {"mfa_secret": row[0], "password_hash": row[1]}


def _sign_in(ctx: Context, totp: Totp, clock: FixedClock) -> str:
    clock.advance(seconds=30)
    done = run(
        ctx,
        Actor.anonymous(),
        Authenticate(username="ann@acme.example", password=PASSWORD, code=totp.code(clock.now())),
    )
    return done.user_id


def test_secrets_are_sealed_in_the_file_and_open_in_the_store(
    tmp_path: Path, clock: FixedClock, dns: MemoryDns
) -> None:
    path = tmp_path / "sealed.db"
    ctx = _context(path, clock, dns, OLD_KEY)
    user_id, totp = _tenant(ctx, dns, clock)
    stored = _stored(path, user_id)
    assert stored["mfa_secret"].startswith("sealed:v1:")
    assert totp.secret not in stored["mfa_secret"]
    assert stored["password_hash"].startswith("sealed:v1:")
    assert "argon2" not in stored["password_hash"]
    assert _sign_in(ctx, totp, clock) == user_id
    ctx.store.close()  # type: ignore[attr-defined]


def test_without_the_key_a_sealed_store_says_so(
    tmp_path: Path, clock: FixedClock, dns: MemoryDns
) -> None:
    path = tmp_path / "sealed.db"
    ctx = _context(path, clock, dns, OLD_KEY)
    user_id, _ = _tenant(ctx, dns, clock)
    ctx.store.close()  # type: ignore[attr-defined]
    with pytest.raises(StoreError) as refused:
        _context(path, clock, dns, None)  # a sealed store does not open without its sealer
    assert refused.value.code == "store.key_missing"
    other = _context(path, clock, dns, NEW_KEY)
    with pytest.raises(StoreError) as caught, other.store.snapshot() as snapshot:
        snapshot.users.get(user_id)
    assert caught.value.code == "store.key_missing"
    other.store.close()  # type: ignore[attr-defined]


def test_a_sealed_secret_moved_to_another_user_does_not_open(
    tmp_path: Path, clock: FixedClock, dns: MemoryDns
) -> None:
    path = tmp_path / "sealed.db"
    ctx = _context(path, clock, dns, OLD_KEY)
    user_id, _ = _tenant(ctx, dns, clock)
    other = run(ctx, OPERATOR, CreateUser(account_id="acme", username="bob@acme.example"))
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as sql:
        sql.execute(
            sa.text(
                "UPDATE users SET mfa_secret = (SELECT mfa_secret FROM users WHERE id = :a)"
                " WHERE id = :b"
            ),
            {"a": user_id, "b": other.id},
        )
    engine.dispose()
    with pytest.raises(StoreError) as caught, ctx.store.snapshot() as snapshot:
        snapshot.users.get(other.id)
    assert caught.value.code == "store.secret_corrupt"
    ctx.store.close()  # type: ignore[attr-defined]


def test_rotating_the_key_reseals_every_secret(
    tmp_path: Path, clock: FixedClock, dns: MemoryDns
) -> None:
    path = tmp_path / "sealed.db"
    ctx = _context(path, clock, dns, OLD_KEY)
    user_id, totp = _tenant(ctx, dns, clock)
    ctx.store.close()  # type: ignore[attr-defined]
    rotated = SqliteStore(path, sealer=AesGcmSealer(NEW_KEY, previous=[OLD_KEY]))
    assert rotated.reseal() == 2  # ann (hash and TOTP secret), postmaster@ (its link's hash)
    assert rotated.reseal() == 0
    rotated.close()
    ctx = _context(path, clock, dns, NEW_KEY)  # the old key is not needed any more
    assert _sign_in(ctx, totp, clock) == user_id
    ctx.store.close()  # type: ignore[attr-defined]
    with pytest.raises(UsageError) as caught:
        SqliteStore(tmp_path / "plain.db", sealer=None).reseal()
    assert caught.value.code == "store.no_sealer"


def test_an_unsealed_store_says_so_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sql_store._UNSEALED_SAID.clear()
    with caplog.at_level(logging.WARNING, logger="provisioning"):
        SqliteStore(tmp_path / "one.db").close()
        SqliteStore(tmp_path / "two.db").close()
    said = [r for r in caplog.records if getattr(r, "event", None) == "store.unsealed"]
    assert len(said) == 1


def test_postgresql_seals_and_opens_the_same_way(
    postgres_url: str, clock: FixedClock, dns: MemoryDns
) -> None:
    empty_postgres(postgres_url).close()
    store = PostgresStore(postgres_url, sealer=AesGcmSealer(OLD_KEY))
    ctx = Context(store=store, clock=clock, dns=dns, hasher=FAST_HASHER)
    user_id, totp = _tenant(ctx, dns, clock)
    with store.engine.connect() as sql:
        stored = sql.execute(
            sa.text("SELECT mfa_secret FROM users WHERE id = :id"), {"id": user_id}
        ).scalar_one()
    assert stored.startswith("sealed:v1:")
    assert totp.secret not in stored
    assert _sign_in(ctx, totp, clock) == user_id
    store.close()


# --- a plain value written past the library into a sealed store (issue 24, item 8) ---------


def _write_plain_hash(engine: sa.Engine, user_id: str) -> None:
    """What an intruder who can write to the database does: a hash of a password it knows."""
    with engine.begin() as sql:
        sql.execute(
            sa.text("UPDATE users SET credentials_password_hash = :hash WHERE id = :id"),
            {"hash": FAST_HASHER.hash("Intruder-Chosen-Pass-1"), "id": user_id},
        )


def _intruder_signs_in(ctx: Context) -> str:
    try:
        run(
            ctx,
            Actor.anonymous(),
            Authenticate(username="ann@acme.example", password="Intruder-Chosen-Pass-1"),
        )
    except StoreError as refused:
        return refused.code
    return "signed in"


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_sealed_store_refuses_a_plain_secret_written_into_it(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, dns: MemoryDns, kind: str
) -> None:
    sealer = AesGcmSealer(OLD_KEY)
    if kind == "sqlite":
        store: sql_store.SqlStore = SqliteStore(tmp_path / "sealed.db", sealer=sealer)
    else:
        store = empty_postgres(request.getfixturevalue("postgres_url"), sealer=sealer)
    ctx = Context(store=store, clock=clock, dns=dns, hasher=FAST_HASHER)
    user_id, _ = _tenant(ctx, dns, clock)
    _write_plain_hash(store.engine, user_id)
    assert _intruder_signs_in(ctx) == "store.secret_unsealed"
    store.close()


def test_an_unsealed_store_given_a_key_reads_its_plain_secrets_until_resealed(
    tmp_path: Path, clock: FixedClock, dns: MemoryDns
) -> None:
    path = tmp_path / "old.db"
    ctx = _context(path, clock, dns, None)
    user_id, totp = _tenant(ctx, dns, clock)
    ctx.store.close()  # type: ignore[attr-defined]
    ctx = _context(path, clock, dns, OLD_KEY)  # plain secrets: read as they are
    assert _sign_in(ctx, totp, clock) == user_id
    store = ctx.store
    assert isinstance(store, SqliteStore)
    assert store.reseal() >= 1
    _write_plain_hash(store.engine, user_id)  # sealed throughout from now on
    assert _intruder_signs_in(ctx) == "store.secret_unsealed"
    store.close()
    reopened = _context(path, clock, dns, OLD_KEY)
    assert _intruder_signs_in(reopened) == "store.secret_unsealed"
    reopened.store.close()  # type: ignore[attr-defined]
