"""What identity providers send, in the model: external ids and the organisation's attributes.

An external id is case-exact and unique in an account among one directory's
users, found in one read; the attributes are typed text on the profile,
exported, and changed by administrators (not by the user itself).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from conftest import OPERATOR, active_domain
from provisioning import (
    Actor,
    Conflict,
    Context,
    CreateAccount,
    CreateApiClient,
    CreateUser,
    DirectoryEntry,
    NotFound,
    PermissionDenied,
    SetGrant,
    SyncDirectory,
    UpdateUser,
    UsageError,
    plan,
    queries,
    run,
    to_export,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.model import DIRECTORY_ATTRIBUTES, Profile, User

ATTRIBUTES: dict[str, Any] = {
    "title": "Head of Sales",
    "department": "Sales",
    "employee_number": "E-1042",
    "cost_center": "CC 7",
    "organization": "Acme Holding",
    "division": "EMEA",
    "manager": "00u1b2c3",
    "locale": "de_CH",
    "preferred_language": "de",
}


def _new(ctx: Context, name: str, actor: Actor = OPERATOR, **fields: Any) -> User:
    user: User = run(
        ctx, actor, CreateUser(account_id="acme", username=f"{name}@acme.example", **fields)
    )
    return user


def _codes(ctx: Context, actor: Actor, *commands: Any) -> list[str]:
    return [issue.code for issue in plan(ctx, actor, list(commands)).errors]


def test_the_attributes_are_kept_typed_and_exported(acme: Context) -> None:
    ann = _new(acme, "ann", external_id="00uAnn", **ATTRIBUTES)
    assert set(DIRECTORY_ATTRIBUTES) == set(ATTRIBUTES)
    kept = {name: getattr(ann.profile, name) for name in DIRECTORY_ATTRIBUTES}
    assert kept == {**ATTRIBUTES, "locale": "de-CH"}  # an underscore is read as a hyphen
    stored = queries.get_user(acme, OPERATOR, ann.id)
    assert stored.profile == ann.profile
    assert stored.external_id == "00uAnn"
    exported = to_export(stored)
    assert exported["external_id"] == "00uAnn"
    assert exported["profile"]["department"] == "Sales"


def test_an_external_id_is_found_in_one_read_and_case_exact(acme: Context) -> None:
    ann = _new(acme, "ann", external_id="00uAnn")
    found = queries.find_user(acme, OPERATOR, external_id="00uAnn", account_id="acme")
    assert found.id == ann.id
    with pytest.raises(NotFound) as absent:
        queries.find_user(acme, OPERATOR, external_id="00UANN", account_id="acme")
    assert absent.value.key == "00UANN"
    with pytest.raises(NotFound):  # it is unique among the users of no directory here
        queries.find_user(acme, OPERATOR, external_id="00uAnn", account_id="acme", directory="x")


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"external_id": "00uAnn"},  # no account to look in
        {"external_id": "00uAnn", "username": "ann@acme.example", "account_id": "acme"},
        {"username": "ann@acme.example", "address": "ann@acme.example"},
    ],
)
def test_find_user_takes_exactly_one_key(acme: Context, arguments: dict[str, str]) -> None:
    with pytest.raises(UsageError) as refused:
        queries.find_user(acme, OPERATOR, **arguments)
    assert refused.value.code == "query.argument_invalid"


def test_an_external_id_is_unique_in_an_account_among_one_directory_s_users(
    acme: Context, dns: MemoryDns
) -> None:
    _new(acme, "ann", external_id="00u1")
    assert _codes(
        acme, OPERATOR, CreateUser(account_id="acme", username="b@acme.example", external_id="00u1")
    ) == ["user.external_id_taken"]
    # Two in one batch: the second sees the first.
    twins = [
        CreateUser(account_id="acme", username=f"{n}@acme.example", external_id="00u2")
        for n in ("c", "d")
    ]
    assert _codes(acme, OPERATOR, *twins) == ["user.external_id_taken"]
    # Case-exact: another id.
    assert (
        _codes(
            acme,
            OPERATOR,
            CreateUser(account_id="acme", username="e@acme.example", external_id="00U1"),
        )
        == []
    )
    # Another directory's users of the account, and another account, have ids of their own.
    okta = queries.authenticate_client(
        acme,
        run(
            acme,
            OPERATOR,
            CreateApiClient(
                account_id="acme",
                name="Okta",
                role_ids={"system:administrator"},
                directory_service="okta",
            ),
        ).token,
    )
    pat = _new(acme, "pat", okta, external_id="00u1")
    found = queries.find_user(acme, okta, external_id="00u1", account_id="acme", directory="okta")
    assert found.id == pat.id
    assert _codes(
        acme, okta, CreateUser(account_id="acme", username="q@acme.example", external_id="00u1")
    ) == ["user.external_id_taken"]
    run(acme, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    active_domain(acme, dns, "globex", "globex.example", admin_email="it@gx.example")
    other = CreateUser(account_id="globex", username="ann@globex.example", external_id="00u1")
    assert _codes(acme, OPERATOR, other) == []


def test_the_store_itself_refuses_a_second_holder_of_an_external_id(acme: Context) -> None:
    ann = _new(acme, "ann", external_id="00u1")
    bob = _new(acme, "bob")
    with pytest.raises(Conflict) as refused, acme.store.unit_of_work() as uow:
        uow.users.update(attrs.evolve(bob, external_id="00u1"))
        uow.commit()
    assert refused.value.code == "user.external_id_taken"
    assert queries.get_user(acme, OPERATOR, ann.id).external_id == "00u1"


def test_an_update_sets_changes_and_forgets_an_external_id(acme: Context) -> None:
    ann = _new(acme, "ann")
    _new(acme, "bob", external_id="00uBob")
    ann = run(acme, OPERATOR, UpdateUser(user_id=ann.id, version=ann.version, external_id="00uAnn"))
    assert ann.external_id == "00uAnn"
    taken = UpdateUser(user_id=ann.id, version=ann.version, external_id="00uBob")
    assert _codes(acme, OPERATOR, taken) == ["user.external_id_taken"]
    blank = UpdateUser(user_id=ann.id, version=ann.version, external_id="  ")
    assert _codes(acme, OPERATOR, blank) == ["user.external_id_invalid"]
    same = UpdateUser(user_id=ann.id, version=ann.version, external_id="00uAnn")
    assert _codes(acme, OPERATOR, same) == []  # its own id is no clash
    ann = run(acme, OPERATOR, UpdateUser(user_id=ann.id, version=ann.version, external_id=None))
    assert ann.external_id is None
    with pytest.raises(NotFound):
        queries.find_user(acme, OPERATOR, external_id="00uAnn", account_id="acme")
    # The freed id may be someone else's now.
    assert _new(acme, "cy", external_id="00uAnn").external_id == "00uAnn"


def test_an_update_changes_only_the_attributes_it_names(acme: Context) -> None:
    ann = _new(acme, "ann", **ATTRIBUTES)
    ann = run(
        acme,
        OPERATOR,
        UpdateUser(user_id=ann.id, version=ann.version, department="Marketing", manager=""),
    )
    assert (ann.profile.department, ann.profile.manager) == ("Marketing", "")
    assert ann.profile.title == ATTRIBUTES["title"]
    assert ann.profile.locale == "de-CH"


@pytest.mark.parametrize("tag", ["en US", "english!", "x" * 9, "-en", "en--us"])
def test_a_language_tag_that_is_none_is_an_issue(acme: Context, tag: str) -> None:
    for field in ("locale", "preferred_language"):
        given: dict[str, Any] = {field: tag}
        command = CreateUser(account_id="acme", username="ann@acme.example", **given)
        (issue,) = plan(acme, OPERATOR, [command]).errors
        assert (issue.code, issue.field) == ("user.language_invalid", field)


@pytest.mark.parametrize("text", ["a" * 257, "line\nbreak", "\u202eevil"])
def test_an_attribute_is_bounded_one_line_text(acme: Context, text: str) -> None:
    command = CreateUser(account_id="acme", username="ann@acme.example", title=text)
    assert [i.code for i in plan(acme, OPERATOR, [command]).errors] in (
        ["text.too_long"],
        ["text.invalid"],
    )


def test_a_user_changes_its_own_name_but_not_what_the_organisation_says_of_it(
    acme: Context,
) -> None:
    ann = _new(
        acme,
        "ann",
        password="Blue-Lantern-Walks-42",
        password_repeat="Blue-Lantern-Walks-42",
    )
    me = Actor.user(ann.id)
    assert _codes(acme, me, UpdateUser(user_id=ann.id, version=ann.version, first_name="A")) == []
    for field in ("title", "manager", "external_id"):
        chief: dict[str, Any] = {field: "Chief"}
        promote = UpdateUser(user_id=ann.id, version=ann.version, **chief)
        assert _codes(acme, me, promote) == ["permission.denied"]


def test_a_stranger_learns_nothing_from_an_external_id(acme: Context, dns: MemoryDns) -> None:
    ann = _new(acme, "ann", external_id="00uAnn")
    run(acme, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    active_domain(acme, dns, "globex", "globex.example", admin_email="it@gx.example")
    outsider = run(acme, OPERATOR, CreateUser(account_id="globex", username="gus@globex.example"))
    for external_id in ("00uAnn", "nobody"):
        with pytest.raises(NotFound) as hidden:
            queries.find_user(
                acme, Actor.user(outsider.id), external_id=external_id, account_id="acme"
            )
        assert ann.id not in str(hidden.value)
        assert hidden.value.key == external_id


def test_a_profile_without_attributes_is_as_before() -> None:
    assert all(getattr(Profile(), name) == "" for name in DIRECTORY_ATTRIBUTES)


# -- the users an integration asks for ------------------------------------------------------------


def _names(page: Any) -> list[str]:
    return [str(user.username) for user in page]


def test_find_users_filters_in_the_store_and_returns_users_in_full(
    acme: Context, clock: Any
) -> None:
    ann = _new(acme, "ann", external_id="00uAnn", title="Engineer", aliases=("a@acme.example",))
    bob = _new(acme, "bob", enabled=False)
    clock.advance(minutes=10)
    since = clock.now()
    clock.advance(minutes=1)
    cy = _new(acme, "cy")
    ann = run(acme, OPERATOR, UpdateUser(user_id=ann.id, version=ann.version, department="R&D"))
    every = queries.find_users(acme, OPERATOR, "acme")
    assert _names(every) == [
        "ann@acme.example",
        "bob@acme.example",
        "cy@acme.example",
        "postmaster@acme.example",
    ]
    assert every.items[0].profile.title == "Engineer"  # in full, no second read
    assert _names(queries.find_users(acme, OPERATOR, "acme", enabled=False)) == [str(bob.username)]
    changed = queries.find_users(acme, OPERATOR, "acme", changed_since=since)
    assert (_names(changed), changed.total) == (["ann@acme.example", str(cy.username)], 2)
    assert _names(queries.find_users(acme, OPERATOR, "acme", username="ANN@acme.example")) == [
        "ann@acme.example"
    ]
    assert _names(queries.find_users(acme, OPERATOR, "acme", username="a@acme.example")) == []
    assert _names(queries.find_users(acme, OPERATOR, "acme", address="a@acme.example")) == [
        "ann@acme.example"
    ]
    assert _names(queries.find_users(acme, OPERATOR, "acme", external_id="00uAnn")) == [
        "ann@acme.example"
    ]
    disagreeing = queries.find_users(
        acme, OPERATOR, "acme", external_id="00uAnn", username="bob@acme.example"
    )
    assert (disagreeing.items, disagreeing.total) == ((), 0)
    assert (
        queries.find_users(acme, OPERATOR, "acme", username="ann@acme.example", enabled=False).total
        == 0
    )


def test_find_users_pages_by_cursor(acme: Context) -> None:
    for n in range(7):
        _new(acme, f"user{n}")
    seen: list[str] = []
    after = None
    while True:
        page = queries.find_users(acme, OPERATOR, "acme", limit=3, after=after)
        seen += _names(page)
        assert page.total == 8
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == sorted(seen)
    assert len(seen) == 8


def test_find_users_answers_only_who_may_read_the_account(acme: Context, dns: MemoryDns) -> None:
    ann = _new(
        acme, "ann", password="Blue-Lantern-Walks-42", password_repeat="Blue-Lantern-Walks-42"
    )
    with pytest.raises(PermissionDenied):
        queries.find_users(acme, Actor.user(ann.id), "acme")
    run(acme, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    active_domain(acme, dns, "globex", "globex.example", admin_email="it@gx.example")
    gus = run(acme, OPERATOR, CreateUser(account_id="globex", username="gus@globex.example"))
    run(acme, OPERATOR, SetGrant(user_id=gus.id, account_id="globex", role_ids={"system:owner"}))
    with pytest.raises(NotFound):
        queries.find_users(acme, Actor.user(gus.id), "acme", username="ann@acme.example")
    # Globex's owner asking its own account for Acme's user finds no one there.
    mine = queries.find_users(acme, Actor.user(gus.id), "globex", username="ann@acme.example")
    assert (mine.items, mine.total) == ((), 0)


# -- a directory's whole list --------------------------------------------------------------------


def _sync(ctx: Context, *entries: DirectoryEntry) -> Any:
    command = SyncDirectory(account_id="acme", directory_service="ad", entries=entries)
    return run(ctx, OPERATOR, command)


def test_a_sync_carries_external_ids_and_attributes_and_changes_them(acme: Context) -> None:
    entry = DirectoryEntry(
        username="dora@acme.example",
        first_name="Dora",
        external_id="S-1-5-21-1",
        title="Engineer",
        locale="de_CH",
    )
    assert _sync(acme, entry).created == ("dora@acme.example",)
    dora = queries.find_user(
        acme, OPERATOR, external_id="S-1-5-21-1", account_id="acme", directory="ad"
    )
    assert (dora.profile.title, dora.profile.locale) == ("Engineer", "de-CH")
    assert _sync(acme, entry).unchanged == ("dora@acme.example",)
    promoted = attrs.evolve(entry, title="Lead", external_id="S-1-5-21-9")
    assert _sync(acme, promoted).updated == ("dora@acme.example",)
    dora = queries.get_user(acme, OPERATOR, dora.id)
    assert (dora.profile.title, dora.external_id) == ("Lead", "S-1-5-21-9")


def test_a_sync_refuses_an_external_id_twice_or_held_by_another(acme: Context) -> None:
    first = DirectoryEntry(username="a@acme.example", external_id="X-1")
    second = DirectoryEntry(username="b@acme.example", external_id="X-1")
    refused = plan(
        acme,
        OPERATOR,
        [SyncDirectory(account_id="acme", directory_service="ad", entries=(first, second))],
    )
    assert [(i.code, i.field) for i in refused.errors] == [
        ("directory.duplicate_entry", "entries[1].external_id")
    ]
    _sync(acme, first)
    moved = DirectoryEntry(username="b@acme.example", external_id="X-1")
    held = plan(
        acme,
        OPERATOR,
        [SyncDirectory(account_id="acme", directory_service="ad", entries=(moved,))],
    )
    assert [(i.code, i.field) for i in held.errors] == [
        ("user.external_id_taken", "entries[0].external_id")  # a (left out: disabled) holds it
    ]
    bad = DirectoryEntry(username="c@acme.example", preferred_language="??")
    tagged = plan(
        acme,
        OPERATOR,
        [SyncDirectory(account_id="acme", directory_service="ad", entries=(bad,))],
    )
    assert [(i.code, i.field) for i in tagged.errors] == [
        ("user.language_invalid", "entries[0].preferred_language")
    ]
