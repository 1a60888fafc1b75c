"""The authorization matrix: every command and query, by every kind of principal.

Each cell is what the authorization says, not whether the command would then
pass its other checks:

    A  authorized (the command may still be refused for other reasons)
    D  `permission.denied`: the actor lacks the permission
    O  `permission.target_outranks`: the target holds more than the actor
    H  hidden: the target is `<entity>.not_found` to this actor
    R  refused by a rule no permission lifts (only an invitee answers its invitation)
    -  no such cell (no target of that rank for that actor)

Principals: the platform operator, Acme's super admin, a second owner, an
administrator (`system:administrator`), a member (`system:member`), the
target itself, Globex's administrator, and an anonymous caller. For commands
on a user, three cells give the target's rank against the actor's: lower,
equal, higher. docs/access.md summarises this table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import FAST_HASHER, OPERATOR, START
from provisioning import (
    AcceptInvitation,
    ActivateDomain,
    Actor,
    AddDevice,
    AddDomain,
    AddPhoneNumbers,
    AddRoleMember,
    ApproveSupportAccess,
    AssignDevice,
    Authenticate,
    ChangeStation,
    CloseSupportSession,
    CompletePasswordRecovery,
    CompletePasswordSetup,
    Context,
    CreateAccount,
    CreateAdmin,
    CreateApiClient,
    CreateClassOfService,
    CreateMailbox,
    CreatePersonalMailbox,
    CreateRole,
    CreateUser,
    DeactivateDomain,
    DeclineInvitation,
    DeleteAccount,
    DeleteAdmin,
    DeleteClassOfService,
    DeleteDomain,
    DeleteMailbox,
    DeleteRole,
    DeleteUser,
    EndSupportAccess,
    EnrollMfa,
    FinalizeMfa,
    InviteUser,
    NotFound,
    OpenSupportSession,
    PermissionDenied,
    RegisterWithInvitation,
    ReinitializeMfa,
    ReleaseNumber,
    RemoveDevice,
    RemovePhoneNumber,
    RemoveRoleMember,
    RenameMailbox,
    RenameUser,
    RequestSupportAccess,
    RequestUsersReport,
    ResendInvitation,
    ResetPassword,
    RevokeApiClient,
    RevokeInvitation,
    RotateApiClientSecret,
    SetDomainPolicy,
    SetGrant,
    SetPassword,
    SetStationPackage,
    SettleFormerUsers,
    SetUpPhoneUser,
    StartPasswordRecovery,
    SyncDirectory,
    TargetOutranks,
    UnassignDevice,
    UnverifyDomain,
    UpdateAccount,
    UpdateAdmin,
    UpdateApiClient,
    UpdateClassOfService,
    UpdateDomain,
    UpdateRole,
    UpdateUser,
    VerifyDomain,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import FixedClock, MemoryDns
from provisioning.commands import Command
from provisioning.handlers import HANDLERS
from provisioning.model import User
from security_world import Tenant, build_tenant

ACTORS = ("platform", "super", "owner", "admin", "member", "stranger", "anonymous")
WITH_SELF = ("platform", "super", "owner", "admin", "member", "self", "stranger", "anonymous")

# Whom each principal acts on, by rank: (lower, equal, higher); None where there is none.
TARGETS: dict[str, tuple[str | None, str | None, str | None]] = {
    "platform": ("member2", None, None),
    "super": ("admin", "owner", None),
    "owner": ("admin", "owner2", "super"),
    "admin": ("member2", "admin2", "owner"),
    "member": (None, "member2", "admin"),
    "self": ("member", None, None),
    "stranger": ("member2", "admin2", "owner"),
    "anonymous": ("member2", "admin2", "owner"),
}

NEW = "Amber-Orchard-Rivers-31"

ON_USERS: dict[str, tuple[Callable[[User], Command[Any]], str]] = {
    # command on a user: (how to make it, expected cells in WITH_SELF order, three per actor)
    "ResetPassword": (
        lambda t: ResetPassword(user_id=t.id),
        "A-- AA- AAO AAO -DD D-- HHH HHH",
    ),
    "SetPassword": (
        lambda t: SetPassword(user_id=t.id, password=NEW, password_repeat=NEW),
        "A-- AA- AAO AAO -DD A-- HHH HHH",
    ),
    "EnrollMfa": (lambda t: EnrollMfa(user_id=t.id), "A-- AA- AAO AAO -DD A-- HHH HHH"),
    "FinalizeMfa": (
        lambda t: FinalizeMfa(user_id=t.id, code="123456"),
        "A-- AA- AAO AAO -DD A-- HHH HHH",
    ),
    "ReinitializeMfa": (
        lambda t: ReinitializeMfa(user_id=t.id),
        "A-- AA- AAO AAO -DD A-- HHH HHH",
    ),
    "UpdateUser": (
        lambda t: UpdateUser(user_id=t.id, version=t.version, enabled=False),
        "A-- AA- AAO AAO -DD D-- HHH HHH",
    ),
    "UpdateUser (own profile)": (
        lambda t: UpdateUser(user_id=t.id, version=t.version, first_name="Renamed"),
        "A-- AA- AAO AAO -DD A-- HHH HHH",
    ),
    "RenameUser": (
        lambda t: RenameUser(user_id=t.id, version=t.version, username="moved@acme.example"),
        "A-- AA- AAO AAO -DD D-- HHH HHH",
    ),
    "DeleteUser": (lambda t: DeleteUser(user_id=t.id), "A-- AA- AAO ADO -DD A-- HHH HHH"),
    "UpdateAdmin": (
        lambda t: UpdateAdmin(user_id=t.id, version=t.version, primary_email="x@home.example"),
        "A-- AA- AAO DDD -DD D-- HHH HHH",
    ),
    "DeleteAdmin": (lambda t: DeleteAdmin(user_id=t.id), "A-- AA- AAO DDD -DD D-- HHH HHH"),
    "AssignDevice": (
        lambda t: AssignDevice(user_id=t.id, device_id="any"),
        "A-- AA- AAO AAO -DD D-- HHH HHH",
    ),
    "ChangeStation": (
        lambda t: ChangeStation(user_id=t.id, station="Standard"),
        "A-- AA- AAO AAO -DD D-- HHH HHH",
    ),
    "ReleaseNumber": (
        lambda t: ReleaseNumber(user_id=t.id),
        "A-- AA- AAO AAO -DD D-- HHH HHH",
    ),
    "SetGrant": (
        lambda t: SetGrant(user_id=t.id, account_id="acme", role_ids={"system:member"}),
        "A-- AA- AAO DDD -DD D-- DDD DDD",
    ),
    "AddRoleMember": (
        lambda t: AddRoleMember(role_id="system:member", user_id=t.id, account_id="acme"),
        "A-- AA- AAO DDD -DD D-- DDD DDD",
    ),
    "RemoveRoleMember": (
        lambda t: RemoveRoleMember(role_id="system:member", user_id=t.id, account_id="acme"),
        "A-- AA- AAO DDD -DD D-- DDD DDD",
    ),
    "CreatePersonalMailbox": (
        lambda t: CreatePersonalMailbox(user_id=t.id),
        "A-- AA- AAO AAO -DD D-- HHH HHH",
    ),
}

# Commands on anything else, in ACTORS order.
OTHERS: dict[str, tuple[Callable[[dict[str, str]], Command[Any]], str]] = {
    "CreateAccount": (lambda _: CreateAccount(name="Branch", parent_id="acme"), "AAADDDD"),
    "UpdateAccount": (lambda _: UpdateAccount(account_id="acme", version=1), "AAAADDD"),
    "SetDomainPolicy": (lambda _: SetDomainPolicy(account_id="acme", max_domains=9), "ADDDDDD"),
    "DeleteAccount": (lambda _: DeleteAccount(account_id="acme", confirm_name="Acme"), "AAADDDD"),
    "CreateClassOfService": (
        lambda _: CreateClassOfService(name="Staff", account_id="acme"),
        "AAAADDD",
    ),
    "UpdateClassOfService": (
        lambda ids: UpdateClassOfService(cos_id=ids["cos"], version=1, quota_mb=5),
        "AAAADHH",
    ),
    "DeleteClassOfService": (
        lambda ids: DeleteClassOfService(cos_id=ids["cos"], version=1),
        "AAAADHH",
    ),
    "AddDomain": (lambda _: AddDomain(account_id="acme", name="more.example"), "AAAADDD"),
    "UpdateDomain": (
        lambda ids: UpdateDomain(domain_id=ids["domain"], version=int(ids["domain_version"])),
        "AAAADHH",
    ),
    "VerifyDomain": (lambda ids: VerifyDomain(domain_id=ids["pending"]), "AAAADHH"),
    "ActivateDomain": (lambda ids: ActivateDomain(domain_id=ids["pending"]), "AAAADHH"),
    "DeactivateDomain": (lambda ids: DeactivateDomain(domain_id=ids["domain"]), "AAAADHH"),
    "UnverifyDomain": (lambda ids: UnverifyDomain(domain_id=ids["pending"]), "AAAADHH"),
    "DeleteDomain": (
        lambda ids: DeleteDomain(domain_id=ids["pending"], confirm_name="later.example"),
        "AAAADHH",
    ),
    "SettleFormerUsers": (lambda ids: SettleFormerUsers(domain_id=ids["domain"]), "AAAADHH"),
    "CreateAdmin": (
        lambda _: CreateAdmin(
            account_id="acme",
            address="desk@acme.example",
            primary_email="desk@home.example",
            role_ids={"system:administrator"},
        ),
        "AAADDDD",
    ),
    "CreateUser": (
        lambda _: CreateUser(account_id="acme", username="new@acme.example"),
        "AAAADDD",
    ),
    "SyncDirectory": (
        lambda _: SyncDirectory(account_id="acme", directory_service="ldap", entries=()),
        "AAAADDD",
    ),
    "CreateRole": (lambda _: CreateRole(account_id="acme", name="Readers"), "AAADDDD"),
    "CreateApiClient": (
        lambda _: CreateApiClient(account_id="acme", name="Script", role_ids={"system:member"}),
        "AAADDDD",
    ),
    "UpdateApiClient": (
        lambda ids: UpdateApiClient(client_id=ids["client"], version=1, name="Renamed"),
        "AAADDHH",
    ),
    "RotateApiClientSecret": (
        lambda ids: RotateApiClientSecret(client_id=ids["client"]),
        "AAADDHH",
    ),
    "RevokeApiClient": (lambda ids: RevokeApiClient(client_id=ids["client"]), "AAADDHH"),
    "UpdateRole": (lambda ids: UpdateRole(role_id=ids["role"], version=1), "AAADDHH"),
    "DeleteRole": (lambda ids: DeleteRole(role_id=ids["role"]), "AAADDHH"),
    "CreateMailbox": (
        lambda _: CreateMailbox(account_id="acme", address="team@acme.example"),
        "AAAADDD",
    ),
    "RenameMailbox": (
        lambda ids: RenameMailbox(mailbox_id=ids["mailbox"], version=1, display_name="Sales"),
        "AAAADHH",
    ),
    "DeleteMailbox": (lambda ids: DeleteMailbox(mailbox_id=ids["mailbox"], version=1), "AAAADHH"),
    "AddPhoneNumbers": (
        lambda _: AddPhoneNumbers(account_id="acme", numbers=("+41 44 668 18 00",)),
        "AAAADDD",
    ),
    "RemovePhoneNumber": (lambda ids: RemovePhoneNumber(number_id=ids["number"]), "AAAADHH"),
    "SetStationPackage": (
        lambda _: SetStationPackage(account_id="acme", name="Standard", owned=3),
        "ADDDDDD",
    ),
    "SetUpPhoneUser": (
        lambda _: SetUpPhoneUser(
            account_id="acme",
            first_name="Pat",
            last_name="Lee",
            email="pat@home.example",
            username="pat@acme.example",
            station="Standard",
            extension="555",
        ),
        "AAAADDD",
    ),
    "AddDevice": (
        lambda _: AddDevice(account_id="acme", model="Desk 2", mac="00:1a:2b:00:00:09"),
        "AAAADDD",
    ),
    "RemoveDevice": (lambda ids: RemoveDevice(device_id=ids["device"]), "AAAADHH"),
    "UnassignDevice": (lambda ids: UnassignDevice(device_id=ids["device"]), "AAAADHH"),
    "RequestSupportAccess": (
        lambda _: RequestSupportAccess(
            parent_id="acme", customer_id="acme-customer", role_ids={"system:administrator"}
        ),
        "AAADDDD",
    ),
    "ApproveSupportAccess": (
        lambda ids: ApproveSupportAccess(relationship_id=ids["relationship"]),
        "ADDDDHH",  # the customer's owner approves; the parent's people may not
    ),
    "EndSupportAccess": (
        lambda ids: EndSupportAccess(relationship_id=ids["relationship"]),
        "AAADDHH",
    ),
    "OpenSupportSession": (
        lambda ids: OpenSupportSession(relationship_id=ids["relationship"]),
        "DAADDHD",  # agents only: users holding support.act in the parent
    ),
    "CloseSupportSession": (
        lambda ids: CloseSupportSession(session_id=ids["session"]),
        "AAADDHH",
    ),
    "InviteUser": (lambda _: InviteUser(account_id="acme", email="x@else.example"), "AAAADDD"),
    "RequestUsersReport": (lambda _: RequestUsersReport(account_id="acme"), "AAAADDD"),
    "RevokeInvitation": (
        lambda ids: RevokeInvitation(invitation_id=ids["invitation"]),
        "AAAADHH",
    ),
    "ResendInvitation": (
        lambda ids: ResendInvitation(invitation_id=ids["invitation"]),
        "AAAADHH",
    ),
    "AcceptInvitation": (
        lambda ids: AcceptInvitation(invitation_id=ids["invitation"]),
        "RRRRAHH",
    ),
    "DeclineInvitation": (
        lambda ids: DeclineInvitation(invitation_id=ids["invitation"]),
        "RRRRAHH",
    ),
    "Authenticate": (
        lambda _: Authenticate(username="member@acme.example", password="wrong-guess-0000"),
        "AAAAAAA",
    ),
    "StartPasswordRecovery": (
        lambda _: StartPasswordRecovery(username="member@acme.example"),
        "AAAAAAA",
    ),
    "CompletePasswordRecovery": (
        lambda _: CompletePasswordRecovery(
            username="member@acme.example", code="1", password=NEW, password_repeat=NEW
        ),
        "AAAAAAA",
    ),
    "CompletePasswordSetup": (
        lambda ids: CompletePasswordSetup(
            user_id=ids["member"], token="t", password=NEW, password_repeat=NEW
        ),
        "AAAAAAA",
    ),
    "RegisterWithInvitation": (
        lambda _: RegisterWithInvitation(token="t", password=NEW, password_repeat=NEW),
        "AAAAAAA",
    ),
}

QUERIES: dict[str, tuple[Callable[[Context, Any, dict[str, str]], object], str]] = {
    "permissions": (lambda ctx, actor, _: queries.permissions(ctx, actor, "acme"), "AAAAAAA"),
    "get_account": (lambda ctx, actor, _: queries.get_account(ctx, actor, "acme"), "AAAADDD"),
    "classes_of_service": (
        lambda ctx, actor, _: queries.classes_of_service(ctx, actor, "acme"),
        "AAAADDD",
    ),
    "audit_log": (lambda ctx, actor, _: queries.audit_log(ctx, actor, "acme"), "AAAADDD"),
    "messages": (lambda ctx, actor, _: queries.messages(ctx, actor), "ADDDDDD"),
    "users": (lambda ctx, actor, _: queries.users(ctx, actor, "acme"), "AAAADDD"),
    "get_user": (
        lambda ctx, actor, ids: queries.get_user(ctx, actor, ids["member2"]),
        "AAAAHHH",
    ),
    "pending_invitations": (
        lambda ctx, actor, _: queries.pending_invitations(ctx, actor),
        "AAAAAAA",
    ),
    "invitations": (lambda ctx, actor, _: queries.invitations(ctx, actor, "acme"), "AAAADDD"),
    "phone_numbers": (
        lambda ctx, actor, _: queries.phone_numbers(ctx, actor, "acme"),
        "AAAADDD",
    ),
    "station_packages": (
        lambda ctx, actor, _: queries.station_packages(ctx, actor, "acme"),
        "AAAADDD",
    ),
    "phone_seat": (
        lambda ctx, actor, ids: queries.phone_seat(ctx, actor, ids["member2"]),
        "AAAADHH",
    ),
    "devices": (lambda ctx, actor, _: queries.devices(ctx, actor, "acme"), "AAAADDD"),
    "customers": (lambda ctx, actor, _: queries.customers(ctx, actor, "acme"), "AAADDDD"),
    "support_relationships": (
        lambda ctx, actor, _: queries.support_relationships(ctx, actor, "acme"),
        "AAADDDD",
    ),
    "support_sessions": (
        lambda ctx, actor, _: queries.support_sessions(ctx, actor, "acme"),
        "AAADDDD",
    ),
    "api_clients": (lambda ctx, actor, _: queries.api_clients(ctx, actor, "acme"), "AAADDHH"),
    "get_api_client": (
        lambda ctx, actor, ids: queries.get_api_client(ctx, actor, ids["client"]),
        "AAADDHH",
    ),
    "user_devices": (
        lambda ctx, actor, ids: queries.user_devices(ctx, actor, ids["member2"]),
        "AAAADHH",
    ),
}


@pytest.fixture(scope="module")
def world() -> tuple[Tenant, dict[str, str]]:
    dns = MemoryDns()
    ctx = Context.in_memory(dns=dns, clock=FixedClock(START), hasher=FAST_HASHER)
    tenant = build_tenant(ctx, dns)
    cos = run(ctx, OPERATOR, CreateClassOfService(name="Basic", account_id="acme"))
    role = run(ctx, OPERATOR, CreateRole(account_id="acme", name="Helpers"))
    mailbox = run(ctx, OPERATOR, CreateMailbox(account_id="acme", address="sales@acme.example"))
    pending = run(ctx, OPERATOR, AddDomain(account_id="acme", name="later.example"))
    (number,) = run(ctx, OPERATOR, AddPhoneNumbers(account_id="acme", numbers=("+41791234567",)))
    run(ctx, OPERATOR, SetStationPackage(account_id="acme", name="Standard", owned=3))
    device = run(
        ctx, OPERATOR, AddDevice(account_id="acme", model="Desk 2", mac="00:1a:2b:00:00:01")
    )
    run(
        ctx,
        OPERATOR,
        CreateAccount(name="Acme Customer", account_id="acme-customer", parent_id="acme"),
    )
    customer = queries.get_account(ctx, OPERATOR, "acme-customer")
    consent = UpdateAccount(account_id=customer.id, version=customer.version, support_consent=True)
    run(ctx, OPERATOR, consent)
    relationship = run(
        ctx,
        OPERATOR,
        RequestSupportAccess(
            parent_id="acme", customer_id=customer.id, role_ids={"system:administrator"}
        ),
    )
    session = run(ctx, tenant.actor("super"), OpenSupportSession(relationship_id=relationship.id))
    invitation = run(
        ctx,
        OPERATOR,
        InviteUser(account_id="acme", email="member@acme.example", permissions={"users.read"}),
    )
    robot = run(
        ctx,
        OPERATOR,
        CreateApiClient(account_id="acme", name="Robot", role_ids={"system:administrator"}),
    )
    with ctx.store.snapshot() as snapshot:
        domain = snapshot.domains.get(tenant.domain_id)
    ids = {
        "client": robot.client.id,
        "cos": cos.id,
        "role": role.id,
        "mailbox": mailbox.id,
        "pending": pending.id,
        "domain": domain.id,
        "domain_version": str(domain.version),
        "invitation": invitation.invitation.id,
        "number": number.id,
        "device": device.id,
        "relationship": relationship.id,
        "session": session.id,
        "member": tenant.users["member"].id,
        "member2": tenant.users["member2"].id,
    }
    return tenant, ids


def _outcome(tenant: Tenant, actor_name: str, command: Command[Any]) -> str:
    return _outcome_of(
        tenant, tenant.actor("member" if actor_name == "self" else actor_name), command
    )


def _outcome_of(tenant: Tenant, actor: Actor, command: Command[Any]) -> str:
    codes = {issue.code for issue in plan(tenant.ctx, actor, [command]).errors}
    if "permission.target_outranks" in codes:
        return "O"
    if "permission.denied" in codes:
        return "D"
    if any(code.endswith(".not_found") for code in codes):
        return "H"
    if "invitation.not_addressee" in codes:
        return "R"
    return "A"


def test_the_matrix_covers_every_command() -> None:
    named = {name.partition(" ")[0] for name in (*ON_USERS, *OTHERS)}
    assert named == {kind.__name__ for kind in HANDLERS}


CELLS = [
    (name, actor, rank)
    for name in ON_USERS
    for actor in WITH_SELF
    for rank in range(3)
    if TARGETS[actor][rank] is not None
]


@pytest.mark.parametrize(("name", "actor", "rank"), CELLS)
def test_commands_on_users(
    world: tuple[Tenant, dict[str, str]], name: str, actor: str, rank: int
) -> None:
    tenant, _ = world
    make, expected = ON_USERS[name]
    target_name = TARGETS[actor][rank]
    assert target_name is not None
    cell = expected.split()[WITH_SELF.index(actor)][rank]
    assert _outcome(tenant, actor, make(tenant.fresh(target_name))) == cell


@pytest.mark.parametrize("name", list(ON_USERS))
def test_a_cell_without_a_target_says_so(name: str) -> None:
    cells = ON_USERS[name][1].split()
    for actor, group in zip(WITH_SELF, cells, strict=True):
        assert [c == "-" for c in group] == [t is None for t in TARGETS[actor]]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", list(OTHERS))
def test_other_commands(world: tuple[Tenant, dict[str, str]], name: str, actor: str) -> None:
    tenant, ids = world
    make, expected = OTHERS[name]
    assert _outcome(tenant, actor, make(ids)) == expected[ACTORS.index(actor)]


def _answer(tenant: Tenant, actor: Actor, name: str, ids: dict[str, str]) -> str:
    try:
        QUERIES[name][0](tenant.ctx, actor, ids)
    except TargetOutranks:
        return "O"
    except PermissionDenied:
        return "D"
    except NotFound:
        return "H"
    return "A"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", list(QUERIES))
def test_queries(world: tuple[Tenant, dict[str, str]], name: str, actor: str) -> None:
    tenant, ids = world
    expected = QUERIES[name][1]
    assert _answer(tenant, tenant.actor(actor), name, ids) == expected[ACTORS.index(actor)]


# An API client holding `system:administrator` in Acme is authorized as Acme's administrator
# is; one of Globex, as Globex's administrator (a stranger) is. But where only a person may:
# no client is a support agent, so it is denied before any relationship is looked up.
CLIENT_DIFFERS = [("stranger", "OpenSupportSession", "H", "D")]


def _clients(tenant: Tenant) -> dict[str, Actor]:
    found = {}
    for account, name in (("acme", "admin"), ("globex", "stranger")):
        issued = run(
            tenant.ctx,
            OPERATOR,
            CreateApiClient(
                account_id=account, name=f"Matrix {name}", role_ids={"system:administrator"}
            ),
        )
        found[name] = queries.authenticate_client(tenant.ctx, issued.token)
    return found


def test_an_api_client_is_authorized_as_a_user_holding_its_roles(
    world: tuple[Tenant, dict[str, str]],
) -> None:
    tenant, ids = world
    clients = _clients(tenant)
    differs = []
    for like, client in clients.items():
        person = tenant.actor(like)
        for name, (make, _) in OTHERS.items():
            cells = _outcome_of(tenant, person, make(ids)), _outcome_of(tenant, client, make(ids))
            if cells[0] != cells[1]:
                differs.append((like, name, *cells))
        for name, (make_on, _) in ON_USERS.items():
            for target in TARGETS[like]:
                if target is not None:
                    command = make_on(tenant.fresh(target))
                    cells = (
                        _outcome_of(tenant, person, command),
                        _outcome_of(tenant, client, command),
                    )
                    if cells[0] != cells[1]:
                        differs.append((like, f"{name} on {target}", *cells))
        for name in QUERIES:
            cells = _answer(tenant, person, name, ids), _answer(tenant, client, name, ids)
            if cells[0] != cells[1]:
                differs.append((like, name, *cells))
    assert differs == CLIENT_DIFFERS


def test_denials_are_logged_with_the_actor_and_the_codes(
    world: tuple[Tenant, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    tenant, _ = world
    with caplog.at_level("INFO", logger="provisioning"):
        plan(tenant.ctx, tenant.actor("member"), [ResetPassword(user_id=tenant.users["admin"].id)])
    (record,) = [r for r in caplog.records if r.getMessage().startswith("refused a batch")]
    assert record.levelname == "WARNING"
    assert record.__dict__["codes"] == {"permission.denied": 1}
    assert record.__dict__["actor"] == str(tenant.actor("member"))
