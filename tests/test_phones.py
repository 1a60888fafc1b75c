"""An account's phone numbers: parsed by their numbering plan, one account's, freed with users."""

from __future__ import annotations

import attrs
import pytest

from access_world import user as access_user
from conftest import OPERATOR, active_domain
from provisioning import (
    Actor,
    AddPhoneNumbers,
    Context,
    CreateAccount,
    DeleteAccount,
    DeleteUser,
    NotFound,
    PermissionDenied,
    RemovePhoneNumber,
    UpdateAccount,
    ValidationFailed,
    apply,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.model import DirectNumber


@pytest.fixture
def acme(ctx: Context, dns: MemoryDns) -> Context:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    run(ctx, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    active_domain(ctx, dns, "acme", "acme.example", admin_email="it@holding.example")
    active_domain(ctx, dns, "globex", "globex.example", admin_email="it@holding.example")
    account = queries.get_account(ctx, OPERATOR, "acme")
    run(ctx, OPERATOR, UpdateAccount(account_id="acme", version=account.version, phone_region="ch"))
    return ctx


def issues(ctx: Context, command: object) -> list[tuple[str, str | None]]:
    planned = plan(ctx, OPERATOR, [command])  # type: ignore[list-item]
    return [(issue.code, issue.field) for issue in planned.errors]


def test_numbers_are_kept_in_e164_by_the_account_s_numbering_plan(acme: Context) -> None:
    assert queries.get_account(acme, OPERATOR, "acme").phone_region == "CH"
    added = run(
        acme,
        OPERATOR,
        AddPhoneNumbers(
            account_id="acme", numbers=("079 123 45 67", "+41 44 668 18 00", "0041 31 322 21 11")
        ),
    )
    assert [str(n.number) for n in added] == ["+41791234567", "+41446681800", "+41313222111"]
    listed = queries.phone_numbers(acme, OPERATOR, "acme", free_only=True)
    assert [str(n.number) for n in listed] == ["+41313222111", "+41446681800", "+41791234567"]
    assert queries.phone_numbers(acme, OPERATOR, "globex") == []


def test_every_bad_number_is_an_issue_of_its_own(acme: Context) -> None:
    run(acme, OPERATOR, AddPhoneNumbers(account_id="acme", numbers=("+41 79 123 45 67",)))
    run(acme, OPERATOR, AddPhoneNumbers(account_id="globex", numbers=("+41 79 765 43 21",)))
    command = AddPhoneNumbers(
        account_id="acme",
        numbers=("12345", "079 111 22 33", "+41 79 111 22 33", "0791234567", "+41797654321"),
    )
    planned = plan(acme, OPERATOR, [command])
    assert [(i.code, i.field) for i in planned.errors] == [
        ("phone.invalid", "numbers[0]"),
        ("number.duplicate", "numbers[2]"),  # the same number as numbers[1], typed otherwise
        ("number.taken", "numbers[3]"),
        ("number.taken", "numbers[4]"),
    ]
    taken = [i.message for i in planned.errors if i.code == "number.taken"]
    assert taken == [
        "+41791234567 is already this account's",
        "+41797654321 is already another account's",  # whose is not said
    ]
    assert len(queries.phone_numbers(acme, OPERATOR, "acme")) == 1  # nothing was added
    no_region = AddPhoneNumbers(account_id="globex", numbers=("079 111 22 33",))
    assert issues(acme, no_region) == [("phone.region_required", "numbers[0]")]
    assert issues(acme, AddPhoneNumbers(account_id="acme", numbers=())) == [
        ("number.required", "numbers")
    ]


def test_a_phone_region_is_one_the_numbering_plans_know(acme: Context) -> None:
    account = queries.get_account(acme, OPERATOR, "globex")
    wrong = UpdateAccount(account_id="globex", version=account.version, phone_region="XX")
    assert issues(acme, wrong) == [("phone.region_unknown", "phone_region")]
    cleared = UpdateAccount(account_id="acme", version=2, phone_region=None)
    assert run(acme, OPERATOR, cleared).phone_region is None


def test_an_assigned_number_stays_until_its_user_goes(acme: Context) -> None:
    ann = access_user(acme, "ann@acme.example")
    (number,) = run(acme, OPERATOR, AddPhoneNumbers(account_id="acme", numbers=("+41791234567",)))
    with acme.store.unit_of_work() as uow:  # assigned as a phone set-up will assign it
        uow.numbers.update(attrs.evolve(number, user_id=ann.id))
        uow.commit()
    assert queries.phone_numbers(acme, OPERATOR, "acme", free_only=True) == []
    assert issues(acme, RemovePhoneNumber(number_id=number.id)) == [
        ("number.assigned", "number_id")
    ]
    run(acme, OPERATOR, DeleteUser(user_id=ann.id))
    (freed,) = queries.phone_numbers(acme, OPERATOR, "acme", free_only=True)
    assert freed.user_id is None
    events = queries.audit_log(acme, OPERATOR, "acme", entity_id=number.id)
    assert [e.detail for e in events] == ["+41791234567", "released"]
    run(acme, OPERATOR, RemovePhoneNumber(number_id=number.id))
    assert queries.phone_numbers(acme, OPERATOR, "acme") == []


def test_two_accounts_racing_for_one_number_leave_it_to_the_first(acme: Context) -> None:
    account = queries.get_account(acme, OPERATOR, "globex")
    run(
        acme,
        OPERATOR,
        UpdateAccount(account_id="globex", version=account.version, phone_region="CH"),
    )
    first = plan(acme, OPERATOR, [AddPhoneNumbers(account_id="acme", numbers=("079 123 45 67",))])
    second = plan(
        acme, OPERATOR, [AddPhoneNumbers(account_id="globex", numbers=("+41 79 123 45 67",))]
    )
    assert first.ok  # each planned before the other was written
    assert second.ok
    apply(acme, first)
    with pytest.raises(ValidationFailed) as caught:
        apply(acme, second)
    assert caught.value.codes == ["number.taken"]
    (held,) = queries.phone_numbers(acme, OPERATOR, "acme")
    assert queries.phone_numbers(acme, OPERATOR, "globex") == []
    assert isinstance(held, DirectNumber)


def test_numbers_are_the_account_s_business_alone(acme: Context) -> None:
    (number,) = run(acme, OPERATOR, AddPhoneNumbers(account_id="acme", numbers=("+41791234567",)))
    member = access_user(acme, "cy@acme.example")
    stranger = access_user(acme, "gus@globex.example", account="globex")
    with pytest.raises(PermissionDenied):
        run(acme, Actor.user(member.id), AddPhoneNumbers(account_id="acme", numbers=("+4144",)))
    with pytest.raises(PermissionDenied):
        queries.phone_numbers(acme, Actor.user(member.id), "acme")
    with pytest.raises(NotFound):  # another tenant's number is as absent as none
        run(acme, Actor.user(stranger.id), RemovePhoneNumber(number_id=number.id))


def test_a_deleted_account_s_numbers_are_free_for_another(acme: Context) -> None:
    run(acme, OPERATOR, AddPhoneNumbers(account_id="acme", numbers=("+41791234567",)))
    run(acme, OPERATOR, DeleteAccount(account_id="acme", confirm_name="Acme"))
    again = run(acme, OPERATOR, AddPhoneNumbers(account_id="globex", numbers=("+41791234567",)))
    assert [n.account_id for n in again] == ["globex"]
