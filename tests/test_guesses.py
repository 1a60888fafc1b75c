"""A guess is counted before it is checked: batches, plans, threads and processes get no more.

Each test is an attacker's move against the sign-in limit (and the recovery
code's): many guesses in one plan, plans never applied, many connections at
once, many processes at once, and names nobody holds. What they must never
get is a secret checked past the policy's limit, or an answer that tells a
registered name from an unknown one.
"""

from __future__ import annotations

import multiprocessing
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from alembic import command as alembic_command

from access_world import PASSWORD
from conftest import FAST_HASHER, OPERATOR, START, empty_postgres
from provisioning import (
    Actor,
    Authenticate,
    CompletePasswordRecovery,
    Context,
    EnrollMfa,
    FinalizeMfa,
    StartPasswordRecovery,
    UpdateAccount,
    UpdateUser,
    ValidationFailed,
    apply,
    plan,
    run,
)
from provisioning.adapters.memory import FixedClock, MemoryDns, Outbox
from provisioning.adapters.sql import PostgresStore, SqliteStore, SqlStore, migrations
from provisioning.adapters.sql.schema import GUESSES
from provisioning.model import SignInPolicy, SignInState
from provisioning.rules.credentials import guess_key
from provisioning.security import Totp
from security_world import Tenant, build_tenant

MEMBER = "member@acme.example"
NOBODY = "nobody@acme.example"
WRONG = "wrong-guess-0000"
LIMIT = SignInPolicy().max_failures


@attrs.define
class CountingHasher:
    """The tests' fast hasher, counting how many passwords it checked."""

    checked: int = 0
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def hash(self, password: str) -> str:
        return FAST_HASHER.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.checked += 1
        return FAST_HASHER.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return FAST_HASHER.needs_rehash(password_hash)


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def tenant(ctx: Context, dns: MemoryDns, hasher: CountingHasher) -> Tenant:
    built = build_tenant(attrs.evolve(ctx, hasher=hasher), dns)
    hasher.checked = 0
    return built


def _codes(ctx: Context, command: Authenticate | CompletePasswordRecovery) -> list[str]:
    try:
        run(ctx, Actor.anonymous(), command)
    except ValidationFailed as refused:
        return refused.codes
    return []


def _counted(tenant: Tenant, name: str = MEMBER, kind: str = "sign-in") -> SignInState:
    key = guess_key(kind, name)
    return tenant.ctx.store.guess_states([key])[key]


def test_one_plan_of_300_guesses_gets_the_policy_s_10_checked(
    tenant: Tenant, hasher: CountingHasher
) -> None:
    guesses = [Authenticate(username=MEMBER, password=f"guess-{n:04d}") for n in range(300)]
    guesses[237] = Authenticate(username=MEMBER, password=PASSWORD)
    planned = plan(tenant.ctx, Actor.anonymous(), guesses)
    codes = {issue.command: issue.code for issue in planned.errors}
    assert codes[237] == "auth.locked"  # the right password, never checked
    assert sum(code == "auth.failed" for code in codes.values()) == LIMIT
    assert hasher.checked == LIMIT
    assert _counted(tenant).failures == LIMIT


def test_plans_never_applied_count_too(tenant: Tenant, hasher: CountingHasher) -> None:
    for n in range(200):
        plan(tenant.ctx, Actor.anonymous(), [Authenticate(username=MEMBER, password=f"g{n:04d}")])
    right = plan(tenant.ctx, Actor.anonymous(), [Authenticate(username=MEMBER, password=PASSWORD)])
    assert [issue.code for issue in right.errors] == ["auth.locked"]
    assert hasher.checked == LIMIT


def test_a_right_guess_forgets_the_failures_once_applied(tenant: Tenant, clock: FixedClock) -> None:
    for _ in range(LIMIT - 1):
        assert _codes(tenant.ctx, Authenticate(username=MEMBER, password=WRONG)) == ["auth.failed"]
    signed_in = plan(
        tenant.ctx, Actor.anonymous(), [Authenticate(username=MEMBER, password=PASSWORD)]
    )
    assert signed_in.ok
    assert _counted(tenant).failures == LIMIT  # counted, and not forgotten by a plan alone
    apply(tenant.ctx, signed_in)
    assert _counted(tenant) == SignInState()
    clock.advance(seconds=1)
    assert _codes(tenant.ctx, Authenticate(username=MEMBER, password=WRONG)) == ["auth.failed"]
    assert _counted(tenant).failures == 1


def test_3000_one_time_codes_in_one_plan_get_10_checked(tenant: Tenant, clock: FixedClock) -> None:
    member = tenant.users["member"]
    enrollment = run(tenant.ctx, Actor.user(member.id), EnrollMfa(user_id=member.id))
    totp = Totp(enrollment.secret)
    run(
        tenant.ctx,
        Actor.user(member.id),
        FinalizeMfa(user_id=member.id, code=totp.code(clock.now())),
    )
    clock.advance(seconds=60)
    right = totp.code(clock.now())
    codes = [f"{n:06d}" for n in range(3000) if f"{n:06d}" != right]
    codes.insert(2000, right)
    guesses = [Authenticate(username=MEMBER, password=PASSWORD, code=code) for code in codes]
    planned = plan(tenant.ctx, Actor.anonymous(), guesses)
    answers = {issue.command: issue.code for issue in planned.errors}
    assert answers[2000] == "auth.locked"
    assert sum(code == "mfa.code_invalid" for code in answers.values()) == LIMIT


def test_100_recovery_codes_in_one_plan_find_nothing(tenant: Tenant, outbox: Outbox) -> None:
    run(tenant.ctx, Actor.anonymous(), StartPasswordRecovery(username=MEMBER))
    code = outbox.messages[-1].secrets["code"]
    new = "Quiet-Harbour-Lights-88"
    guesses = [
        CompletePasswordRecovery(
            username=MEMBER, code=f"{n:08d}", password=new, password_repeat=new
        )
        for n in range(100)
    ]
    guesses[50] = attrs.evolve(guesses[50], code=code)
    planned = plan(tenant.ctx, Actor.anonymous(), guesses)
    assert len(planned.errors) == 100  # the right code came too late to be checked
    assert {issue.code for issue in planned.errors} == {"recovery.invalid"}
    with pytest.raises(ValidationFailed):
        apply(tenant.ctx, planned)
    assert _codes(tenant.ctx, Authenticate(username=MEMBER, password=PASSWORD)) == []


def test_a_right_recovery_code_forgets_the_sign_in_failures(tenant: Tenant, outbox: Outbox) -> None:
    for _ in range(LIMIT):
        _codes(tenant.ctx, Authenticate(username=MEMBER, password=WRONG))
    assert _codes(tenant.ctx, Authenticate(username=MEMBER, password=PASSWORD)) == ["auth.locked"]
    run(tenant.ctx, Actor.anonymous(), StartPasswordRecovery(username=MEMBER))
    code = outbox.messages[-1].secrets["code"]
    new = "Quiet-Harbour-Lights-88"
    recovery = CompletePasswordRecovery(
        username=MEMBER, code=code, password=new, password_repeat=new
    )
    run(tenant.ctx, Actor.anonymous(), recovery)
    assert _counted(tenant) == SignInState()
    assert _counted(tenant, kind="recovery") == SignInState()
    assert _codes(tenant.ctx, Authenticate(username=MEMBER, password=new)) == []


def _answers(tenant: Tenant, name: str, clock: FixedClock) -> list[list[tuple[str, str]]]:
    """What a guesser sees over a run of wrong guesses, a lockout, and its end."""
    seen = []
    for step in range(LIMIT + 4):
        for captcha_passed in (False, True):
            command = Authenticate(username=name, password=WRONG, captcha_passed=captcha_passed)
            try:
                run(tenant.ctx, Actor.anonymous(), command)
            except ValidationFailed as refused:
                seen.append([(i.code, i.message) for i in refused.issues])
        if step == LIMIT + 1:
            clock.advance(seconds=SignInPolicy().wait_increment_s + 1)
    return seen


@pytest.mark.parametrize("captcha", [False, True])
def test_a_name_nobody_holds_gets_the_answers_a_user_s_name_gets(
    tenant: Tenant, clock: FixedClock, captcha: bool
) -> None:
    tenant.ask_for_captcha(on_login=captcha)
    begin = clock.now()
    registered = _answers(tenant, MEMBER, clock)
    clock.current = begin
    unknown = _answers(tenant, NOBODY, clock)
    assert registered == unknown
    codes = {code for answer in unknown for code, _ in answer}
    assert "auth.locked" in codes
    assert ("auth.captcha_required" in codes) == captcha


def test_a_disabled_user_s_name_gets_the_same_answers_too(
    tenant: Tenant, clock: FixedClock
) -> None:
    member = tenant.fresh("member")
    run(tenant.ctx, OPERATOR, UpdateUser(user_id=member.id, version=member.version, enabled=False))
    begin = clock.now()
    disabled = _answers(tenant, MEMBER, clock)
    clock.current = begin
    assert disabled == _answers(tenant, NOBODY, clock)


def test_a_name_is_counted_however_it_is_typed(tenant: Tenant) -> None:
    for typed in (MEMBER, "MEMBER@acme.example", "Member@ACME.example"):
        for _ in range(4):
            _codes(tenant.ctx, Authenticate(username=typed, password=WRONG))
    assert _counted(tenant).failures == LIMIT  # one name: locked after ten, the rest not checked
    assert _codes(tenant.ctx, Authenticate(username=MEMBER, password=PASSWORD)) == ["auth.locked"]


def test_guesses_of_one_policy_change_go_by_its_account(tenant: Tenant) -> None:
    policy = SignInPolicy(max_failures=3, wait_increment_s=60, max_wait_s=60)
    run(tenant.ctx, OPERATOR, UpdateAccount(account_id="acme", version=1, sign_in_policy=policy))
    answers = [_codes(tenant.ctx, Authenticate(username=NOBODY, password=WRONG)) for _ in range(4)]
    assert answers == [["auth.failed"]] * 3 + [["auth.locked"]]


# --- many connections and many processes at once ---------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One database of each SQL kind, with the tenant in it, as other processes open it."""
    if request.param == "sqlite":
        where = str(tmp_path / "shared.db")
        store: SqlStore = SqliteStore(where)
    else:
        where = request.getfixturevalue("postgres_url")
        store = empty_postgres(where)
    build_tenant(Context(store=store, dns=(dns := MemoryDns()), hasher=FAST_HASHER), dns)
    store.close()
    return where


def _open(where: str) -> SqlStore:
    return PostgresStore(where) if where.startswith("postgresql") else SqliteStore(where)


def test_the_counters_keep_no_name(shared: str) -> None:
    store = _open(shared)
    ctx = Context(store=store, clock=FixedClock(START), hasher=FAST_HASHER)
    typed = "Sunflower-Typed-Into-The-Name-Field"
    _codes(ctx, Authenticate(username=typed, password=WRONG))
    _codes(ctx, Authenticate(username=MEMBER, password=WRONG))
    with store.engine.connect() as sql:
        keys = [row.key for row in sql.execute(sa.select(GUESSES))]
    store.close()
    assert len(keys) == 2
    assert not any("sunflower" in key.casefold() or "member" in key for key in keys)


def test_32_threads_at_once_get_10_checked(shared: str) -> None:
    hasher = CountingHasher()
    store = _open(shared)
    ctx = Context(store=store, clock=FixedClock(START), hasher=hasher)
    answers: list[list[str]] = []
    start = threading.Barrier(32)

    def guess(n: int) -> None:
        start.wait()
        answers.append(_codes(ctx, Authenticate(username=MEMBER, password=f"thread-{n}")))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(tuple, answers)) == [("auth.failed",)] * LIMIT + [("auth.locked",)] * 22
    assert hasher.checked == LIMIT
    store.close()


def _guess_in_process(where: str, first: int, count: int, results: Any) -> None:
    hasher = CountingHasher()
    ctx = Context(store=_open(where), clock=FixedClock(START), hasher=hasher)
    for n in range(first, first + count):
        try:
            results.put(",".join(_codes(ctx, Authenticate(username=MEMBER, password=f"p{n}"))))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            results.put(f"{type(exc).__name__}: {exc}")
    results.put(f"checked {hasher.checked}")


def test_processes_at_once_get_10_checked_between_them(shared: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    workers = [
        spawn.Process(target=_guess_in_process, args=(shared, p * 6, 6, results)) for p in range(4)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=180) for _ in range(4 * 7)]
    for worker in workers:
        worker.join(30)
    checked = sum(int(o.split()[1]) for o in outcomes if o.startswith("checked"))
    answers = sorted(o for o in outcomes if not o.startswith("checked"))
    assert answers == ["auth.failed"] * LIMIT + ["auth.locked"] * 14
    assert checked == LIMIT


def test_a_lockout_under_way_outlives_the_upgrade_that_moves_the_counters(shared: str) -> None:
    if shared.startswith("postgresql"):
        engine = sa.create_engine(sa.engine.make_url(shared).set(drivername="postgresql+psycopg"))
    else:
        engine = sa.create_engine(f"sqlite:///{shared}")
    with engine.begin() as sql:
        settings = migrations.config()
        settings.attributes["connection"] = sql
        alembic_command.downgrade(settings, "0008")
        sql.execute(
            sa.text(
                "UPDATE users SET sign_in_failures = 10, sign_in_last_failure_at = :at,"
                " sign_in_locked_until = :until WHERE id IN"
                " (SELECT user_id FROM addresses WHERE address = :name)"
            ).bindparams(
                sa.bindparam("at", START, type_=sa.DateTime(timezone=True)),
                sa.bindparam("until", START + timedelta(hours=1), type_=sa.DateTime(timezone=True)),
                name=MEMBER,
            )
        )
    engine.dispose()
    store = _open(shared)  # upgraded as it opens
    ctx = Context(store=store, clock=FixedClock(START), hasher=FAST_HASHER)
    assert _codes(ctx, Authenticate(username=MEMBER, password=PASSWORD)) == ["auth.locked"]
    store.close()
