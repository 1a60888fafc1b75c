"""Accounts and classes of service: validation codes and the authorization matrix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest

from conftest import OPERATOR
from provisioning import (
    UNCHANGED,
    Actor,
    Context,
    CreateAccount,
    CreateClassOfService,
    DeleteClassOfService,
    NotFound,
    PermissionDenied,
    UpdateAccount,
    UpdateClassOfService,
    ValidationFailed,
    plan,
    queries,
    run,
)
from provisioning.commands import Command
from provisioning.model import UserStatus
from provisioning.testing import builders as b

ACCOUNT = "a-1"
OTHER = "a-2"


@pytest.fixture
def world(ctx: Context) -> Context:
    """Two accounts; users holding various grants; one class of service in account a-1."""
    with ctx.store.unit_of_work() as uow:
        uow.accounts.add(b.account(ACCOUNT, "Acme"))
        uow.accounts.add(b.account(OTHER, "Globex"))
        uow.domains.add(b.domain("d-1", "acme.example", ACCOUNT))
        uow.domains.add(b.domain("d-2", "globex.example", OTHER))
        uow.classes_of_service.add(b.cos("c-1", "standard", ACCOUNT))
        uow.roles.add(
            attrs.evolve(
                b.role("r-admin", "admins", ACCOUNT),
                permissions=frozenset(
                    {"accounts.create", "accounts.manage", "cos.manage", "audit.read"}
                ),
            )
        )
        everything = frozenset({"accounts.create", "accounts.manage", "cos.manage", "audit.read"})
        people = {
            "holder": ("holder@acme.example", ACCOUNT, everything, frozenset()),
            "role_holder": ("role@acme.example", ACCOUNT, frozenset(), frozenset({"r-admin"})),
            "other": ("other@acme.example", ACCOUNT, frozenset({"audit.read"}), frozenset()),
            "foreign": ("boss@globex.example", OTHER, everything, frozenset()),
            "disabled": ("gone@acme.example", ACCOUNT, everything, frozenset()),
        }
        for user_id, (username, account_id, permissions, roles) in people.items():
            user = b.user(
                user_id,
                username,
                account_id=account_id,
                domain_id="d-1" if account_id == ACCOUNT else "d-2",
            )
            if user_id == "disabled":
                user = attrs.evolve(user, status=UserStatus.DISABLED)
            uow.users.add(user)
            uow.grants.add(
                b.grant(
                    f"g-{user_id}", user_id, account_id, permissions=permissions, role_ids=roles
                )
            )
        uow.commit()
    return ctx


ALLOWED = {"platform", "holder", "role_holder"}
PRINCIPALS = ["platform", "holder", "role_holder", "other", "foreign", "disabled"]


def actor(name: str) -> Actor:
    return OPERATOR if name == "platform" else Actor.user(name)


COMMANDS: dict[str, tuple[Callable[[], Any], set[str]]] = {
    "create top-level account": (lambda: CreateAccount(name="Initech"), {"platform"}),
    "create customer account": (lambda: CreateAccount(name="Initech", parent_id=ACCOUNT), ALLOWED),
    "update account": (
        lambda: UpdateAccount(account_id=ACCOUNT, version=1, name="Acme AG"),
        ALLOWED,
    ),
    "create account cos": (lambda: CreateClassOfService(name="gold", account_id=ACCOUNT), ALLOWED),
    "create platform cos": (lambda: CreateClassOfService(name="gold"), {"platform"}),
    "update cos": (lambda: UpdateClassOfService(cos_id="c-1", version=1, quota_mb=100), ALLOWED),
    "delete cos": (lambda: DeleteClassOfService(cos_id="c-1"), ALLOWED),
}


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("command_name", list(COMMANDS))
def test_authorization_matrix(world: Context, command_name: str, principal: str) -> None:
    make, allowed = COMMANDS[command_name]
    if principal in allowed:
        run(world, actor(principal), make())
        with world.store.unit_of_work() as uow:
            actions = {e.action for e in uow.audit.events() if e.actor == str(actor(principal))}
        assert actions == {type(make()).__name__}
    else:
        # To another account's actor, this account's classes of service do not exist.
        hidden = principal == "foreign" and command_name in {"update cos", "delete cos"}
        code = "cos.not_found" if hidden else "permission.denied"
        with pytest.raises(NotFound if hidden else PermissionDenied) as caught:
            run(world, actor(principal), make())
        assert caught.value.code == code
        planned = plan(world, actor(principal), [make()])
        assert [(i.code, i.command) for i in planned.errors] == [(code, 0)]
        with world.store.unit_of_work() as uow:
            assert uow.audit.events() == []


def test_a_customer_account_records_its_parent(world: Context) -> None:
    child = run(world, Actor.user("holder"), CreateAccount(name="Initech", parent_id=ACCOUNT))
    assert child.parent_id == ACCOUNT
    with world.store.unit_of_work() as uow:
        assert [a.name for a in uow.accounts.children(ACCOUNT)] == ["Initech"]


def test_an_unknown_parent_is_not_found(world: Context) -> None:
    result = plan(world, OPERATOR, [CreateAccount(name="Initech", parent_id="a-404")])
    assert [i.code for i in result.issues] == ["account.not_found"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "account.name_invalid"),
        ("   ", "account.name_invalid"),
        ("-dash first", "account.name_invalid"),
        ("x" * 65, "account.name_invalid"),
        ("semi;colon", "account.name_invalid"),
        ("ACME", "account.name_taken"),
    ],
)
def test_account_name_rules(world: Context, name: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        run(world, OPERATOR, CreateAccount(name=name))
    assert caught.value.codes == [code]


@pytest.mark.parametrize("name", ["Müller & Söhne", "O'Brien Ltd.", "acme_2", "東京 商事"])
def test_account_names_may_use_any_script(world: Context, name: str) -> None:
    assert run(world, OPERATOR, CreateAccount(name=name)).name == name


def test_update_account_changes_only_what_it_names(world: Context) -> None:
    updated = run(
        world,
        OPERATOR,
        UpdateAccount(account_id=ACCOUNT, version=1, personal_mailbox_on_create=True),
    )
    assert (updated.name, updated.personal_mailbox_on_create, updated.version) == ("Acme", True, 2)
    renamed = run(
        world, OPERATOR, UpdateAccount(account_id=ACCOUNT, version=2, name="acme")
    )  # own name, new case
    assert renamed.name == "acme"
    with pytest.raises(ValidationFailed) as caught:
        run(world, OPERATOR, UpdateAccount(account_id=ACCOUNT, version=3, name="globex"))
    assert caught.value.codes == ["account.name_taken"]


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        (CreateClassOfService(name="", account_id=ACCOUNT), ["cos.name_invalid"]),
        (CreateClassOfService(name="STANDARD", account_id=ACCOUNT), ["cos.name_taken"]),
        (
            CreateClassOfService(name="x", account_id=ACCOUNT, system=True),
            ["cos.system_platform_only"],
        ),
        (CreateClassOfService(name="x", account_id=ACCOUNT, quota_mb=-5), ["cos.quota_invalid"]),
        (CreateClassOfService(name="x", account_id=ACCOUNT, quota_mb=True), ["value.type"]),
        (
            CreateClassOfService(name="x", account_id=ACCOUNT, features=frozenset({"Imap"})),
            ["cos.feature_invalid"],
        ),
        (CreateClassOfService(name="x", account_id="a-404"), ["account.not_found"]),
    ],
)
def test_class_of_service_rules(
    world: Context, command: CreateClassOfService, codes: list[str]
) -> None:
    assert [i.code for i in plan(world, OPERATOR, [command]).issues] == codes


def test_an_account_cos_may_not_shadow_a_platform_one(world: Context) -> None:
    run(world, OPERATOR, CreateClassOfService(name="catchall_cos", system=True))
    result = plan(world, OPERATOR, [CreateClassOfService(name="Catchall_COS", account_id=ACCOUNT)])
    assert [i.code for i in result.issues] == ["cos.name_taken"]


def test_a_class_of_service_is_created_with_its_flags(world: Context) -> None:
    cos = run(
        world,
        Actor.user("holder"),
        CreateClassOfService(
            name="clrstreamadmincos",
            account_id=ACCOUNT,
            description="Admins: panel access",
            admin_panel=True,
            quota_mb=2048,
            features=["imap", "secondary-mailboxes"],
        ),
    )
    assert (cos.admin_panel, cos.quota_mb, cos.features, cos.system) == (
        True,
        2048,
        frozenset({"imap", "secondary-mailboxes"}),
        False,
    )


def test_update_cos_keeps_unchanged_fields_and_may_clear_the_quota(world: Context) -> None:
    first = run(
        world,
        OPERATOR,
        UpdateClassOfService(cos_id="c-1", version=1, quota_mb=500, description="std"),
    )
    assert (first.quota_mb, first.description, first.version) == (500, "std", 2)
    second = run(world, OPERATOR, UpdateClassOfService(cos_id="c-1", version=2, quota_mb=None))
    assert (second.quota_mb, second.description) == (None, "std")
    assert UpdateClassOfService(cos_id="c-1", version=2).quota_mb is UNCHANGED
    with pytest.raises(ValidationFailed) as caught:
        run(
            world,
            OPERATOR,
            UpdateClassOfService(cos_id="c-1", version=3, features=frozenset({"Bad Name"})),
        )
    assert caught.value.codes == ["cos.feature_invalid"]


def test_a_cos_in_use_cannot_be_deleted(world: Context) -> None:
    with world.store.unit_of_work() as uow:
        uow.users.add(b.user("u-9", "user9@acme.example", cos_id="c-1"))
        uow.commit()
    with pytest.raises(ValidationFailed) as caught:
        run(world, OPERATOR, DeleteClassOfService(cos_id="c-1"))
    assert caught.value.codes == ["cos.in_use"]
    with world.store.unit_of_work() as uow:
        uow.users.remove("u-9")
        domain = uow.domains.get("d-1")
        uow.domains.update(attrs.evolve(domain, default_cos_id="c-1"))
        uow.commit()
    with pytest.raises(ValidationFailed) as caught:
        run(world, OPERATOR, DeleteClassOfService(cos_id="c-1"))
    assert "default of 1 domain" in caught.value.issues[0].message


def test_deleting_a_cos_removes_it_and_is_audited(world: Context) -> None:
    run(world, OPERATOR, DeleteClassOfService(cos_id="c-1", version=1))
    with world.store.unit_of_work() as uow:
        assert uow.classes_of_service.find("c-1") is None
        assert [(e.action, e.entity_id) for e in uow.audit.events(account_id=ACCOUNT)] == [
            ("DeleteClassOfService", "c-1")
        ]


def test_queries_check_permissions_and_tenancy(world: Context) -> None:
    run(world, OPERATOR, CreateClassOfService(name="catchall_cos", system=True))
    assert queries.get_account(world, Actor.user("other"), ACCOUNT).name == "Acme"
    assert [c.name for c in queries.classes_of_service(world, Actor.user("other"), ACCOUNT)] == [
        "catchall_cos",
        "standard",
    ]
    assert queries.permissions(world, Actor.user("other"), ACCOUNT) == {"audit.read"}
    assert queries.permissions(world, Actor.user("foreign"), ACCOUNT) == frozenset()
    assert queries.permissions(world, Actor.user("role_holder"), ACCOUNT) >= {"cos.manage"}
    with pytest.raises(PermissionDenied):
        queries.get_account(world, Actor.user("foreign"), ACCOUNT)
    with pytest.raises(PermissionDenied):
        queries.classes_of_service(world, Actor.user("foreign"), ACCOUNT)
    with pytest.raises(PermissionDenied):
        queries.classes_of_service(world, Actor.user("holder"), None)
    with pytest.raises(PermissionDenied):
        queries.audit_log(world, Actor.user("role_holder"), OTHER)
    run(world, Actor.user("holder"), UpdateAccount(account_id=ACCOUNT, version=1, name="Acme AG"))
    assert [e.action for e in queries.audit_log(world, Actor.user("other"), ACCOUNT)] == [
        "UpdateAccount"
    ]


def test_a_batch_may_create_an_account_and_refer_to_it_by_a_chosen_id(world: Context) -> None:
    result = plan(
        world,
        OPERATOR,
        [
            CreateAccount(name="Initech", account_id="initech"),
            CreateClassOfService(name="standard", account_id="initech", cos_id="initech-std"),
        ],
    )
    assert result.ok, result.issues
    with world.store.unit_of_work() as uow:
        assert uow.accounts.find("initech") is None  # planning wrote nothing


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        (CreateAccount(name="Initech", account_id="a-1"), ["id.taken"]),
        (CreateAccount(name="Initech", account_id=""), ["id.invalid"]),
        (CreateAccount(name="Initech", account_id="has space"), ["id.invalid"]),
        (CreateClassOfService(name="gold", account_id=ACCOUNT, cos_id="c-1"), ["id.taken"]),
        (CreateClassOfService(name="gold", account_id=ACCOUNT, cos_id="x" * 65), ["id.invalid"]),
    ],
)
def test_chosen_ids_must_be_well_formed_and_free(
    world: Context, command: Command[Any], codes: list[str]
) -> None:
    assert [i.code for i in plan(world, OPERATOR, [command]).issues] == codes


def test_accounts_lists_what_the_actor_holds_a_permission_in(world: Context) -> None:
    names = {
        principal: [account.name for account in queries.accounts(world, actor(principal))]
        for principal in ("platform", "holder", "foreign", "disabled")
    }
    assert names == {
        "platform": ["Acme", "Globex"],
        "holder": ["Acme"],
        "foreign": ["Globex"],
        "disabled": [],  # a disabled user holds nothing
    }
    assert list(queries.accounts(world, Actor.user("nobody"))) == []
