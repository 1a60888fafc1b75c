"""Security: no escalation, no reach across tenants, brute force, secrets (issue 10)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from access_world import PASSWORD
from conftest import FAST_HASHER, OPERATOR, START
from provisioning import (
    AcceptInvitation,
    Actor,
    AddDomain,
    Authenticate,
    CompletePasswordSetup,
    Context,
    CreateAdmin,
    CreateClassOfService,
    CreateMailbox,
    CreateRole,
    CreateUser,
    DeleteAdmin,
    DeleteDomain,
    DeleteMailbox,
    DeleteRole,
    DeleteUser,
    EnrollMfa,
    FinalizeMfa,
    InvalidValue,
    InviteUser,
    RegisterWithInvitation,
    ReinitializeMfa,
    RenameUser,
    ResendInvitation,
    ResetPassword,
    SetGrant,
    SetPassword,
    TargetOutranks,
    UpdateAccount,
    UpdateAdmin,
    UpdateClassOfService,
    UpdateUser,
    ValidationFailed,
    apply,
    plan,
    run,
)
from provisioning.adapters.memory import FixedClock, MemoryDns, Outbox
from provisioning.adapters.sql import SqliteStore
from provisioning.adapters.system import SystemTokens
from provisioning.commands import Command
from provisioning.model import (
    MIN_LENGTH_FLOOR,
    MailboxOffer,
    PasswordPolicy,
    SignInPolicy,
    SignInState,
    User,
    local_part_problem,
)
from provisioning.ports import Message
from provisioning.results import InvitationIssued
from provisioning.rules.credentials import guess_key
from provisioning.security import Argon2Hasher, Totp
from security_world import Tenant, build_tenant

OWNER = "system:owner"

NEW = "Amber-Orchard-Rivers-31"


@pytest.fixture
def tenant(ctx: Context, dns: MemoryDns) -> Tenant:
    return build_tenant(ctx, dns)


ON_TARGET: dict[str, Callable[[User], Command[Any]]] = {
    "ResetPassword": lambda target: ResetPassword(user_id=target.id),
    "SetPassword": lambda target: SetPassword(user_id=target.id, password=NEW, password_repeat=NEW),
    "EnrollMfa": lambda target: EnrollMfa(user_id=target.id),
    "FinalizeMfa": lambda target: FinalizeMfa(user_id=target.id, code="123456"),
    "ReinitializeMfa": lambda target: ReinitializeMfa(user_id=target.id),
    "UpdateUser": lambda target: UpdateUser(
        user_id=target.id, version=target.version, mfa_required=True
    ),
    "RenameUser": lambda target: RenameUser(
        user_id=target.id, version=target.version, username=f"renamed-{target.id}@acme.example"
    ),
    "DeleteUser": lambda target: DeleteUser(user_id=target.id),
    "UpdateAdmin": lambda target: UpdateAdmin(
        user_id=target.id, version=target.version, primary_email="evil@home.example"
    ),
    "DeleteAdmin": lambda target: DeleteAdmin(user_id=target.id),
}


@pytest.mark.parametrize("target", ["super", "owner"])
@pytest.mark.parametrize("name", list(ON_TARGET))
def test_an_administrator_cannot_act_on_an_owner(tenant: Tenant, name: str, target: str) -> None:
    command = ON_TARGET[name](tenant.users[target])
    planned = plan(tenant.ctx, tenant.actor("lead"), [command])
    assert [issue.code for issue in planned.errors] == ["permission.target_outranks"]
    with pytest.raises(TargetOutranks):
        run(tenant.ctx, tenant.actor("lead"), command)
    assert tenant.fresh(target).version == tenant.users[target].version


@pytest.mark.parametrize("name", ["ResetPassword", "UpdateUser", "EnrollMfa"])
def test_only_the_operator_acts_on_the_super_admin_even_among_owners(
    tenant: Tenant, name: str
) -> None:
    command = ON_TARGET[name](tenant.users["super"])
    with pytest.raises(TargetOutranks):
        run(tenant.ctx, tenant.actor("owner"), command)
    run(tenant.ctx, OPERATOR, command)


@pytest.mark.parametrize("name", ["ResetPassword", "UpdateUser", "RenameUser", "SetPassword"])
def test_an_owner_acts_on_an_administrator_and_an_administrator_on_its_equal(
    tenant: Tenant, name: str
) -> None:
    run(tenant.ctx, tenant.actor("admin"), ON_TARGET[name](tenant.users["admin2"]))
    run(tenant.ctx, tenant.actor("owner"), ON_TARGET[name](tenant.users["admin"]))


def test_an_administrator_is_below_the_lead_who_manages_admins(tenant: Tenant) -> None:
    with pytest.raises(TargetOutranks):  # the lead lacks the administrator's other permissions
        run(tenant.ctx, tenant.actor("lead"), ON_TARGET["DeleteAdmin"](tenant.users["admin"]))
    run(tenant.ctx, tenant.actor("owner"), ON_TARGET["DeleteAdmin"](tenant.users["admin"]))


def test_a_disabled_owner_still_outranks_an_administrator(tenant: Tenant) -> None:
    owner = tenant.users["owner"]
    disabled = run(tenant.ctx, OPERATOR, UpdateUser(user_id=owner.id, version=1, enabled=False))
    enable = UpdateUser(user_id=owner.id, version=disabled.version, enabled=True)
    with pytest.raises(TargetOutranks):
        run(tenant.ctx, tenant.actor("lead"), enable)


def test_a_grant_manager_cannot_strip_an_owner_of_its_grants(tenant: Tenant) -> None:
    strip = SetGrant(user_id=tenant.users["owner"].id, account_id="acme")
    with pytest.raises(TargetOutranks):
        run(tenant.ctx, tenant.actor("granter"), strip)
    demote = SetGrant(
        user_id=tenant.users["member"].id,
        account_id="acme",
        permissions=frozenset({"grants.manage"}),
    )
    run(tenant.ctx, tenant.actor("granter"), demote)  # its equals and those below it it may


def test_deleting_a_domain_with_its_users_needs_rank_over_every_one(tenant: Tenant) -> None:
    with tenant.ctx.store.snapshot() as snapshot:
        domain = snapshot.domains.get(tenant.domain_id)
    # The super admin's domain is protected anyway; an owner-level admin on it must be too.
    planned = plan(
        tenant.ctx,
        tenant.actor("admin"),
        [DeleteDomain(domain_id=domain.id, confirm_name="acme.example", remove_dependents=True)],
    )
    outranked = [i for i in planned.errors if i.code == "permission.target_outranks"]
    assert {i.message.partition(" ")[0] for i in outranked} >= {
        "owner2@acme.example",
        "admin@acme.example",
    }


def test_opening_the_admin_panel_of_a_class_of_service_in_use_needs_admins_manage(
    tenant: Tenant,
) -> None:
    cos = run(tenant.ctx, OPERATOR, CreateClassOfService(name="Staff", account_id="acme"))
    member = tenant.users["member"]
    run(tenant.ctx, OPERATOR, UpdateUser(user_id=member.id, version=member.version, cos_id=cos.id))
    planned = plan(
        tenant.ctx,
        tenant.actor("admin"),
        [UpdateClassOfService(cos_id=cos.id, version=1, admin_panel=True)],
    )
    assert [i.code for i in planned.errors] == ["cos.admin_panel_forbidden"]
    run(
        tenant.ctx,
        tenant.actor("owner"),
        UpdateClassOfService(cos_id=cos.id, version=1, admin_panel=True),
    )


# --- invitations: what they grant stays within what their senders may grant (item 2) ---


def _invite(tenant: Tenant, sender: str, email: str, **offer: Any) -> InvitationIssued:
    issued: InvitationIssued = run(
        tenant.ctx, tenant.actor(sender), InviteUser(account_id="acme", email=email, **offer)
    )
    return issued


def test_re_sending_an_owner_invitation_needs_the_right_to_make_owners(tenant: Tenant) -> None:
    issued = _invite(tenant, "platform", "new@else.example", role_ids=frozenset({OWNER}))
    run(
        tenant.ctx,
        OPERATOR,
        SetGrant(
            user_id=tenant.users["member2"].id,
            account_id="acme",
            permissions=frozenset({"invitations.send"}),
        ),
    )
    planned = plan(
        tenant.ctx,
        tenant.actor("member2"),
        [ResendInvitation(invitation_id=issued.invitation.id)],
    )
    assert [i.code for i in planned.errors] == ["grant.escalation"]
    assert planned.ok is False


def _invitee(tenant: Tenant, username: str) -> Actor:
    user = run(
        tenant.ctx,
        OPERATOR,
        CreateUser(
            account_id="acme",
            username=username,
            password=PASSWORD,
            password_repeat=PASSWORD,
            alternate_email="someone@home.example",
        ),
    )
    return Actor.user(user.id)


def test_an_invitation_dies_with_its_inviters_right_to_grant_it(tenant: Tenant) -> None:
    invitee = _invitee(tenant, "newbie@acme.example")
    issued = _invite(
        tenant, "owner", "newbie@acme.example", role_ids=frozenset({"system:administrator"})
    )
    run(
        tenant.ctx,
        OPERATOR,
        SetGrant(
            user_id=tenant.users["owner"].id,
            account_id="acme",
            role_ids=frozenset({"system:member"}),
        ),
    )
    planned = plan(tenant.ctx, invitee, [AcceptInvitation(invitation_id=issued.invitation.id)])
    assert [i.code for i in planned.errors] == ["invitation.grants_changed"]


def test_an_invitation_never_grants_a_later_role_under_a_reused_id(tenant: Tenant) -> None:
    invitee = _invitee(tenant, "newbie@acme.example")
    run(
        tenant.ctx,
        OPERATOR,
        CreateRole(account_id="acme", name="Readers", role_id="r-1", permissions={"users.read"}),
    )
    issued = _invite(tenant, "platform", "newbie@acme.example", role_ids=frozenset({"r-1"}))
    run(tenant.ctx, OPERATOR, DeleteRole(role_id="r-1"))
    run(
        tenant.ctx,
        OPERATOR,
        CreateRole(account_id="acme", name="Managers", role_id="r-1", permissions={"users.manage"}),
    )
    planned = plan(tenant.ctx, invitee, [AcceptInvitation(invitation_id=issued.invitation.id)])
    assert [i.code for i in planned.errors] == ["invitation.grants_changed"]
    with pytest.raises(ValidationFailed):
        run(tenant.ctx, OPERATOR, ResendInvitation(invitation_id=issued.invitation.id))


def test_an_invitation_never_grants_a_later_mailbox_under_a_reused_id(tenant: Tenant) -> None:
    run(
        tenant.ctx,
        OPERATOR,
        CreateMailbox(account_id="acme", address="sales@acme.example", mailbox_id="m-1"),
    )
    offer = MailboxOffer(mailbox_id="m-1", role_ids=frozenset({"system:viewer"}))
    issued = _invite(tenant, "platform", "someone@else.example", mailboxes=(offer,))
    run(tenant.ctx, OPERATOR, DeleteMailbox(mailbox_id="m-1", version=1))
    run(
        tenant.ctx,
        OPERATOR,
        CreateMailbox(account_id="acme", address="board@acme.example", mailbox_id="m-1"),
    )
    register = RegisterWithInvitation(
        token=issued.token,
        password=NEW,
        password_repeat=NEW,
        first_name="Some",
        last_name="One",
    )
    planned = plan(tenant.ctx, Actor.anonymous(), [register])
    assert [i.code for i in planned.errors] == ["invitation.grants_changed"]


# --- addresses on another account's domain (item 3) ---


def test_another_account_cannot_register_someone_on_this_accounts_domain(tenant: Tenant) -> None:
    issued: InvitationIssued = run(
        tenant.ctx,
        tenant.actor("stranger"),
        InviteUser(account_id="globex", email="billing@acme.example"),
    )
    register = RegisterWithInvitation(
        token=issued.token, password=NEW, password_repeat=NEW, first_name="B", last_name="Ill"
    )
    planned = plan(tenant.ctx, Actor.anonymous(), [register])
    assert [i.code for i in planned.errors] == ["invitation.foreign_domain"]
    # The address stays Acme's to give.
    run(tenant.ctx, OPERATOR, CreateMailbox(account_id="acme", address="billing@acme.example"))


# --- nothing tells another account what this one holds (item 4) ---

PROBES: dict[str, Callable[[str, int], Command[Any]]] = {
    "CreateUser": lambda address, _: CreateUser(
        account_id="globex", username=address, password=NEW, password_repeat=NEW
    ),
    "CreateUser aliases": lambda address, _: CreateUser(
        account_id="globex",
        username="fresh@globex.example",
        password=NEW,
        password_repeat=NEW,
        aliases=(address,),
    ),
    "UpdateUser aliases": lambda address, version: UpdateUser(
        user_id="gx-user", version=version, aliases=(address,)
    ),
    "RenameUser": lambda address, version: RenameUser(
        user_id="gx-user", version=version, username=address
    ),
    "CreateMailbox": lambda address, _: CreateMailbox(account_id="globex", address=address),
    "CreateAdmin": lambda address, _: CreateAdmin(
        account_id="globex",
        address=address,
        primary_email="x@home.example",
        role_ids=frozenset({"system:administrator"}),
    ),
}


def _answer(tenant: Tenant, command: Command[Any]) -> list[tuple[str, str, str | None]]:
    planned = plan(tenant.ctx, tenant.actor("stranger"), [command])
    return [(i.code, i.message, i.field) for i in planned.issues]


@pytest.mark.parametrize("probe", list(PROBES))
def test_no_issue_tells_whether_another_account_holds_an_address(
    tenant: Tenant, probe: str
) -> None:
    gx_user = run(
        tenant.ctx,
        OPERATOR,
        CreateUser(
            account_id="globex",
            username="worker@globex.example",
            password=NEW,
            password_repeat=NEW,
            user_id="gx-user",
        ),
    )
    make = PROBES[probe]
    held = _answer(tenant, make("member@acme.example", gx_user.version))
    free = _answer(tenant, make("nobody@acme.example", gx_user.version))
    assert held == [(c, m.replace("nobody", "member"), f) for c, m, f in free]
    assert held  # refused all the same: not the account's domain


def test_an_invitation_does_not_tell_whether_the_address_is_registered_elsewhere(
    tenant: Tenant,
) -> None:
    held: InvitationIssued = run(
        tenant.ctx,
        tenant.actor("stranger"),
        InviteUser(account_id="globex", email="member@acme.example"),
    )
    free: InvitationIssued = run(
        tenant.ctx,
        tenant.actor("stranger"),
        InviteUser(account_id="globex", email="nobody@acme.example"),
    )
    assert held.registered is free.registered is False
    _invitee(tenant, "unseen@acme.example")
    mine: InvitationIssued = run(
        tenant.ctx, OPERATOR, InviteUser(account_id="acme", email="unseen@acme.example")
    )
    assert mine.registered is True


# --- passwords (item 9) ---

WELL_KNOWN_WEAK = (
    "Password123!",
    "Password2024!",
    "P@ssw0rd2024",
    "Welcome2024!",
    "welcome123456",
    "iloveyou1234",
    "Summer2023!!",
    "Winter2024!!",
    "qwertyuiop12",
    "qwerty123456",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "abc123456789",
    "123456789012",
    "111111111111",
    "aaaaaaaaaaaa",
    "abcdefghijkl",
    "letmein12345",
    "Letmein2024!",
    "Football2024",
    "baseball1234",
    "Dragon123456",
    "monkey123456",
    "Sunshine2024",
    "Princess1234",
    "Superman1234",
    "Batman123456",
    "starwars1234",
    "Pokemon12345",
    "Michael1985!",
    "Jennifer1990",
    "Jordan232323",
    "trustno1trustno1",
    "Whatever1234",
    "Freedom12345",
    "Shadow123456",
    "Master123456",
    "Admin1234567",
    "administrator1",
    "changeme1234",
    "Changeme2024",
    "Secret123456",
    "mypassword12",
    "Password1111",
    "passwordpassword",
    "qwertyqwerty",
    "asdfghjkl123",
    "zxcvbnm12345",
    "iloveyouiloveyou",
    "Christmas2024",
    "Computer1234",
    "Internet1234",
    "Company12345",
    "Microsoft2024",
    "Google123456",
    "Office365!!!",
    "Charlie12345",
    "Thomas123456",
    "Hello1234567",
    "Soccer123456",
    "Hockey123456",
    "Killer123456",
    "Ashley123456",
    "Bailey123456",
)


def test_well_known_weak_passwords_are_refused() -> None:
    assert len(WELL_KNOWN_WEAK) == 64
    policy = PasswordPolicy()
    passing = [p for p in WELL_KNOWN_WEAK if not policy.check(p, local_part="zoe")]
    assert passing == []
    strong = ["Amber-Orchard-Rivers-31", "vT9#qL2!mZ8w", "correct-staple-ravine-otter"]
    assert [p for p in strong if policy.check(p, local_part="zoe")] == []


@pytest.mark.parametrize(
    "weak", ["P@$$w0rd1234", "Passw0rd!Passw0rd", "Acme2024Acme!", "Dragon!Dragon", "zaq12wsxcde3"]
)
def test_disguised_weak_passwords_are_refused_with_the_account_s_name_in_mind(
    tenant: Tenant, weak: str
) -> None:
    member = tenant.users["member"]
    command = SetPassword(user_id=member.id, password=weak, password_repeat=weak)
    planned = plan(tenant.ctx, OPERATOR, [command])
    assert [issue.code for issue in planned.errors] == ["password.common"]
    assert weak not in repr(planned.errors)  # never echoed


def test_the_estimator_knows_recent_years_and_the_account_s_name() -> None:
    policy = PasswordPolicy()
    assert policy.check("Globex2025Globex", local_part="zoe", user_inputs=["globex"])
    assert policy.check("Globex2025Globex", local_part="zoe") == []  # a stranger's name is not
    assert policy.check("Harbour2031-Lights", local_part="zoe") == []


def test_a_short_policy_still_admits_random_passwords() -> None:
    short = PasswordPolicy(min_length=MIN_LENGTH_FLOOR)
    assert short.check("vT9#qL2!", local_part="zoe") == []
    assert short.check("Dragon1!", local_part="zoe") != []


@pytest.mark.parametrize(("shortest", "longest"), [(1, 128), (7, 128), (8, 2)])
def test_no_policy_goes_below_the_floor(shortest: int, longest: int) -> None:
    with pytest.raises(InvalidValue) as caught:
        PasswordPolicy(min_length=shortest, max_length=longest)
    assert caught.value.code == "password_policy.invalid"
    assert PasswordPolicy().min_length == 12


def test_a_reset_password_passes_the_tightest_policy(tenant: Tenant) -> None:
    tight = PasswordPolicy(min_length=MIN_LENGTH_FLOOR, max_length=MIN_LENGTH_FLOOR)
    run(tenant.ctx, OPERATOR, UpdateAccount(account_id="acme", version=1, password_policy=tight))
    random = attrs.evolve(tenant.ctx, tokens=SystemTokens())  # the tests' tokens are not random
    reset = run(random, OPERATOR, ResetPassword(user_id=tenant.users["member"].id))
    assert len(reset.password) == MIN_LENGTH_FLOOR
    assert tight.check(reset.password, local_part="member") == []


# --- brute force (item 6), MFA re-initialisation (item 5), rehashing (item 11) ---


def _counted(tenant: Tenant, name: str = "member@acme.example") -> SignInState:
    """The failed sign-ins counted against `name`, as committed."""
    key = guess_key("sign-in", name)
    return tenant.ctx.store.guess_states([key])[key]


def _sign_in(tenant: Tenant, password: str, **more: Any) -> list[str]:
    """The codes of a refused sign-in of member@ ([] when it succeeds)."""
    command = Authenticate(username="member@acme.example", password=password, **more)
    try:
        run(tenant.ctx, Actor.anonymous(), command)
    except ValidationFailed as refused:
        return refused.codes
    return []


def test_failed_sign_ins_lock_the_user_out_for_a_growing_wait(
    tenant: Tenant, clock: FixedClock
) -> None:
    policy = SignInPolicy(max_failures=5, wait_increment_s=60, max_wait_s=300)
    run(tenant.ctx, OPERATOR, UpdateAccount(account_id="acme", version=1, sign_in_policy=policy))
    for _ in range(5):
        assert _sign_in(tenant, "wrong-guess-0000") == ["auth.failed"]
    state = _counted(tenant)
    assert state.failures == 5
    assert state.locked_until == clock.now() + timedelta(seconds=60)
    assert _sign_in(tenant, PASSWORD) == ["auth.locked"]  # the right password waits too
    clock.advance(seconds=61)
    assert _sign_in(tenant, "wrong-guess-0000") == ["auth.failed"]
    assert _counted(tenant).locked_until == clock.now() + timedelta(seconds=120)
    clock.advance(seconds=121)
    assert _sign_in(tenant, PASSWORD) == []
    assert _counted(tenant) == SignInState()  # success forgets the failures
    assert policy.lockout(4) is None
    assert policy.lockout(100) == timedelta(seconds=300)  # never more than the maximum


def test_failures_are_forgotten_after_the_reset_time(tenant: Tenant, clock: FixedClock) -> None:
    for _ in range(9):
        _sign_in(tenant, "wrong-guess-0000")
    clock.advance(seconds=SignInPolicy().reset_after_s)
    assert _sign_in(tenant, "wrong-guess-0000") == ["auth.failed"]
    assert _counted(tenant).failures == 1


def test_one_time_codes_count_as_failures(tenant: Tenant, clock: FixedClock) -> None:
    member = tenant.users["member"]
    enrollment = run(tenant.ctx, Actor.user(member.id), EnrollMfa(user_id=member.id))
    totp = Totp(enrollment.secret)
    code = totp.code(clock.now())
    run(tenant.ctx, Actor.user(member.id), FinalizeMfa(user_id=member.id, code=code))
    clock.advance(seconds=60)
    right = totp.code(clock.now())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(SignInPolicy().max_failures):
        assert _sign_in(tenant, PASSWORD, code=wrong) == ["mfa.code_invalid"]
    assert _sign_in(tenant, PASSWORD, code=right) == ["auth.locked"]


def test_every_failure_is_audited_and_logged_without_the_password(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Sunflower-Guess-1977"
    with caplog.at_level(logging.INFO, logger="provisioning"):
        _sign_in(tenant, secret)
        with pytest.raises(ValidationFailed):
            run(
                tenant.ctx,
                Actor.anonymous(),
                Authenticate(username="ghost@acme.example", password=secret),
            )
    with tenant.ctx.store.snapshot() as snapshot:
        events = [e for e in snapshot.audit.events() if e.action == "Authenticate"]
    assert [(e.entity_id, e.detail) for e in events] == [
        (tenant.users["member"].id, "failed: wrong password or not active (1 in a row)"),
        ("", "failed: unknown user (1 in a row)"),  # counted like a user's name, unnamed
    ]
    failures = [r for r in caplog.records if getattr(r, "event", None) == "auth.failed"]
    assert len(failures) == 2
    assert failures[0].__dict__["user_id"] == tenant.users["member"].id
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert secret not in logged
    assert "ghost" not in logged  # an unknown name may be a password typed in the wrong field


def test_planning_a_sign_in_counts_the_guess_applying_it_audits_it(tenant: Tenant) -> None:
    command = Authenticate(username="member@acme.example", password="wrong-guess-0000")
    planned = plan(tenant.ctx, Actor.anonymous(), [command])
    assert _counted(tenant).failures == 1  # a plan that is never applied still counts
    with tenant.ctx.store.snapshot() as snapshot:
        assert not [e for e in snapshot.audit.events() if e.action == "Authenticate"]
    with pytest.raises(ValidationFailed):
        apply(tenant.ctx, planned)
    assert _counted(tenant).failures == 1  # counted once, not again when applied
    with tenant.ctx.store.snapshot() as snapshot:
        assert [e for e in snapshot.audit.events() if e.action == "Authenticate"]


def test_a_captcha_is_asked_for_after_the_first_failures_where_the_domain_wants_one(
    tenant: Tenant,
) -> None:
    tenant.ask_for_captcha(on_login=True)
    assert _sign_in(tenant, "wrong-guess-0000") == ["auth.failed"]
    assert _sign_in(tenant, "wrong-guess-0000") == ["auth.failed"]
    assert _sign_in(tenant, "wrong-guess-0000") == ["auth.failed", "auth.captcha_required"]
    assert _sign_in(tenant, PASSWORD) == ["auth.captcha_required"]
    assert _counted(tenant).failures == 3  # asking for a CAPTCHA counts nothing
    assert _sign_in(tenant, PASSWORD, captcha_passed=True) == []


def test_a_re_initialised_second_factor_stays_required(tenant: Tenant, clock: FixedClock) -> None:
    member = tenant.users["member"]
    enrollment = run(tenant.ctx, Actor.user(member.id), EnrollMfa(user_id=member.id))
    code = Totp(enrollment.secret).code(clock.now())
    run(tenant.ctx, Actor.user(member.id), FinalizeMfa(user_id=member.id, code=code))
    run(tenant.ctx, OPERATOR, ReinitializeMfa(user_id=member.id))
    signed_in = run(
        tenant.ctx,
        Actor.anonymous(),
        Authenticate(username="member@acme.example", password=PASSWORD),
    )
    assert signed_in.mfa_setup_required is True


def test_a_lighter_hasher_never_rewrites_a_stronger_hash() -> None:
    light = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)
    strong = Argon2Hasher(time_cost=2, memory_cost=16, parallelism=1)
    stored = strong.hash("Amber-Orchard-Rivers-31")
    assert light.needs_rehash(stored) is False
    assert strong.needs_rehash(light.hash("Amber-Orchard-Rivers-31")) is True
    assert strong.needs_rehash(stored) is False
    assert light.needs_rehash("not a hash") is True


# --- administrators and password-less users get in through a one-time link (item 12) ---


def _welcome(outbox: Outbox, template: str) -> Message:
    (message,) = [m for m in outbox.messages if m.template == template][-1:]
    return message


def test_a_new_administrator_sets_its_password_through_the_link_in_its_welcome(
    tenant: Tenant, outbox: Outbox
) -> None:
    admin = run(
        tenant.ctx,
        OPERATOR,
        CreateAdmin(
            account_id="acme",
            address="desk@acme.example",
            primary_email="desk.owner@home.example",
            role_ids=frozenset({"system:administrator"}),
        ),
    )
    welcome = _welcome(outbox, "admin.created")
    assert welcome.to == "desk.owner@home.example"  # the primary email gets the codes and links
    token = welcome.secrets["token"]
    assert token not in repr(welcome)
    assert token not in repr(admin)
    assert tenant.fresh_by_id(admin.id).credentials.setup_token_hash != token  # only its hash
    setup = CompletePasswordSetup(user_id=admin.id, token=token, password=NEW, password_repeat=NEW)
    run(tenant.ctx, Actor.anonymous(), setup)
    signed_in = run(
        tenant.ctx, Actor.anonymous(), Authenticate(username="desk@acme.example", password=NEW)
    )
    assert signed_in.user_id == admin.id
    with pytest.raises(ValidationFailed) as used:
        run(tenant.ctx, Actor.anonymous(), setup)  # once only
    assert used.value.codes == ["password_setup.invalid"]


def test_a_set_password_link_expires_and_a_wrong_one_says_nothing_more(
    tenant: Tenant, outbox: Outbox, clock: FixedClock
) -> None:
    user = run(
        tenant.ctx,
        OPERATOR,
        CreateUser(
            account_id="acme", username="nopass@acme.example", alternate_email="np@home.example"
        ),
    )
    welcome = _welcome(outbox, "user.created")
    assert welcome.to == "np@home.example"
    token = welcome.secrets["token"]
    attempts = {
        "wrong token": CompletePasswordSetup(
            user_id=user.id, token="x" * 32, password=NEW, password_repeat=NEW
        ),
        "unknown user": CompletePasswordSetup(
            user_id="nobody", token=token, password=NEW, password_repeat=NEW
        ),
    }
    for command in attempts.values():
        assert plan(tenant.ctx, Actor.anonymous(), [command]).issues[0].code == (
            "password_setup.invalid"
        )
    clock.advance(hours=73)
    late = CompletePasswordSetup(user_id=user.id, token=token, password=NEW, password_repeat=NEW)
    assert [i.code for i in plan(tenant.ctx, Actor.anonymous(), [late]).errors] == [
        "password_setup.invalid"
    ]


# --- look-alike addresses (item 10) ---

LOOKALIKES = {
    "Cyrillic letters": ("app", "\u0430\u0440\u0440", {"address.confusable"}),
    "a Cyrillic letter among Latin ones": ("anna", "\u0430nna", {"address.mixed_script"}),
    "a Greek letter among Latin ones": ("olga", "\u03bflga", {"address.mixed_script"}),
    "full-width letters": ("anna", "\uff41nna", {"address.confusable"}),
    "mathematical letters": ("anna", "\U0001d41anna", {"address.disallowed"}),
    "a Turkish dotted capital I": ("inan", "\u0130nan", {"address.confusable"}),
    "a Turkish dotless i": ("pinar", "p\u0131nar", {"address.confusable"}),
    "a combining dot": ("anna", "a\u0307nna", {"address.confusable"}),
}


def _create(tenant: Tenant, local: str, **more: Any) -> list[str]:
    command = CreateUser(
        account_id="acme",
        username=f"{local}@acme.example",
        password=NEW,
        password_repeat=NEW,
        alternate_email="x@home.example",
        **more,
    )
    return [issue.code for issue in plan(tenant.ctx, OPERATOR, [command]).errors]


@pytest.mark.parametrize("pair", list(LOOKALIKES))
def test_a_look_alike_address_cannot_sit_beside_the_plain_one(tenant: Tenant, pair: str) -> None:
    plain, lookalike, codes = LOOKALIKES[pair]
    assert _create(tenant, plain) == []
    run(tenant.ctx, OPERATOR, CreateUser(account_id="acme", username=f"{plain}@acme.example"))
    assert set(_create(tenant, lookalike)) == codes
    # As an alias, or a shared mailbox, the look-alike is refused all the same.
    aliased = _create(tenant, "fresh", aliases=(f"{lookalike}@acme.example",))
    assert set(aliased) == codes
    mailbox = CreateMailbox(account_id="acme", address=f"{lookalike}@acme.example")
    assert {i.code for i in plan(tenant.ctx, OPERATOR, [mailbox]).errors} == codes


@pytest.mark.parametrize("order", ["plain first", "look-alike first"])
def test_whichever_comes_first_keeps_the_name(tenant: Tenant, order: str) -> None:
    first, second = ("pinar", "p\u0131nar") if order == "plain first" else ("p\u0131nar", "pinar")
    run(tenant.ctx, OPERATOR, CreateUser(account_id="acme", username=f"{first}@acme.example"))
    assert _create(tenant, second) == ["address.confusable"]
    assert _create(tenant, "pinara") == []  # a different name is no look-alike


def test_a_look_alike_in_the_same_batch_is_caught(tenant: Tenant) -> None:
    commands = [
        CreateUser(account_id="acme", username=f"{local}@acme.example")
        for local in ("pinar", "p\u0131nar")
    ]
    planned = plan(tenant.ctx, OPERATOR, commands)
    assert [(i.code, i.command) for i in planned.errors] == [("address.confusable", 1)]


def test_a_homoglyph_domain_is_refused(tenant: Tenant) -> None:
    planned = plan(tenant.ctx, OPERATOR, [AddDomain(account_id="globex", name="\u0430cme.example")])
    assert [i.code for i in planned.errors] == ["domain.confusable"]


def test_scripts_that_belong_together_are_welcome(tenant: Tenant) -> None:
    assert _create(tenant, "\u5c71\u7530taro") == []  # Han with Latin
    assert _create(tenant, "\u0438\u0432\u0430\u043d") == []  # all Cyrillic


@pytest.mark.parametrize(
    "name",
    [
        "\u30b9\u30fc\u30d1\u30fc",  # スーパー: Katakana with the prolonged sound mark
        "\u3089\u30fc\u3081\u3093",  # らーめん: the same mark among Hiragana
        "\u5c71\u7530\u305f\u308d\u3046",  # 山田たろう: Han with Hiragana
        "\u30bf\u30ed\u30a6\u3005",  # タロウ々: Katakana with the iteration mark
        "taro\u3084\u307e\u3060",  # Latin with Hiragana (Japanese, highly restrictive)
        "\uae40\ubbfc\uc218",  # 김민수: Hangul
        "min\uc218",  # Latin with Hangul (Korean)
        "\u03b1\u03bb\u03ad\u03be\u03b1\u03bd\u03b4\u03c1\u03bf\u03c2",  # αλέξανδρος
        "\u0438\u0432\u0430\u043d",  # иван
        "jos\u00e9",
        "m\u00fcller",
    ],
)
def test_names_of_one_writing_system_are_welcome(name: str) -> None:
    assert local_part_problem(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "p\u0430ypal",  # a Cyrillic a among Latin letters
        "\u03b1lpha",  # a Greek alpha among Latin letters
        "\u0438\u03b1\u043d",  # Cyrillic with Greek
        "\u30b9\u30fc\u0440",  # Katakana with a Cyrillic er
        "\uae40\u3089",  # Hangul with Hiragana: no one writing system holds both
    ],
)
def test_letters_of_scripts_that_never_go_together_are_refused(name: str) -> None:
    found = local_part_problem(name)
    assert found is not None
    assert found[0] == "address.mixed_script"


def test_failures_at_the_same_time_all_count(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "race.db")
    dns = MemoryDns()
    ctx = Context(store=store, dns=dns, clock=FixedClock(START), hasher=FAST_HASHER)
    tenant = build_tenant(ctx, dns)
    guess = Authenticate(username="member@acme.example", password="wrong-guess-0000")

    def fail_five() -> None:
        for _ in range(5):
            with pytest.raises(ValidationFailed):
                run(ctx, Actor.anonymous(), guess)

    workers = [threading.Thread(target=fail_five) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert _counted(tenant).failures == 10
    store.close()


@pytest.mark.parametrize("change", ["rename", "disable"])
def test_the_super_admin_stays_postmaster_and_enabled(tenant: Tenant, change: str) -> None:
    boss = tenant.users["super"]
    command: Command[Any] = (
        RenameUser(user_id=boss.id, version=boss.version, username="boss@acme.example")
        if change == "rename"
        else UpdateUser(user_id=boss.id, version=boss.version, enabled=False)
    )
    planned = plan(tenant.ctx, OPERATOR, [command])  # not even the operator
    assert [i.code for i in planned.errors] == ["admin.super_admin_fixed"]


def test_an_alias_that_is_the_username_says_so(tenant: Tenant) -> None:
    member = tenant.users["member"]
    command = UpdateUser(
        user_id=member.id, version=member.version, aliases=("MEMBER@acme.example",)
    )
    assert [i.code for i in plan(tenant.ctx, OPERATOR, [command]).errors] == ["alias.is_username"]


def test_a_long_password_is_judged_by_its_first_characters_without_an_error() -> None:
    policy = PasswordPolicy()
    assert policy.check("Amber-Orchard-Rivers-31" * 5, local_part="zoe") == []  # 115 characters
    assert policy.check("a" * 128, local_part="zoe") != []


# --- what the time of an answer tells: an absent id is looked up like a foreign one ---------


@pytest.mark.parametrize(
    ("entity", "foreign"),
    [("user", "member"), ("role", "acme-helpdesk")],
)
def test_an_absent_id_costs_the_look_ups_a_foreign_one_does(
    tmp_path: Path, entity: str, foreign: str
) -> None:
    store = SqliteStore(tmp_path / "timing.db")
    dns = MemoryDns()
    ctx = Context(store=store, dns=dns, clock=FixedClock(START), hasher=FAST_HASHER)
    tenant = build_tenant(ctx, dns)
    run(
        ctx,
        OPERATOR,
        CreateRole(account_id="acme", name="Helpdesk", role_id="acme-helpdesk"),
    )
    spy = tenant.actor("stranger")  # Globex's administrator
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def probe(target: str) -> tuple[list[str], int]:
        statements.clear()
        command: Command[Any] = (
            UpdateUser(user_id=target, version=1, first_name="X")
            if entity == "user"
            else DeleteRole(role_id=target)
        )
        codes = [issue.code for issue in plan(ctx, spy, [command]).errors]
        return codes, len(statements)

    target = tenant.users[foreign].id if entity == "user" else foreign
    probe(target)  # the actor's own rows, read once and kept
    foreign_codes, foreign_reads = probe(target)
    absent_codes, absent_reads = probe("01900000-0000-7000-8000-00000000beef")
    assert foreign_codes == absent_codes == [f"{entity}.not_found"]
    assert foreign_reads == absent_reads
    store.close()
