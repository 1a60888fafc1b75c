"""Fixtures shared by the test-suite: every store-facing test runs on both stores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from provisioning import ActivateDomain, Actor, AddDomain, Context, VerifyDomain, run
from provisioning.adapters.memory import (
    FixedClock,
    MemoryDns,
    MemoryStore,
    Outbox,
    SequentialIds,
    SequentialTokens,
)
from provisioning.adapters.sqlite import SqliteStore
from provisioning.model import Domain
from provisioning.ports import Store
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


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A new, empty store of each kind."""
    if request.param == "memory":
        yield MemoryStore()
    else:
        sqlite = SqliteStore(tmp_path / "provisioning.db")
        yield sqlite
        sqlite.close()


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
