"""The store contract: what every store must do, as a test class to run against yours.

Subclass `StoreContract` in a pytest module and give it a `store` fixture
that yields a new, empty store (and closes it afterwards): every test here
then runs against it. The memory, SQLite and PostgreSQL stores pass it.

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self) -> Iterator[Store]:
            store = MyStore()
            yield store
            store.close()

Entities refer to each other (a user to its account and domain); `seed`
stores stubs of whatever the entities refer to, since SQL stores check
references.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from provisioning import Conflict, NotFound, UsageError
from provisioning.model import (
    GUESS_SWEEP,
    GUESSES_KEPT,
    DomainName,
    EmailAddress,
    Message,
    MessageStatus,
    SignInState,
    Username,
    UserStatus,
    skeleton,
)
from provisioning.ports import Store
from provisioning.storage import PLATFORM, lookup_scope
from provisioning.testing import builders as b


def seed(store: Store, *entities: object) -> None:
    """Store `entities`, and stubs of what they refer to that the store lacks."""
    with store.unit_of_work() as uow:
        b.store_with_parents(uow, *entities)
        uow.commit()


__all__ = ["StoreContract", "seed"]


def _snapshot(store: Store) -> dict[str, object]:
    """What the rollback tests compare before and after."""
    with store.unit_of_work() as uow:
        return {
            "users": {u.id: attrs.asdict(u) for u in uow.users.of_account("a-1")},
            "addresses": uow.users.holders(
                ["ann@acme.example", "a@acme.example", "new@acme.example", "bob@acme.example"]
            ),
            "accounts": {
                a.id: attrs.asdict(a) for a in uow.accounts.get_many(["a-1", "a-2"]).values()
            },
            "audit": [e.id for e in uow.audit.events()],
        }


class Boom(Exception):
    """Raised mid-way by the tests, to prove a rollback."""


class StoreContract:
    """The tests every store passes; subclass it with a `store` fixture."""

    def test_an_added_entity_can_be_read_back_whole(self, store: Store) -> None:
        ann = b.user(aliases=("a.lee@acme.example",))
        seed(store, ann)
        with store.unit_of_work() as uow:
            stored = uow.users.get("u-1")
            assert attrs.asdict(stored) == attrs.asdict(ann)
            assert uow.users.find("nobody") is None
            assert uow.users.count() == 1

    def test_a_missing_entity_is_not_found_with_a_code(self, store: Store) -> None:
        with store.unit_of_work() as uow, pytest.raises(NotFound) as caught:
            uow.domains.get("d-404")
        assert (caught.value.code, caught.value.key) == ("domain.not_found", "d-404")

    def test_get_many_reads_several_ids_at_once_and_skips_unknown_ones(self, store: Store) -> None:
        seed(store, b.account("a-1", "One"), b.account("a-2", "Two"), b.account("a-3", "Three"))
        with store.unit_of_work() as uow:
            found = uow.accounts.get_many(["a-3", "a-404", "a-1", "a-3"])
        assert list(found) == ["a-3", "a-1"]

    def test_an_id_cannot_be_added_twice(self, store: Store) -> None:
        seed(store, b.account())
        with store.unit_of_work() as uow, pytest.raises(Conflict) as caught:
            uow.accounts.add(b.account(name="Other"))
        assert caught.value.code == "id.taken"

    def test_update_bumps_the_version_and_refuses_a_stale_one(self, store: Store) -> None:
        seed(store, b.account())
        with store.unit_of_work() as uow:
            read = uow.accounts.get("a-1")
            stored = uow.accounts.update(attrs.evolve(read, name="Acme AG"))
            assert stored.version == 2
            with pytest.raises(Conflict) as caught:
                uow.accounts.update(attrs.evolve(read, name="Lost update"))
            assert (
                caught.value.code,
                caught.value.expected_version,
                caught.value.actual_version,
            ) == (
                "version.stale",
                1,
                2,
            )
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.accounts.get("a-1").name == "Acme AG"
            assert uow.accounts.by_name("lost update") is None

    def test_remove_checks_the_version_when_given_and_frees_unique_values(
        self, store: Store
    ) -> None:
        seed(store, b.user(aliases=("boss@acme.example",)))
        with store.unit_of_work() as uow:
            with pytest.raises(Conflict):
                uow.users.remove("u-1", version=7)
            uow.users.remove("u-1", version=1)
            assert uow.users.find("u-1") is None
            uow.users.add(b.user("u-2", "boss@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.users.by_address("boss@acme.example") == b.user("u-2")
            with pytest.raises(NotFound):
                uow.users.remove("u-1")

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            (b.user("u-1", "ann@acme.example"), b.user("u-2", "ANN@Acme.Example")),
            (
                b.user("u-1", "ann@acme.example", aliases=("sales@acme.example",)),
                b.user("u-2", "Sales@acme.example"),
            ),
            (
                b.user("u-1", "ann@acme.example"),
                b.user("u-2", "bob@acme.example", aliases=("Ann@acme.example",)),
            ),
            (
                b.user("u-1", "ann@acme.example", aliases=("info@acme.example",)),
                b.user("u-2", "bob@acme.example", aliases=("INFO@acme.example",)),
            ),
        ],
        ids=["username-username", "alias-username", "username-alias", "alias-alias"],
    )
    def test_usernames_and_aliases_share_one_case_insensitive_namespace(
        self, store: Store, first: object, second: object
    ) -> None:
        seed(store, first)
        with store.unit_of_work() as uow:
            with pytest.raises(Conflict) as caught:
                uow.users.add(second)  # type: ignore[arg-type]
            assert caught.value.code == "address.taken"
            # A refused add leaves no trace: nothing of `second` is findable.
            assert uow.users.find("u-2") is None
            assert uow.users.count() == 1

    def test_an_update_may_keep_its_own_values_but_not_take_another_users(
        self, store: Store
    ) -> None:
        seed(
            store,
            b.user("u-1", "ann@acme.example", aliases=("a@acme.example",)),
            b.user("u-2", "bob@acme.example"),
        )
        with store.unit_of_work() as uow:
            ann = uow.users.get("u-1")
            ann = uow.users.update(
                attrs.evolve(
                    ann, aliases=(*ann.aliases, EmailAddress.parse("ann.lee@acme.example"))
                )
            )
            with pytest.raises(Conflict) as caught:
                uow.users.update(
                    attrs.evolve(ann, aliases=(EmailAddress.parse("Bob@acme.example"),))
                )
            assert caught.value.code == "address.taken"
            stored = uow.users.get("u-1")
            assert stored.version == 2
            assert [str(a) for a in stored.aliases] == ["a@acme.example", "ann.lee@acme.example"]
            assert uow.users.by_address("a@acme.example") == stored

    @pytest.mark.parametrize(
        ("make_first", "make_second", "code"),
        [
            (
                lambda: b.domain("d-1", "acme.example", "a-1"),
                lambda: b.domain("d-2", "ACME.example", "a-2"),
                "domain.taken",
            ),
            (
                lambda: b.domain("d-1", "bücher.example"),
                lambda: b.domain("d-2", "xn--bcher-kva.example"),
                "domain.taken",
            ),
            (lambda: b.cos("c-1", "Gold"), lambda: b.cos("c-2", "gold"), "cos.name_taken"),
            (
                lambda: b.role("r-1", "Helpdesk"),
                lambda: b.role("r-2", "HELPDESK"),
                "role.name_taken",
            ),
            (lambda: b.grant("g-1"), lambda: b.grant("g-2"), "grant.exists"),
            (
                lambda: b.mailbox("m-1", "sales@acme.example"),
                lambda: b.mailbox("m-2", "SALES@acme.example"),
                "mailbox.address_taken",
            ),
            (
                lambda: b.invitation("i-1", token_hash="h"),
                lambda: b.invitation("i-2", token_hash="h"),
                "invitation.token_taken",
            ),
            (
                lambda: b.account("a-1", "Acme"),
                lambda: b.account("a-2", "ACME"),
                "account.name_taken",
            ),
        ],
    )
    def test_each_unique_value_is_refused_a_second_time(
        self,
        store: Store,
        make_first: Callable[[], object],
        make_second: Callable[[], object],
        code: str,
    ) -> None:
        seed(store, make_first())
        with pytest.raises(Conflict) as caught:
            seed(store, make_second())
        assert caught.value.code == code

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            (b.cos("c-1", "gold", "a-1"), b.cos("c-2", "gold", "a-2")),
            (b.cos("c-1", "gold", None), b.cos("c-2", "gold", "a-1")),
            (b.role("r-1", "helpdesk", "a-1"), b.role("r-2", "helpdesk", None)),
            (b.grant("g-1", mailbox_id=None), b.grant("g-2", mailbox_id="m-1")),
        ],
    )
    def test_scoped_names_may_repeat_in_other_scopes(
        self, store: Store, first: object, second: object
    ) -> None:
        seed(store, first, second)

    def test_look_ups_used_by_the_services(self, store: Store) -> None:
        seed(
            store,
            b.account("a-1", "Acme"),
            b.account("a-2", "Zeta", parent_id="a-1"),
            b.account("a-3", "Beta", parent_id="a-1"),
            b.domain("d-1", "acme.example", "a-1"),
            b.domain("d-2", "bücher.example", "a-1"),
            b.domain("d-3", "zeta.example", "a-2"),
            b.cos("c-1", "silver", "a-1"),
            b.cos("c-2", "gold", "a-1"),
            b.cos("c-3", "system_default_users", None),
            b.user("u-2", "zoe@acme.example", aliases=("z@acme.example",), cos_id="c-1"),
            b.user("u-1", "ann@acme.example", cos_id="c-1"),
            b.user("u-3", "max@bücher.example", domain_id="d-2"),
            b.user("u-4", "eve@zeta.example", account_id="a-2", domain_id="d-3"),
            b.role("r-1", "helpdesk", "a-1"),
            b.role("r-2", "owner", None),
            b.grant("g-1", "u-1", "a-1"),
            b.grant("g-2", "u-1", "a-1", mailbox_id="m-1"),
            b.grant("g-3", "u-4", "a-2"),
            b.mailbox("m-2", "support@acme.example"),
            b.mailbox("m-1", "ann@acme.example", owner_id="u-1"),
            b.invitation("i-1", "bob@else.example", token_hash="h-1"),
            b.invitation("i-2", "BOB@else.example", token_hash="h-2"),
        )
        with store.unit_of_work() as uow:
            assert uow.accounts.by_name("ACME").id == "a-1"  # type: ignore[union-attr]
            assert [a.name for a in uow.accounts.children("a-1")] == ["Beta", "Zeta"]
            assert uow.domains.by_name(DomainName.parse("XN--BCHER-KVA.example")).id == "d-2"  # type: ignore[union-attr]
            assert [d.id for d in uow.domains.of_account("a-1")] == ["d-1", "d-2"]
            assert uow.domains.using_cos("c-1") == []
            assert uow.classes_of_service.by_name("a-1", "GOLD").id == "c-2"  # type: ignore[union-attr]
            assert uow.classes_of_service.by_name("a-2", "gold") is None
            assert [c.name for c in uow.classes_of_service.of_account("a-1")] == ["gold", "silver"]
            assert [c.id for c in uow.classes_of_service.of_account(None)] == ["c-3"]
            assert uow.users.by_username(Username.parse("Ann@acme.example")).id == "u-1"  # type: ignore[union-attr]
            assert (
                uow.users.by_username(Username.parse("z@acme.example")) is None
            )  # an alias, not a username
            assert uow.users.by_address(EmailAddress.parse("Z@acme.example")).id == "u-2"  # type: ignore[union-attr]
            assert uow.users.holders(
                ["z@acme.example", "nobody@acme.example", "eve@zeta.example"]
            ) == {
                "z@acme.example": "u-2",
                "eve@zeta.example": "u-4",
            }
            assert [u.id for u in uow.users.of_domain("d-1")] == ["u-1", "u-2"]
            assert [u.id for u in uow.users.of_account("a-1")] == ["u-1", "u-3", "u-2"]
            assert [u.id for u in uow.users.using_cos("c-1")] == ["u-1", "u-2"]
            assert uow.roles.by_name(None, "Owner").id == "r-2"  # type: ignore[union-attr]
            assert [r.id for r in uow.roles.of_account("a-1")] == ["r-1"]
            assert uow.grants.for_scope("u-1", "a-1", None).id == "g-1"  # type: ignore[union-attr]
            assert uow.grants.for_scope("u-1", "a-1", "m-1").id == "g-2"  # type: ignore[union-attr]
            assert uow.grants.for_scope("u-4", "a-1", None) is None
            assert [g.id for g in uow.grants.of_user("u-1")] == ["g-1", "g-2"]
            assert [g.id for g in uow.grants.of_account("a-2")] == ["g-3"]
            assert uow.mailboxes.by_address(EmailAddress.parse("Support@acme.example")).id == "m-2"  # type: ignore[union-attr]
            assert [m.id for m in uow.mailboxes.of_account("a-1")] == ["m-1", "m-2"]
            assert [m.id for m in uow.mailboxes.of_owner("u-1")] == ["m-1"]
            assert uow.invitations.by_token_hash("h-2").id == "i-2"  # type: ignore[union-attr]
            assert [
                i.id for i in uow.invitations.of_email(EmailAddress.parse("bob@else.example"))
            ] == [
                "i-1",
                "i-2",
            ]
            assert len(uow.invitations.of_account("a-1")) == 2

    def test_users_are_paged_by_status_change_time_and_external_id(self, store: Store) -> None:
        later = b.WHEN + timedelta(hours=1)
        seed(
            store,
            b.account("a-1", "Acme"),
            b.domain("d-1", "acme.example", "a-1"),
            b.user("u-1", "ann@acme.example"),
            attrs.evolve(
                b.user("u-2", "bob@acme.example"),
                status=UserStatus.DISABLED,
                updated_at=later,
                external_id="00uBob",
            ),
            attrs.evolve(b.user("u-3", "cy@acme.example"), updated_at=later),
        )
        with store.unit_of_work() as uow:
            disabled, total = uow.users.page(account_id="a-1", status="disabled")
            assert ([u.id for u in disabled], total) == (["u-2"], 1)
            changed, total = uow.users.page(account_id="a-1", changed_since=b.WHEN)
            assert ([u.id for u in changed], total) == (["u-2", "u-3"], 2)
            none, total = uow.users.page(account_id="a-1", changed_since=later)
            assert (none, total) == ([], 0)
            assert uow.users.by_external_id("a-1", None, "00uBob").id == "u-2"  # type: ignore[union-attr]
            assert uow.users.by_external_id("a-1", None, "00ubob") is None  # case-exact

    def test_the_audit_log_keeps_append_order_and_filters(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            for event in [
                b.event("e-9", "u-1"),
                b.event("e-1", "u-2"),
                b.event("e-5", "u-1", account_id="a-2"),
            ]:
                uow.audit.append(event)
            uow.commit()
        with store.unit_of_work() as uow:
            assert [e.id for e in uow.audit.events()] == ["e-9", "e-1", "e-5"]
            assert [e.id for e in uow.audit.events(account_id="a-1")] == ["e-9", "e-1"]
            assert [e.id for e in uow.audit.events(entity_id="u-1")] == ["e-9", "e-5"]
            assert [e.id for e in uow.audit.events(account_id="a-2", entity_id="u-1")] == ["e-5"]
            newest = uow.audit.events(account_id="a-1", newest_first=True, limit=1)
            assert [e.id for e in newest] == ["e-1"]
            assert [e.id for e in uow.audit.events(newest_first=True, offset=1)] == ["e-1", "e-9"]

    def test_an_exception_mid_way_leaves_the_store_exactly_as_before(self, store: Store) -> None:
        seed(
            store,
            b.account(),
            b.user("u-1", "ann@acme.example", aliases=("a@acme.example",)),
            b.user("u-2", "bob@acme.example"),
        )
        before = _snapshot(store)
        with pytest.raises(Boom), store.unit_of_work() as uow:
            uow.accounts.add(b.account("a-2", "Second"))
            ann = uow.users.get("u-1")
            uow.users.update(attrs.evolve(ann, aliases=(EmailAddress.parse("new@acme.example"),)))
            uow.users.remove("u-2")
            uow.users.add(b.user("u-3", "bob@acme.example"))
            uow.audit.append(b.event("e-1"))
            raise Boom
        assert _snapshot(store) == before

    def test_leaving_without_commit_rolls_back(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.accounts.add(b.account())
        with store.unit_of_work() as uow:
            assert uow.accounts.count() == 0

    def test_commit_keeps_what_came_before_it_only(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.accounts.add(b.account("a-1", "One"))
            uow.commit()
            uow.accounts.add(b.account("a-2", "Two"))
        with store.unit_of_work() as uow:
            assert list(uow.accounts.get_many(["a-1", "a-2"])) == ["a-1"]

    def test_explicit_rollback_discards_everything_since_the_last_commit(
        self, store: Store
    ) -> None:
        with store.unit_of_work() as uow:
            uow.accounts.add(b.account("a-1", "One"))
            uow.rollback()
            assert uow.accounts.find("a-1") is None
            uow.accounts.add(b.account("a-2", "Two"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.accounts.count() == 1

    def test_a_savepoint_undoes_only_its_own_block(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.accounts.add(b.account("a-1", "One"))
            with pytest.raises(Boom), uow.savepoint():
                uow.accounts.add(b.account("a-2", "Two"))
                uow.accounts.update(attrs.evolve(uow.accounts.get("a-1"), name="Renamed"))
                raise Boom
            with uow.savepoint():
                uow.accounts.add(b.account("a-3", "Three"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert {a.name for a in uow.accounts.get_many(["a-1", "a-2", "a-3"]).values()} == {
                "One",
                "Three",
            }
            assert uow.accounts.by_name("renamed") is None

    def test_a_second_unit_of_work_in_the_same_thread_is_refused(self, store: Store) -> None:
        with store.unit_of_work(), pytest.raises(UsageError) as caught, store.unit_of_work():
            pass
        assert caught.value.code == "store.nested_unit_of_work"
        with store.unit_of_work() as uow:  # the store is usable again afterwards
            assert uow.accounts.count() == 0

    def test_repositories_are_refused_outside_their_with_block(self, store: Store) -> None:
        uow = store.unit_of_work()
        with pytest.raises(UsageError) as caught:
            uow.accounts.count()
        assert caught.value.code == "store.closed_unit_of_work"
        with uow:
            pass
        with pytest.raises(UsageError):
            uow.accounts.add(b.account())

    def test_a_commit_moves_the_scopes_of_what_it_wrote_and_no_other(self, store: Store) -> None:
        seed(store, b.account(), b.account("a-2", "Globex"))
        with store.snapshot() as uow:
            before = uow.scope_counts(["a-1", "a-2", PLATFORM])
        with store.unit_of_work() as uow:
            b.store_with_parents(uow, b.user())  # of a-1
            uow.commit()
            uow.users.add(b.user("u-2", "bob@acme.example"))
            uow.rollback()  # rolled back: it moves nothing
            uow.commit()
        with store.snapshot() as uow:
            after = uow.scope_counts(["a-1", "a-2", PLATFORM])
        assert after.get("a-1", 0) == before.get("a-1", 0) + 1
        assert after.get("a-2", 0) == before.get("a-2", 0)
        assert after.get(PLATFORM, 0) == before.get(PLATFORM, 0)
        skeleton_bucket = lookup_scope("user.skeleton", skeleton("ann@acme.example"))
        assert skeleton_bucket is not None
        with store.unit_of_work() as uow:  # a claim says the counts, and keeps them for a while
            claimed = uow.claim_scopes(["a-1", skeleton_bucket, PLATFORM], shared=[PLATFORM])
        assert claimed.get("a-1") == after["a-1"]
        assert claimed.get(skeleton_bucket) == 1

    def test_uniqueness_holds_under_concurrent_threads(self, store: Store) -> None:
        seed(store, b.account(), b.domain())
        threads = 8
        barrier = threading.Barrier(threads)
        outcomes: list[str] = []
        lock = threading.Lock()

        def claim(n: int) -> None:
            barrier.wait()
            try:
                with store.unit_of_work() as uow:
                    # Everyone wants the same address: half as username, half as alias.
                    if n % 2:
                        candidate = b.user(f"u-{n}", "sales@acme.example")
                    else:
                        candidate = b.user(
                            f"u-{n}", f"user{n}@acme.example", aliases=("Sales@acme.example",)
                        )
                    uow.users.add(candidate)
                    uow.commit()
                result = "won"
            except Conflict as conflict:
                result = conflict.code
            with lock:
                outcomes.append(result)

        workers = [threading.Thread(target=claim, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert sorted(outcomes) == ["address.taken"] * (threads - 1) + ["won"]
        with store.unit_of_work() as uow:
            assert uow.users.count() == 1

    def test_concurrent_read_modify_write_loses_no_update(self, store: Store) -> None:
        seed(store, b.cos("c-1", "counter"))
        threads, rounds = 4, 10

        refused: list[str] = []

        def bump() -> None:  # a stale write is refused, never lost: the writer tries again
            for _ in range(rounds):
                while True:
                    try:
                        with store.unit_of_work() as uow:
                            current = uow.classes_of_service.get("c-1")
                            uow.classes_of_service.update(
                                attrs.evolve(current, quota_mb=(current.quota_mb or 0) + 1)
                            )
                            uow.commit()
                    except Conflict as stale:
                        refused.append(stale.code)
                    else:
                        break

        workers = [threading.Thread(target=bump) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        with store.unit_of_work() as uow:
            final = uow.classes_of_service.get("c-1")
        assert (final.quota_mb, final.version) == (threads * rounds, threads * rounds + 1)
        assert set(refused) <= {"version.stale"}

    def test_guess_counts_of_one_key_take_turns_and_lose_none(self, store: Store) -> None:
        threads, rounds = 8, 10
        now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

        def one_more(states: Mapping[str, SignInState]) -> dict[str, SignInState]:
            return {
                key: SignInState(failures=state.failures + 1, last_failure_at=now)
                for key, state in states.items()
            }

        def guess() -> None:
            for _ in range(rounds):
                store.count_guesses({"k-1", "k-2"}, one_more, now=now)

        workers = [threading.Thread(target=guess) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        states = store.guess_states({"k-1", "k-2", "k-3"})
        assert states["k-1"] == states["k-2"] == SignInState(threads * rounds, now)
        assert states["k-3"] == SignInState()  # never counted: fresh

    def test_a_fresh_guess_state_forgets_the_key_and_a_failed_count_writes_nothing(
        self, store: Store
    ) -> None:
        now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        counted = SignInState(failures=3, last_failure_at=now, locked_until=now)
        store.count_guesses({"k-1"}, lambda states: dict.fromkeys(states, counted), now=now)
        assert store.guess_states({"k-1"}) == {"k-1": counted}

        def fails(states: Mapping[str, SignInState]) -> dict[str, SignInState]:
            del states
            raise Boom

        with pytest.raises(Boom):
            store.count_guesses({"k-1"}, fails, now=now)
        assert store.guess_states({"k-1"}) == {"k-1": counted}
        store.count_guesses({"k-1"}, lambda states: dict.fromkeys(states, SignInState()), now=now)
        assert store.guess_states({"k-1"}) == {"k-1": SignInState()}

    def test_idle_guess_counters_are_let_go_and_the_others_kept(self, store: Store) -> None:
        now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        long_ago = now - GUESSES_KEPT - timedelta(days=1)
        kept = {
            "recent": SignInState(failures=2, last_failure_at=now - timedelta(days=1)),
            "locked": SignInState(
                failures=9, last_failure_at=long_ago, locked_until=now + timedelta(hours=1)
            ),
        }
        counted = {"idle": SignInState(failures=3, last_failure_at=long_ago), **kept}
        store.count_guesses(counted, lambda _: counted, now=now)
        for _ in range(GUESS_SWEEP):  # a sweep comes every so many counts
            store.count_guesses({"other"}, lambda _: {}, now=now)
        assert store.guess_states({"idle", *kept}) == {"idle": SignInState(), **kept}

    # -- the outbox ----------------------------------------------------------------------------

    def test_the_outbox_keeps_what_commits_and_forgets_what_rolls_back(self, store: Store) -> None:
        now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        kept = Message(template="t.kept", to="a@x.example", secrets={"token": "s3cret"})
        with store.unit_of_work() as uow:
            (written,) = uow.enqueue([kept], now=now)
            uow.commit()
        with store.unit_of_work() as uow:
            uow.enqueue([Message(template="t.gone", to="b@x.example")], now=now)
            uow.rollback()
        listed, total = store.queued_messages(status=None, offset=0, limit=10)
        assert (total, [q.id for q in listed]) == (1, [written.id])
        assert written.id
        assert listed[0].message.secrets == {}  # a listing never holds a secret
        (claimed,) = store.claim_messages(now=now, limit=10, lease=timedelta(minutes=5))
        assert claimed.message.secrets == {"token": "s3cret"}
        assert claimed.status is MessageStatus.PENDING

    def test_a_claim_takes_one_message_of_each_recipient_and_lasts_its_lease(
        self, store: Store
    ) -> None:
        now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        lease = timedelta(minutes=5)
        with store.unit_of_work() as uow:
            first, second, other = uow.enqueue(
                [
                    Message(template="t.1", to="a@x.example"),
                    Message(template="t.2", to="a@x.example"),
                    Message(template="t.3", to="b@x.example"),
                ],
                now=now,
            )
            uow.commit()
        claimed = store.claim_messages(now=now, limit=10, lease=lease)
        assert [q.id for q in claimed] == [first.id, other.id]
        assert store.claim_messages(now=now + lease / 2, limit=10, lease=lease) == []
        store.settle_messages([first.id], {}, now=now)
        assert [q.id for q in store.claim_messages(now=now, limit=10, lease=lease)] == [second.id]
        # The claims lapse, unsettled: another deliverer may take them then.
        lapsed = store.claim_messages(now=now + lease, limit=10, lease=lease)
        assert [q.id for q in lapsed] == [second.id, other.id]

    def test_settling_delivers_retries_or_gives_up_and_requeue_brings_it_back(
        self, store: Store
    ) -> None:
        now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        lease = timedelta(minutes=5)
        with store.unit_of_work() as uow:
            done, later, dead = uow.enqueue(
                [
                    Message(template="t.1", to="a@x.example", secrets={"code": "1"}),
                    Message(template="t.2", to="b@x.example"),
                    Message(template="t.3", to="c@x.example"),
                ],
                now=now,
            )
            uow.commit()
        store.claim_messages(now=now, limit=10, lease=lease)
        retry_at = now + timedelta(hours=1)
        store.settle_messages(
            [done.id],
            {later.id: ("delivery.failed: X", retry_at), dead.id: ("message.x: no", None)},
            now=now,
        )
        delivered, _ = store.queued_messages(status=MessageStatus.DELIVERED, offset=0, limit=9)
        assert [(q.id, q.attempts, q.message.secrets) for q in delivered] == [(done.id, 1, {})]
        assert store.claim_messages(now=now, limit=10, lease=lease) == []  # not due yet
        (retried,) = store.claim_messages(now=retry_at, limit=10, lease=lease)
        assert (retried.id, retried.attempts, retried.failure) == (
            later.id,
            1,
            "delivery.failed: X",
        )
        failed, total = store.queued_messages(status=MessageStatus.FAILED, offset=0, limit=9)
        assert (total, failed[0].id, failed[0].failure) == (1, dead.id, "message.x: no")
        assert store.requeue_messages([dead.id, done.id, "nobody"], now=retry_at) == 1
        again = store.claim_messages(now=retry_at, limit=10, lease=lease)
        assert [(q.id, q.attempts) for q in again] == [(dead.id, 0)]
