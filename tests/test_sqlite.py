"""What only the SQLite store has: a file that persists, its schema, and other processes."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

import builders as b
from conftest import OPERATOR
from provisioning import Conflict, Context, CreateAccount, queries, run
from provisioning.adapters.sqlite import SCHEMA_VERSION, SqliteStore
from provisioning.exceptions import StoreError


def test_data_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    ctx = Context.open(path)
    account = run(ctx, OPERATOR, CreateAccount(name="Acme"))
    ctx.store.close()  # type: ignore[attr-defined]
    again = Context.open(path)
    assert queries.get_account(again, OPERATOR, account.id) == account
    assert queries.get_account(again, OPERATOR, account.id).created_at == account.created_at


def test_the_file_is_in_wal_mode_with_its_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    SqliteStore(path).close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        indexes = {
            row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        assert {"unique_keys_owner", "index_keys_lookup"} <= indexes
    finally:
        raw.close()


def test_the_database_itself_refuses_a_duplicate_address(tmp_path: Path) -> None:
    # Even a writer that bypasses the repositories cannot put a second holder in unique_keys.
    path = tmp_path / "tenants.db"
    with SqliteStore(path) as store, store.unit_of_work() as uow:
        uow.users.add(b.user("u-1", "ann@acme.example"))
        uow.commit()
    raw = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            raw.execute(
                "INSERT INTO unique_keys (namespace, value, owner) VALUES (?, ?, ?)",
                ("user.address", "ann@acme.example", "u-2"),
            )
    finally:
        raw.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError) as caught:
        SqliteStore(path)
    assert caught.value.code == "store.schema_newer"


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    path.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(StoreError) as caught:
        SqliteStore(path)
    assert caught.value.code == "store.corrupt"


def test_a_database_locked_for_too_long_is_reported_not_crashed_on(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    first = SqliteStore(path)
    second = SqliteStore(path, timeout=0.05)
    try:
        with first.unit_of_work():
            with pytest.raises(StoreError) as caught, second.unit_of_work():
                pass
            assert caught.value.code == "store.unavailable"
        with second.unit_of_work() as uow:  # usable once the lock is gone
            assert uow.accounts.count() == 0
    finally:
        first.close()
        second.close()


def test_two_stores_on_one_file_keep_addresses_unique(tmp_path: Path) -> None:
    # Two connections stand in for two processes sharing one database file.
    path = tmp_path / "tenants.db"
    stores = [SqliteStore(path), SqliteStore(path)]
    barrier = threading.Barrier(len(stores))
    results: list[str] = []

    def claim(n: int) -> None:
        barrier.wait()
        try:
            with stores[n].unit_of_work() as uow:
                uow.users.add(b.user(f"u-{n}", "sales@acme.example"))
                uow.commit()
            results.append("won")
        except Conflict as conflict:
            results.append(conflict.code)

    workers = [threading.Thread(target=claim, args=(n,)) for n in range(len(stores))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for store in stores:
        store.close()
    assert sorted(results) == ["address.taken", "won"]


def test_an_in_memory_database_works_for_quick_experiments() -> None:
    ctx = Context.open(":memory:")
    account = run(ctx, OPERATOR, CreateAccount(name="Acme"))
    assert queries.get_account(ctx, OPERATOR, account.id).name == "Acme"
