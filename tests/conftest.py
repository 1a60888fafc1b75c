"""Fixtures shared by the test-suite: every store-facing test runs on both stores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

import pg_server
from provisioning import (
    ActivateDomain,
    Actor,
    AddDomain,
    Context,
    CreateAccount,
    VerifyDomain,
    run,
)
from provisioning.adapters.memory import (
    FixedClock,
    MemoryDns,
    MemoryStore,
    Outbox,
    SequentialIds,
    SequentialTokens,
)
from provisioning.adapters.sql import METADATA, PostgresStore, SqliteStore
from provisioning.model import Domain
from provisioning.ports import Sealer, Store
from provisioning.security import Argon2Hasher

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
OPERATOR = Actor.platform("ops")
# argon2id all the same, with parameters light enough for a test-suite.
FAST_HASHER = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database the tests may empty at will.

    `PROVISIONING_TEST_POSTGRES` names a server; without it a throwaway one
    is started when PostgreSQL is installed. In CI the PostgreSQL tests must
    run, so a missing server fails them instead of skipping them.
    """
    url = os.environ.get("PROVISIONING_TEST_POSTGRES")
    server = None
    if not url:
        server = pg_server.start()
        if server is None:
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL is not installed: in CI its tests must run")
            pytest.skip("PostgreSQL is not installed (set PROVISIONING_TEST_POSTGRES)")
        url = server.url
    admin = sa.create_engine(sa.engine.make_url(url).set(drivername="postgresql+psycopg"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as sql:
        sql.exec_driver_sql("DROP DATABASE IF EXISTS provisioning_test WITH (FORCE)")
        sql.exec_driver_sql("CREATE DATABASE provisioning_test")
    admin.dispose()
    test_url = sa.engine.make_url(url).set(database="provisioning_test")
    yield test_url.render_as_string(hide_password=False)
    if server is not None:
        server.stop()


def empty_postgres(url: str, *, sealer: Sealer | None = None) -> PostgresStore:
    """A store over the test database, emptied of everything a test left behind.

    It is emptied before it is opened: a test may have left it sealed.
    """
    engine = sa.create_engine(sa.engine.make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as sql:
        if sa.inspect(sql).has_table("provisioning_meta"):
            names = ", ".join(
                t.name for t in METADATA.sorted_tables if t.name != "provisioning_meta"
            )
            sql.exec_driver_sql(f"TRUNCATE {names}")
            sql.exec_driver_sql("DELETE FROM provisioning_meta")
            sql.exec_driver_sql("ALTER SEQUENCE audit_events_seq RESTART")
    engine.dispose()
    return PostgresStore(url, sealer=sealer)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A new, empty store of each kind."""
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        sqlite = SqliteStore(tmp_path / "provisioning.db")
        yield sqlite
        sqlite.close()
    else:
        postgres = empty_postgres(request.getfixturevalue("postgres_url"))
        yield postgres
        postgres.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def dns() -> MemoryDns:
    return MemoryDns()


@pytest.fixture
def ctx(store: Store, clock: FixedClock, outbox: Outbox, dns: MemoryDns) -> Context:
    """A deterministic context over each store."""
    return Context(
        store=store,
        clock=clock,
        ids=SequentialIds(),
        notifier=outbox,
        tokens=SequentialTokens(),
        dns=dns,
        hasher=FAST_HASHER,
    )


def active_domain(ctx: Context, dns: MemoryDns, account: str, name: str, **options: Any) -> Domain:
    """Add, verify (through `dns`) and activate a domain, as the operator."""
    domain: Domain = run(ctx, OPERATOR, AddDomain(account_id=account, name=name, **options))
    dns.publish(name, domain.verification_token)
    run(ctx, OPERATOR, VerifyDomain(domain_id=domain.id))
    active: Domain = run(ctx, OPERATOR, ActivateDomain(domain_id=domain.id))
    return active


@pytest.fixture
def acme(ctx: Context, dns: MemoryDns) -> Context:
    """The account Acme with its active domain acme.example (a module may have its own)."""
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    active_domain(ctx, dns, "acme", "acme.example", admin_email="it@holding.example")
    return ctx
