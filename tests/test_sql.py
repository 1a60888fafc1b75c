"""What only the SQL stores have: files that persist, migrations, constraints, other processes."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from conftest import OPERATOR, empty_postgres
from provisioning import (
    Actor,
    Authenticate,
    Conflict,
    Context,
    CreateAccount,
    apply,
    plan,
    queries,
    run,
)
from provisioning.adapters.sql import (
    METADATA,
    PostgresStore,
    SqliteStore,
    SqlStore,
    migrations,
    redacted,
)
from provisioning.adapters.sql import _store as sql_adapter
from provisioning.errors import StoreError
from provisioning.model import EmailAddress
from provisioning.storage import TABLES, Change, TableChanges
from provisioning.testing import builders as b


def _is_ours(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
    del obj, reflected, other
    # The search indexes are the migrations' own (FTS5 on SQLite, trigram GIN on PostgreSQL).
    if kind == "table" and name is not None and name.startswith("users_search"):
        return False
    if kind == "index" and name == "ix_users_id_folded":  # an expression: not reflected
        return False
    return not (kind == "index" and name is not None and name.endswith("_trgm"))


def _migrated(engine: sa.Engine, revision: str = "head") -> None:
    with engine.begin() as sql:
        settings = migrations.config()
        settings.attributes["connection"] = sql
        command.upgrade(settings, revision)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An engine on an empty database of each SQL kind."""
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    else:
        url = sa.engine.make_url(request.getfixturevalue("postgres_url"))
        admin = sa.create_engine(url.set(drivername="postgresql+psycopg"))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as sql:
            sql.exec_driver_sql("DROP DATABASE IF EXISTS provisioning_migrations WITH (FORCE)")
            sql.exec_driver_sql("CREATE DATABASE provisioning_migrations")
        admin.dispose()
        engine = sa.create_engine(
            url.set(drivername="postgresql+psycopg", database="provisioning_migrations")
        )
    yield engine
    engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
)
def test_the_migrations_build_exactly_the_schema_the_code_declares(empty_engine: sa.Engine) -> None:
    _migrated(empty_engine)
    with empty_engine.connect() as sql:
        context = MigrationContext.configure(
            sql, opts={"compare_type": True, "include_object": _is_ours}
        )
        assert _renamed_references_dropped(compare_metadata(context, METADATA)) == []
        assert migrations.revision(sql) == migrations.head()
        indexes = {i["name"] for i in sa.inspect(sql).get_indexes("users")}
        assert {"ix_users_id_folded", "ix_users_full_name_trgm"} & indexes or (
            empty_engine.dialect.name == "sqlite"  # SQLite does not list expression indexes here
            and sql.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'ix_users_id_folded'"
            ).one()
        )


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_a_new_database_gets_the_same_schema_as_a_migrated_one(tmp_path: Path) -> None:
    migrated = sa.create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    _migrated(migrated)
    SqliteStore(tmp_path / "created.db").close()
    created = sa.create_engine(f"sqlite:///{tmp_path / 'created.db'}")
    assert _described(migrated) == _described(created)


def _reference(fk: sa.ForeignKeyConstraint) -> tuple[str, tuple[str, ...], str]:
    return (fk.table.name, tuple(c.name for c in fk.columns), fk.referred_table.name)


def _renamed_references_dropped(diffs: list[Any]) -> list[Any]:
    """The differences, less a reference that differs only by an unnamed twin.

    SQLite adds a reference to an existing table only with a new column, and
    does not report the name such a reference was given; the reference is
    the same.
    """
    removed = {_reference(d[1]) for d in diffs if d[0] == "remove_fk" and d[1].name is None}
    added = {_reference(d[1]) for d in diffs if d[0] == "add_fk"}
    twins = removed & added
    return [d for d in diffs if not (d[0] in {"remove_fk", "add_fk"} and _reference(d[1]) in twins)]


def _described(engine: sa.Engine) -> dict[str, Any]:
    """A database's schema, without what is cosmetic: the order of columns and clauses.

    Columns a migration added come last and carry the server default that
    filled the rows already there; a new database lists them in the model's
    order. Tables are compared column by column, everything else by its SQL.
    """
    query = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    described: dict[str, Any] = {}
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        for kind, name, sql in connection.exec_driver_sql(query).all():
            if kind == "table" and not (sql or "").startswith("CREATE VIRTUAL"):
                described[name] = (
                    sorted(
                        (c["name"], str(c["type"]), c["nullable"])
                        for c in inspector.get_columns(name)
                    ),
                    sorted(str(c["sqltext"]) for c in inspector.get_check_constraints(name)),
                    sorted(  # by what they refer to: see _renamed_references_dropped
                        (tuple(k["constrained_columns"]), k["referred_table"])
                        for k in inspector.get_foreign_keys(name)
                    ),
                    sorted(
                        (str(u["name"]), tuple(u["column_names"]))
                        for u in inspector.get_unique_constraints(name)
                    ),
                    inspector.get_pk_constraint(name)["constrained_columns"],
                )
            else:
                described[name] = (kind, sql)
    return described


def test_a_database_at_the_first_revision_with_data_is_upgraded_and_read_back(
    empty_engine: sa.Engine,
) -> None:
    _migrated(empty_engine, "0001")
    with empty_engine.begin() as sql:
        sql.exec_driver_sql(
            "INSERT INTO accounts (id, name, created_at, personal_mailbox_on_create,"
            " domain_policy_allowed_tlds, password_policy_min_length, password_policy_max_length,"
            " password_policy_forbid_username, password_policy_forbid_common, version, name_key)"
            " VALUES ('acme', 'Acme', '2026-01-05 09:00:00+00:00', false, '[]', 12, 128, true,"
            " true, 1, 'acme')"
        )
    url = empty_engine.url.render_as_string(hide_password=False)
    if empty_engine.dialect.name == "sqlite":
        store: SqlStore = SqliteStore(empty_engine.url.database or "")
    else:
        store = PostgresStore(url)
    try:
        ctx = Context(store=store)
        account = queries.get_account(ctx, OPERATOR, "acme")
        assert account.name == "Acme"
        # An account stored before accounts had classes of service of their own gets both.
        own = {c.id: c for c in queries.classes_of_service(ctx, OPERATOR, "acme")}
        assert own[account.default_cos_id or ""].name == "Users"
        assert own[account.admin_cos_id or ""].admin_panel
        with empty_engine.connect() as sql:
            assert migrations.revision(sql) == migrations.head()
        run(ctx, OPERATOR, CreateAccount(name="Globex"))
    finally:
        store.close()


def test_an_older_database_is_refused_without_upgrade_naming_both_revisions(
    tmp_path: Path,
) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    _migrated(engine, "0001")
    engine.dispose()
    with pytest.raises(StoreError) as caught:
        SqliteStore(tmp_path / "old.db", upgrade=False)
    assert caught.value.code == "store.schema_older"
    assert "0001" in caught.value.reason
    assert migrations.head() in caught.value.reason


@pytest.mark.parametrize(
    "url", ["postgresql://ann:sekret@db:port/x", "postgresql://ann:sekret@[::1/x"]
)
def test_a_store_url_that_does_not_parse_is_a_store_error_without_its_password(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        PostgresStore(url)
    assert caught.value.code == "store.url_invalid"
    assert "sekret" not in str(caught.value)
    assert redacted("postgresql://ann:sekret@db:5432/x") == "postgresql://ann:***@db:5432/x"
    assert redacted("tenants.db") == "tenants.db"
    assert redacted("mysql://u:sekret@h/db") == "mysql://u:***@h/db"
    for leaky in (
        "postgresql://db/x?password=sekret",
        "postgresql://ann@db/x?sslpassword=sekret&password=sekret",
        "host=db password=sekret dbname=x",
        "host=db password='se kret' dbname=x",
    ):
        assert "sekret" not in redacted(leaky), leaky
        assert "kret" not in redacted(leaky), leaky
    with pytest.raises(StoreError) as refused:
        Context.open("mysql://u:sekret@h/db")
    assert refused.value.code == "store.url_invalid"
    assert "sekret" not in str(refused.value)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    SqliteStore(path).close()
    raw = sqlite3.connect(path)
    raw.execute("UPDATE alembic_version SET version_num = '9999'")
    raw.commit()
    raw.close()
    with pytest.raises(StoreError) as caught:
        SqliteStore(path)
    assert caught.value.code == "store.schema_newer"


def test_a_database_with_foreign_tables_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE unique_keys (namespace TEXT, value TEXT, owner TEXT)")
    raw.close()
    with pytest.raises(StoreError) as caught:
        SqliteStore(path)
    assert caught.value.code == "store.schema_unknown"


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    path.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(StoreError) as caught:
        SqliteStore(path)
    assert caught.value.code == "store.corrupt"
    assert isinstance(caught.value.__cause__, Exception)


def test_data_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    ctx = Context.open(path)
    account = run(ctx, OPERATOR, CreateAccount(name="Acme"))
    ctx.store.close()  # type: ignore[attr-defined]
    again = Context.open(path)
    assert queries.get_account(again, OPERATOR, account.id) == account
    assert queries.get_account(again, OPERATOR, account.id).created_at == account.created_at


def test_the_file_is_in_wal_mode_and_at_the_head_revision(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    SqliteStore(path).close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == (
            migrations.head(),
        )
    finally:
        raw.close()


def test_the_database_itself_refuses_a_second_holder_of_an_address(store_engine: sa.Engine) -> None:
    with store_engine.begin() as sql, pytest.raises(sa.exc.IntegrityError):
        sql.exec_driver_sql(
            "INSERT INTO addresses (address, user_id, kind, domain)"
            " VALUES ('ann@acme.example', 'u-1', 'alias', 'acme.example')"
        )


def test_the_database_itself_refuses_a_dangling_reference(store_engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), store_engine.begin() as sql:
        sql.exec_driver_sql("DELETE FROM accounts WHERE id = 'a-1'")


def test_the_database_itself_refuses_an_unknown_status(store_engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), store_engine.begin() as sql:
        sql.exec_driver_sql("UPDATE users SET status = 'sleeping'")


@pytest.fixture(params=["sqlite", "postgres"])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A SQL store of each kind holding one user, ann@acme.example of account a-1."""
    if request.param == "sqlite":
        store: SqlStore = SqliteStore(tmp_path / "e.db")
    else:
        store = empty_postgres(request.getfixturevalue("postgres_url"))
    with store.unit_of_work() as uow:
        b.store_with_parents(uow, b.user("u-1", "ann@acme.example"))
        uow.commit()
    yield store
    store.close()


@pytest.fixture
def store_engine(sql_store: SqlStore) -> sa.Engine:
    """The engine of `sql_store`."""
    return sql_store.engine


def test_the_database_itself_keeps_shared_mailboxes_in_the_address_namespace(
    sql_store: SqlStore,
) -> None:
    """Past validation (two workers at once, say), the database refuses a second holder."""
    with sql_store.unit_of_work() as uow, pytest.raises(Conflict) as caught:
        uow.mailboxes.add(b.mailbox("m-1", "ANN@acme.example"))
        uow.commit()
    assert caught.value.code == "address.taken"
    with sql_store.unit_of_work() as uow:
        uow.mailboxes.add(b.mailbox("m-2", "sales@acme.example"))
        uow.commit()
    with sql_store.unit_of_work() as uow, pytest.raises(Conflict) as caught:
        user = uow.users.get("u-1")
        uow.users.update(attrs.evolve(user, aliases=(EmailAddress.parse("sales@acme.example"),)))
        uow.commit()
    assert caught.value.code == "address.taken"
    with sql_store.unit_of_work() as uow:  # a deleted mailbox frees its address
        uow.mailboxes.remove("m-2")
        uow.commit()
    with sql_store.unit_of_work() as uow:
        uow.mailboxes.add(b.mailbox("m-3", "sales@acme.example"))
        uow.commit()


def test_a_database_locked_for_too_long_is_reported_not_crashed_on(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    first = SqliteStore(path)
    second = SqliteStore(path, timeout=0.05)
    try:
        with first.unit_of_work() as holder:
            holder.accounts.add(b.account())  # the write lock is held
            with pytest.raises(StoreError) as caught, second.unit_of_work():
                pass
            assert caught.value.code == "store.unavailable"
        with second.unit_of_work() as uow:  # usable once the lock is gone
            assert uow.accounts.count() == 0
    finally:
        first.close()
        second.close()


def test_two_stores_on_one_file_keep_addresses_unique(tmp_path: Path) -> None:
    path = tmp_path / "tenants.db"
    with SqliteStore(path) as setup, setup.unit_of_work() as uow:
        b.store_with_parents(uow, b.domain())
        uow.commit()
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


def test_a_postgresql_url_opens_a_sealed_postgresql_store(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provisioning.security import AesGcmSealer  # noqa: PLC0415

    monkeypatch.delenv("PROVISIONING_SEALING_KEY", raising=False)
    with pytest.raises(StoreError) as refused:
        Context.open(postgres_url)  # a PostgreSQL store needs its key from outside
    assert refused.value.code == "store.key_required"
    monkeypatch.setenv("PROVISIONING_SEALING_KEY", "not a key")
    with pytest.raises(StoreError) as refused:
        Context.open(postgres_url)
    assert refused.value.code == "store.key_invalid"
    monkeypatch.setenv("PROVISIONING_SEALING_KEY", AesGcmSealer.new_key())
    ctx = Context.open(postgres_url)
    try:
        assert isinstance(ctx.store, PostgresStore)
        assert "provisioning_test" in ctx.store.label
        assert ctx.store.sealer is not None
    finally:
        assert isinstance(ctx.store, PostgresStore)
        ctx.store.close()
    unsealed = Context.open(postgres_url, sealed=False)
    assert isinstance(unsealed.store, PostgresStore)
    assert unsealed.store.sealer is None
    unsealed.store.close()


def test_a_new_sqlite_store_is_sealed_with_a_key_file_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import active_domain  # noqa: PLC0415
    from provisioning import CreateUser  # noqa: PLC0415
    from provisioning.adapters.memory import MemoryDns  # noqa: PLC0415

    monkeypatch.delenv("PROVISIONING_SEALING_KEY", raising=False)
    path = tmp_path / "tenants.db"
    dns = MemoryDns()
    ctx = Context.open(path, dns=dns)
    key_file = tmp_path / "tenants.db.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    active_domain(ctx, dns, "acme", "acme.example", admin_email="it@home.example")
    password = "Blue-Lantern-Walks-42"
    run(
        ctx,
        OPERATOR,
        CreateUser(
            account_id="acme",
            username="ann@acme.example",
            password=password,
            password_repeat=password,
        ),
    )
    assert isinstance(ctx.store, SqliteStore)
    ctx.store.close()
    with sqlite3.connect(path) as raw:
        (stored,) = raw.execute(
            "SELECT credentials_password_hash FROM users WHERE username_key = ?",
            ("ann@acme.example",),
        ).fetchone()
    assert stored.startswith("sealed:v1:")
    again = Context.open(path)  # the key file opens it again
    assert queries.users(again, OPERATOR, "acme", search="ann").total == 1
    assert isinstance(again.store, SqliteStore)
    again.store.close()
    key_file.rename(tmp_path / "elsewhere.key")
    with pytest.raises(StoreError) as refused:  # without its key, no secret is read
        lost = Context.open(path)
        try:
            run(
                lost,
                Actor.anonymous(),
                Authenticate(username="ann@acme.example", password=password),
            )
        finally:
            assert isinstance(lost.store, SqliteStore)
            lost.store.close()
    assert refused.value.code == "store.key_missing"
    # A store made before without a key file stays as it was: unsealed.
    older = tmp_path / "older.db"
    SqliteStore(older).close()
    kept = Context.open(older)
    assert isinstance(kept.store, SqliteStore)
    assert kept.store.sealer is None
    assert not (tmp_path / "older.db.key").exists()
    kept.store.close()


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        PostgresStore("postgresql://ann:hunter2@127.0.0.1:9/nowhere")
    assert caught.value.code == "store.unavailable"
    assert "hunter2" not in str(caught.value)


def stamps_of(ctx: Context) -> dict[str, Any]:
    return {account.id: account.created_at for account in queries.accounts(ctx, OPERATOR)}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_batch_written_in_slices_keeps_its_audit_order_and_its_timestamps(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_adapter, "_SLICE", 2)  # five events in three slices
    if kind == "sqlite":
        store: SqlStore = SqliteStore(tmp_path / "slices.db")
    else:
        store = empty_postgres(request.getfixturevalue("postgres_url"))
    ctx = Context(store=store)
    run(ctx, OPERATOR, CreateAccount(name="First", account_id="first"))
    accounts = [CreateAccount(name=f"Tenant {n}", account_id=f"t{n}") for n in range(5)]
    apply(ctx, plan(ctx, OPERATOR, accounts))
    with store.engine.connect() as sql:
        rows = sql.execute(sa.text("SELECT seq, entity_id FROM audit_events ORDER BY seq")).all()
    first = rows[0][0]
    assert [seq for seq, _ in rows] == list(range(first, first + len(rows)))  # one after another
    accounts_made = [entity for _, entity in rows if entity in stamps_of(ctx)]
    assert accounts_made == ["first", *(f"t{n}" for n in range(5))]
    stamps = stamps_of(ctx)
    assert len({stamps[f"t{n}"] for n in range(5)}) == 1  # one batch, one instant
    assert stamps["first"] != stamps["t0"]  # each converted for itself, not the last one seen
    store.close()


def test_the_tables_read_well_with_plain_sql(store_engine: sa.Engine) -> None:
    with store_engine.connect() as sql:
        row = sql.exec_driver_sql(
            "SELECT u.username, u.status, a.address, a.kind FROM users u"
            " JOIN addresses a ON a.user_id = u.id WHERE u.id = 'u-1'"
        ).one()
    assert tuple(row) == ("ann@acme.example", "active", "ann@acme.example", "username")


def test_a_sqlite_database_made_after_a_postgresql_one_keeps_every_reference(
    postgres_url: str, tmp_path: Path
) -> None:
    """Creating PostgreSQL's tables adds the account's cyclic references by ALTER TABLE."""
    url = sa.engine.make_url(postgres_url)
    admin = sa.create_engine(url.set(drivername="postgresql+psycopg"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as sql:
        sql.exec_driver_sql("DROP DATABASE IF EXISTS provisioning_cycles WITH (FORCE)")
        sql.exec_driver_sql("CREATE DATABASE provisioning_cycles")
    admin.dispose()
    PostgresStore(
        url.set(database="provisioning_cycles").render_as_string(hide_password=False)
    ).close()
    store = SqliteStore(tmp_path / "after.db")
    try:
        references = {
            fk["constrained_columns"][0]
            for fk in sa.inspect(store.engine).get_foreign_keys("accounts")
        }
    finally:
        store.close()
    assert references == {"parent_id", "default_cos_id", "admin_cos_id"}


def test_sqlalchemy_s_own_log_shows_no_parameter_of_a_statement(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An application that turns SQLAlchemy's logging on must not log secrets with it."""
    ctx = Context.open(tmp_path / "logged.db")
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        run(ctx, Actor.platform(), CreateAccount(name="Sekret Corp", account_id="sekret"))
    assert "INSERT" in caplog.text
    assert "Sekret Corp" not in caplog.text
    assert "hidden due to hide_parameters" in caplog.text


def test_the_revisions_read_without_alembic_are_alembic_s_own() -> None:
    shipped = {s.revision: s.down_revision for s in migrations.scripts().walk_revisions()}
    assert migrations.known() == shipped
    assert migrations.head() == migrations.scripts().get_current_head()


def test_importing_the_library_and_opening_a_current_store_load_no_alembic(
    tmp_path: Path,
) -> None:
    SqliteStore(tmp_path / "current.db").close()  # created (and stamped) here, with Alembic
    script = (
        "import sys\n"
        "import provisioning\n"
        "assert 'alembic' not in sys.modules and 'mako' not in sys.modules, 'on import'\n"
        "from provisioning.adapters.sql import SqliteStore\n"
        f"SqliteStore({str(tmp_path / 'current.db')!r}).close()\n"
        "assert 'alembic' not in sys.modules, 'on opening a store at the head revision'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_a_bulk_insert_fills_sqlite_s_search_index_once_and_keeps_its_trigger(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "bulk.db")
    people = [b.user(f"u-{n}", f"person{n}@acme.example") for n in range(1200)]
    with store.unit_of_work() as uow:
        b.store_with_parents(uow, people[0])
        uow.users.remove(people[0].id)
        uow.commit()
    # Refused half-way: nothing of it stays, and the trigger does.
    with store.unit_of_work() as uow, pytest.raises(Conflict):
        uow.write([TableChanges(TABLES.users, tuple(Change(None, u) for u in people * 2))])
    with store.unit_of_work() as uow:
        uow.write([TableChanges(TABLES.users, tuple(Change(None, u) for u in people))])
        uow.commit()
    with store.unit_of_work() as uow:  # one more, one at a time: through the trigger
        uow.users.add(b.user("u-late", "latecomer@acme.example"))
        uow.commit()
    ctx = Context(store=store)
    for text, found in [("person0@", 1), ("person1199", 1), ("person11", 111), ("latecomer", 1)]:
        assert queries.users(ctx, OPERATOR, "a-1", search=text).total == found, text
    with store.engine.connect() as sql:
        triggers = sql.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        ).scalars()
        assert list(triggers) == [
            "users_search_delete",
            "users_search_insert",
            "users_search_update",
        ]
    store.close()


def test_postgresql_copies_a_bulk_insert_and_says_what_it_refused(postgres_url: str) -> None:
    store = empty_postgres(postgres_url)
    people = [b.user(f"u-{n}", f"person{n}@acme.example") for n in range(1200)]
    with store.unit_of_work() as uow:
        b.store_with_parents(uow, people[0])
        uow.commit()
    with store.unit_of_work() as uow, pytest.raises(Conflict) as taken:
        uow.write([TableChanges(TABLES.users, tuple(Change(None, u) for u in people))])
    assert taken.value.code == "id.taken"  # u-0 is there already: nothing of the rest stays
    with store.unit_of_work() as uow:
        uow.write([TableChanges(TABLES.users, tuple(Change(None, u) for u in people[1:]))])
        uow.commit()
    with store.snapshot() as uow:
        assert uow.users.count() == 1200
        assert uow.users.get("u-1199") == people[-1]  # every column as it was written
        assert uow.users.by_address(EmailAddress.parse("person1199@acme.example")) == people[-1]
    ctx = Context(store=store)
    assert queries.users(ctx, OPERATOR, "a-1", search="person119").total == 11
    store.close()
