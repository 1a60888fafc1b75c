"""API clients: machine principals of an account, on every store.

A client holds roles like a user's grant, in its own account only, while it
is neither revoked nor expired; its token is shown once and only a hash of
its secret is kept; whoever changes it must outrank it; a directory's client
alone changes that directory's users one by one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import OPERATOR, active_domain
from provisioning import (
    AcceptInvitation,
    Actor,
    Context,
    CreateAccount,
    CreateAdmin,
    CreateApiClient,
    CreateMailbox,
    CreateRole,
    CreateUser,
    DeleteAccount,
    DeleteRole,
    DeleteUser,
    InviteUser,
    NotFound,
    PermissionDenied,
    ResetPassword,
    RevokeApiClient,
    RotateApiClientSecret,
    SetGrant,
    SetPassword,
    TargetOutranks,
    Unauthenticated,
    UpdateApiClient,
    UpdateUser,
    plan,
    queries,
    run,
    to_export,
)
from provisioning.adapters.memory import FixedClock, MemoryDns
from provisioning.adapters.sql import SqliteStore
from provisioning.model import ApiClient, User, UserSource, UserStatus
from provisioning.results import ApiClientIssued

ADMINISTRATOR = frozenset({"system:administrator"})


def _client(ctx: Context, actor: Actor = OPERATOR, **fields: Any) -> ApiClientIssued:
    values: dict[str, Any] = {"account_id": "acme", "name": "Okta", "role_ids": ADMINISTRATOR}
    issued: ApiClientIssued = run(ctx, actor, CreateApiClient(**{**values, **fields}))
    return issued


def _person(ctx: Context, name: str, roles: set[str], account: str = "acme") -> Actor:
    user: User = run(
        ctx,
        OPERATOR,
        CreateAdmin(
            account_id=account,
            address=f"{name}@{account}.example",
            primary_email=f"{name}@home.example",
            role_ids=frozenset(roles),
        ),
    )
    return Actor.user(user.id)


def _keeper(ctx: Context) -> Actor:
    """A plain user holding `clients.manage` and `users.read` only."""
    user = run(ctx, OPERATOR, CreateUser(account_id="acme", username="keeper@acme.example"))
    held = {"clients.manage", "users.read"}
    run(ctx, OPERATOR, SetGrant(user_id=user.id, account_id="acme", permissions=held))
    return Actor.user(user.id)


def _codes(ctx: Context, actor: Actor, command: Any) -> list[str]:
    return [issue.code for issue in plan(ctx, actor, [command]).errors]


def test_a_client_acts_with_its_roles_in_its_account_only(acme: Context, dns: MemoryDns) -> None:
    run(acme, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    active_domain(acme, dns, "globex", "globex.example", admin_email="it@gx.example")
    mailbox = run(acme, OPERATOR, CreateMailbox(account_id="acme", address="desk@acme.example"))
    issued = _client(acme)
    okta = queries.authenticate_client(acme, issued.token)
    assert okta.kind == "client"
    proved = queries.client_of_token(acme, issued.token)
    assert (proved.id, proved.account_id) == (issued.client.id, "acme")
    held = queries.permissions(acme, okta, "acme")
    assert "users.create" in held
    assert "clients.manage" not in held
    assert not queries.permissions(acme, okta, "globex")
    assert not queries.permissions(acme, okta, "acme", mailbox_id=mailbox.id)
    ann = run(acme, okta, CreateUser(account_id="acme", username="ann@acme.example"))
    assert ann.source is UserSource.MANUAL  # a client of no directory makes ordinary users
    with pytest.raises(PermissionDenied):
        run(acme, okta, CreateUser(account_id="globex", username="bob@globex.example"))
    with pytest.raises(PermissionDenied):
        queries.users(acme, okta, "globex")
    events = queries.audit_log(acme, OPERATOR, "acme").items
    assert any(e.actor == str(okta) and e.action == "CreateUser" for e in events)


def test_the_token_is_shown_once_and_never_kept(acme: Context) -> None:
    issued = _client(acme)
    assert issued.token.startswith(f"pvc_{issued.client.id}~")
    secret = issued.token.rpartition("~")[2]
    assert issued.token not in repr(issued)
    shown = json.dumps(to_export(issued), default=str)
    assert secret not in shown
    assert "secret_hash" not in shown
    (listed,) = queries.api_clients(acme, OPERATOR, "acme")
    assert secret not in repr(listed)
    assert secret not in listed.secret_hash
    assert isinstance(listed, ApiClient)


def test_no_token_is_stored_in_the_database(tmp_path: Any, clock: FixedClock) -> None:
    path = tmp_path / "tenants.db"
    store = SqliteStore(path)
    ctx = Context(store=store, clock=clock)
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    issued = _client(ctx)
    secret = issued.token.rpartition("~")[2]
    store.close()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM api_clients")).all()
    engine.dispose()
    assert len(rows) == 1
    assert all(secret not in str(value) for value in rows[0])


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token + "x",
        lambda token: token[:-1],
        lambda token: token.replace("pvc_", "pvx_"),
        lambda token: token.replace("~", "."),
        lambda token: token.partition("~")[0] + "~",
        lambda token: "pvc_nobody~" + token.rpartition("~")[2],
        lambda token: "pvc_\x00~" + token.rpartition("~")[2],
        lambda token: token + "~" * 100_000,
        lambda _: "",
    ],
)
def test_a_wrong_token_proves_nothing_and_is_never_repeated(acme: Context, mangle: Any) -> None:
    token = _client(acme).token
    wrong = mangle(token)
    with pytest.raises(Unauthenticated) as refused:
        queries.authenticate_client(acme, wrong)
    assert refused.value.code == "client.unauthenticated"
    assert refused.value.category == "unauthenticated"
    assert str(refused.value) == "client.unauthenticated: the token is not one of a live API client"


def test_rotating_stops_the_old_token_and_revoking_stops_all(acme: Context) -> None:
    issued = _client(acme)
    okta = queries.authenticate_client(acme, issued.token)
    rotated = run(acme, OPERATOR, RotateApiClientSecret(client_id=issued.client.id))
    assert rotated.token != issued.token
    assert rotated.client.rotated_at is not None
    with pytest.raises(Unauthenticated):
        queries.authenticate_client(acme, issued.token)
    assert queries.authenticate_client(acme, rotated.token) == okta
    run(acme, OPERATOR, RevokeApiClient(client_id=issued.client.id))
    with pytest.raises(Unauthenticated):
        queries.authenticate_client(acme, rotated.token)
    # An actor authenticated before the revocation holds nothing after it.
    assert not queries.permissions(acme, okta, "acme")
    assert _codes(acme, okta, CreateUser(account_id="acme", username="x@acme.example")) == [
        "permission.denied"
    ]
    for command in (
        RotateApiClientSecret(client_id=issued.client.id),
        RevokeApiClient(client_id=issued.client.id),
        UpdateApiClient(client_id=issued.client.id, version=3, role_ids=set()),
    ):
        assert _codes(acme, OPERATOR, command) == ["client.revoked"]
    (listed,) = queries.api_clients(acme, OPERATOR, "acme")
    assert listed.revoked_at is not None  # still listed: the audit log names it


def test_a_client_ends_by_the_clock(acme: Context, clock: FixedClock) -> None:
    issued = _client(acme, valid_days=1)
    okta = queries.authenticate_client(acme, issued.token)
    assert queries.permissions(acme, okta, "acme")
    clock.advance(days=1)
    assert not queries.permissions(acme, okta, "acme")
    with pytest.raises(Unauthenticated):
        queries.authenticate_client(acme, issued.token)
    stored = queries.get_api_client(acme, OPERATOR, issued.client.id)
    renewed = run(
        acme, OPERATOR, UpdateApiClient(client_id=stored.id, version=stored.version, valid_days=30)
    )
    assert renewed.expires_at is not None
    assert queries.authenticate_client(acme, issued.token) == okta


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": ""}, "client.name_invalid"),
        ({"name": "okta"}, "client.name_taken"),  # names fold case
        ({"valid_days": 0}, "client.validity_invalid"),
        ({"valid_days": 3651}, "client.validity_invalid"),
        ({"directory_service": " "}, "client.directory_invalid"),
        ({"directory_service": "ok\nta"}, "text.invalid"),  # every text field refuses it
        ({"directory_service": "x" * 129}, "client.directory_invalid"),
        ({"role_ids": {"system:manager"}}, "role.wrong_scope"),
        ({"role_ids": {"no-such-role"}}, "role.not_found"),
        ({"permissions": {"mailbox.read"}}, "permission.wrong_scope"),
        ({"permissions": {"users.fly"}}, "permission.unknown"),
        ({"client_id": "bad id"}, "id.invalid"),
    ],
)
def test_bad_input_is_an_issue(acme: Context, fields: dict[str, Any], code: str) -> None:
    _client(acme)
    values: dict[str, Any] = {"account_id": "acme", "name": "Other", **fields}
    assert _codes(acme, OPERATOR, CreateApiClient(**values)) == [code]


def test_only_owners_make_clients_and_never_beyond_what_they_hold(acme: Context) -> None:
    owner = _person(acme, "owner", {"system:owner"})
    admin = _person(acme, "admin", {"system:administrator"})
    assert _codes(acme, admin, CreateApiClient(account_id="acme", name="Mine")) == [
        "permission.denied"
    ]
    keeper = _keeper(acme)
    beyond = CreateApiClient(account_id="acme", name="Big", role_ids=ADMINISTRATOR)
    assert _codes(acme, keeper, beyond) == ["grant.escalation"]
    small = run(
        acme, keeper, CreateApiClient(account_id="acme", name="Small", permissions={"users.read"})
    )
    assert small.client.created_by == str(keeper)
    assert _codes(acme, owner, beyond) == []


def test_whoever_changes_a_client_must_hold_all_it_holds(acme: Context) -> None:
    big = _client(acme)
    keeper = _keeper(acme)
    for command in (
        RevokeApiClient(client_id=big.client.id),
        RotateApiClientSecret(client_id=big.client.id),
        UpdateApiClient(client_id=big.client.id, version=1, role_ids=set()),
    ):
        assert _codes(acme, keeper, command) == ["permission.target_outranks"]
        with pytest.raises(TargetOutranks):
            run(acme, keeper, command)
    # A client holding `clients.manage` may rotate its own token, never raise itself.
    robot = _client(
        acme, name="Robot", role_ids=set(), permissions={"clients.manage", "users.read"}
    )
    robot_actor = queries.authenticate_client(acme, robot.token)
    rotated = run(acme, robot_actor, RotateApiClientSecret(client_id=robot.client.id))
    robot_actor = queries.authenticate_client(acme, rotated.token)
    raise_self = UpdateApiClient(client_id=robot.client.id, version=2, role_ids=ADMINISTRATOR)
    assert _codes(acme, robot_actor, raise_self) == ["grant.escalation"]


def test_a_client_outranks_no_one_who_holds_more(acme: Context) -> None:
    owner = _person(acme, "owner", {"system:owner"})
    okta = queries.authenticate_client(acme, _client(acme).token)
    target = run(acme, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    assert _codes(acme, okta, ResetPassword(user_id=owner.id)) == ["permission.target_outranks"]
    assert _codes(acme, okta, ResetPassword(user_id=target.id)) == []


def test_another_tenant_sees_no_client(acme: Context, dns: MemoryDns) -> None:
    run(acme, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    active_domain(acme, dns, "globex", "globex.example", admin_email="it@gx.example")
    stranger = _person(acme, "boss", {"system:owner"}, account="globex")
    issued = _client(acme)
    for command in (
        RevokeApiClient(client_id=issued.client.id),
        RotateApiClientSecret(client_id=issued.client.id),
        UpdateApiClient(client_id=issued.client.id, version=1, name="Mine"),
    ):
        assert _codes(acme, stranger, command) == ["client.not_found"]
        assert _codes(acme, stranger, attrs_with_id(command, "nobody")) == ["client.not_found"]
    with pytest.raises(NotFound) as hidden:
        queries.get_api_client(acme, stranger, issued.client.id)
    assert hidden.value.code == "client.not_found"
    with pytest.raises(NotFound):
        queries.api_clients(acme, stranger, "acme")
    globex_client = _client(acme, account_id="globex", name="Okta")  # names are per account
    assert globex_client.client.account_id == "globex"
    assert [c.id for c in queries.api_clients(acme, stranger, "globex")] == [
        globex_client.client.id
    ]


def attrs_with_id(command: Any, client_id: str) -> Any:
    import attrs  # noqa: PLC0415

    return attrs.evolve(command, client_id=client_id)


def test_a_directory_client_alone_changes_its_users(acme: Context) -> None:
    owner = _person(acme, "owner", {"system:owner"})
    okta = queries.authenticate_client(acme, _client(acme, directory_service="okta").token)
    entra = queries.authenticate_client(
        acme, _client(acme, name="Entra", directory_service="entra").token
    )
    plain = queries.authenticate_client(acme, _client(acme, name="Script").token)
    pat = run(acme, okta, CreateUser(account_id="acme", username="pat@acme.example"))
    assert (pat.source, pat.directory_service) == (UserSource.DIRECTORY, "okta")
    rename = UpdateUser(user_id=pat.id, version=pat.version, first_name="Patricia")
    for other in (owner, entra, plain, OPERATOR):
        assert _codes(acme, other, rename) == ["user.directory_managed"]
    chosen = "Blue-Lantern-Walks-42"
    password = SetPassword(user_id=pat.id, password=chosen, password_repeat=chosen)
    assert _codes(acme, owner, password) == ["user.directory_managed"]
    assert _codes(acme, okta, password) == []
    pat = run(acme, okta, rename)
    pat = run(acme, okta, UpdateUser(user_id=pat.id, version=pat.version, enabled=False))
    assert (pat.profile.first_name, pat.status) == ("Patricia", UserStatus.DISABLED)
    pat = run(acme, okta, UpdateUser(user_id=pat.id, version=pat.version, enabled=True))
    assert pat.status is UserStatus.ACTIVE
    assert _codes(acme, owner, DeleteUser(user_id=pat.id)) == ["user.directory_managed"]
    run(acme, okta, DeleteUser(user_id=pat.id))
    with pytest.raises(NotFound):
        queries.get_user(acme, OPERATOR, pat.id)


def test_a_held_role_is_detached_before_it_goes(acme: Context) -> None:
    helpers = run(
        acme,
        OPERATOR,
        CreateRole(account_id="acme", name="Helpers", permissions={"users.read"}, role_id="r-1"),
    )
    issued = _client(acme, role_ids={helpers.id})
    okta = queries.authenticate_client(acme, issued.token)
    assert _codes(acme, OPERATOR, DeleteRole(role_id=helpers.id)) == ["role.in_use"]
    run(acme, OPERATOR, DeleteRole(role_id=helpers.id, detach=True))
    assert queries.get_api_client(acme, OPERATOR, issued.client.id).role_ids == frozenset()
    # A new role under the old id gives the client nothing back.
    run(
        acme,
        OPERATOR,
        CreateRole(account_id="acme", name="Again", permissions={"users.manage"}, role_id="r-1"),
    )
    assert not queries.permissions(acme, okta, "acme")


def test_deleting_the_account_deletes_its_clients(acme: Context) -> None:
    issued = _client(acme)
    run(acme, OPERATOR, DeleteAccount(account_id="acme", confirm_name="Acme"))
    with pytest.raises(Unauthenticated):
        queries.authenticate_client(acme, issued.token)
    with acme.store.snapshot() as uow:
        assert uow.clients.find(issued.client.id) is None


def test_a_clients_invitation_holds_while_the_client_does(acme: Context) -> None:
    issued = _client(acme, role_ids={"system:administrator"})
    okta = queries.authenticate_client(acme, issued.token)
    ann = run(
        acme,
        OPERATOR,
        CreateUser(
            account_id="acme",
            username="ann@acme.example",
            password="Blue-Lantern-Walks-42",
            password_repeat="Blue-Lantern-Walks-42",
        ),
    )
    offer = InviteUser(account_id="acme", email=str(ann.username), permissions={"users.read"})
    first = run(acme, okta, offer)
    accepted = plan(acme, Actor.user(ann.id), [AcceptInvitation(invitation_id=first.invitation.id)])
    assert accepted.errors == ()
    run(acme, OPERATOR, RevokeApiClient(client_id=issued.client.id))
    refused = plan(acme, Actor.user(ann.id), [AcceptInvitation(invitation_id=first.invitation.id)])
    assert [i.code for i in refused.errors] == ["invitation.grants_changed"]
