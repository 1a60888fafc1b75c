"""The seeds' rules, on every store: classes of service, renames, the address namespace ..."""

from __future__ import annotations

from typing import Any

import pytest

from access_world import user as access_user
from conftest import OPERATOR, START, active_domain
from provisioning import (
    ActivateDomain,
    Actor,
    AddDomain,
    Authenticate,
    CompletePasswordRecovery,
    Context,
    CreateAccount,
    CreateAdmin,
    CreateClassOfService,
    CreateMailbox,
    CreateRole,
    CreateUser,
    DeleteAccount,
    DeleteClassOfService,
    DeleteMailbox,
    InviteUser,
    NotFound,
    PermissionDenied,
    RegisterWithInvitation,
    RenameUser,
    SetGrant,
    SettleFormerUsers,
    StartPasswordRecovery,
    UpdateAccount,
    UpdateClassOfService,
    UpdateDomain,
    UpdateUser,
    UsageError,
    ValidationFailed,
    VerifyDomain,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import FixedClock, MemoryDns, Outbox
from provisioning.commands import Command
from provisioning.model import (
    SYSTEM_ROLES,
    Account,
    Mailbox,
    MailboxKind,
    User,
    Username,
    UserStatus,
)
from security_world import Tenant, build_tenant

PASSWORD = "Blue-Lantern-Walks-42"
ADMINISTRATOR = SYSTEM_ROLES["system:administrator"].permissions


@pytest.fixture
def tenant(ctx: Context, dns: MemoryDns) -> Tenant:
    return build_tenant(ctx, dns)


def codes(tenant: Tenant, command: Command[Any], actor: Actor = OPERATOR) -> list[str]:
    return [issue.code for issue in plan(tenant.ctx, actor, [command]).errors]


def acme(tenant: Tenant) -> Account:
    return queries.get_account(tenant.ctx, OPERATOR, "acme")


def new_user(tenant: Tenant, username: str, **options: Any) -> User:
    return access_user(tenant.ctx, username, **options)


# -- every user has a class of service ------------------------------------------------------


def test_an_account_starts_with_a_users_and_an_admins_class_of_service(tenant: Tenant) -> None:
    account = acme(tenant)
    own = {cos.id: cos for cos in queries.classes_of_service(tenant.ctx, OPERATOR, "acme")}
    assert account.default_cos_id in own
    assert account.admin_cos_id in own
    users, admins = own[account.default_cos_id], own[account.admin_cos_id]
    assert (users.name, users.admin_panel) == ("Users", False)
    assert (admins.name, admins.admin_panel) == ("Administrators", True)


def test_a_new_user_takes_the_domains_default_class_of_service_else_the_accounts(
    tenant: Tenant,
) -> None:
    assert new_user(tenant, "ann@acme.example").cos_id == acme(tenant).default_cos_id
    gold = run(tenant.ctx, OPERATOR, CreateClassOfService(name="Gold", account_id="acme"))
    domain = queries.get_domain(tenant.ctx, OPERATOR, tenant.domain_id)
    run(
        tenant.ctx,
        OPERATOR,
        UpdateDomain(domain_id=domain.id, version=domain.version, default_cos_id=gold.id),
    )
    assert new_user(tenant, "bob@acme.example").cos_id == gold.id


def test_a_users_class_of_service_cannot_be_taken_away(tenant: Tenant) -> None:
    member = tenant.fresh("member")
    command = UpdateUser(user_id=member.id, version=member.version, cos_id=None)
    assert codes(tenant, command) == ["cos.required"]


def test_the_accounts_own_classes_of_service_stay(tenant: Tenant) -> None:
    account = acme(tenant)
    assert account.default_cos_id is not None
    assert account.admin_cos_id is not None
    for cos_id in (account.default_cos_id, account.admin_cos_id):
        assert "cos.account_default" in codes(tenant, DeleteClassOfService(cos_id=cos_id))
    closing = UpdateClassOfService(cos_id=account.admin_cos_id, version=1, admin_panel=False)
    assert codes(tenant, closing) == ["cos.account_default"]
    opening = UpdateClassOfService(cos_id=account.default_cos_id, version=1, admin_panel=True)
    assert codes(tenant, opening) == ["cos.admin_panel_default"]
    to_admins = UpdateAccount(
        account_id="acme", version=account.version, default_cos_id=account.admin_cos_id
    )
    assert codes(tenant, to_admins) == ["cos.admin_panel_default"]
    gold = run(tenant.ctx, OPERATOR, CreateClassOfService(name="Gold", account_id="acme"))
    moved = run(
        tenant.ctx,
        OPERATOR,
        UpdateAccount(account_id="acme", version=account.version, default_cos_id=gold.id),
    )
    assert moved.default_cos_id == gold.id
    assert new_user(tenant, "cy@acme.example").cos_id == gold.id


# -- the admin class of service makes administrators -----------------------------------------


def _give_cos(tenant: Tenant, actor: str, user: str, cos_id: str | None) -> User:
    target = tenant.fresh(user)
    changed: User = run(
        tenant.ctx,
        tenant.actor(actor),
        UpdateUser(user_id=target.id, version=target.version, cos_id=cos_id),
    )
    return changed


def test_the_admin_class_of_service_makes_an_administrator_and_taking_it_unmakes_one(
    tenant: Tenant,
) -> None:
    account = acme(tenant)
    member = tenant.fresh("member")
    assert queries.permissions(tenant.ctx, tenant.actor("member"), "acme") == frozenset()

    promoted = _give_cos(tenant, "owner", "member", account.admin_cos_id)
    assert promoted.admin
    held = queries.permissions(tenant.ctx, tenant.actor("member"), "acme")
    assert held == ADMINISTRATOR

    demoted = _give_cos(tenant, "owner", "member", account.default_cos_id)
    assert not demoted.admin
    assert queries.permissions(tenant.ctx, tenant.actor("member"), "acme") == frozenset()
    log = queries.audit_log(tenant.ctx, OPERATOR, "acme", entity_id=member.id)
    details = [event.detail for event in log]
    assert "became an administrator (Administrators)" in details
    assert "is no longer an administrator (Users)" in details


@pytest.mark.parametrize("actor", ["admin", "lead"])
def test_only_who_holds_what_an_administrator_holds_and_admins_manage_makes_one(
    tenant: Tenant, actor: str
) -> None:
    """`admin` lacks `admins.manage`; `lead` has it but not the administrator's permissions."""
    account = acme(tenant)
    member = tenant.fresh("member")
    command = UpdateUser(user_id=member.id, version=member.version, cos_id=account.admin_cos_id)
    assert codes(tenant, command, tenant.actor(actor)) == ["cos.admin_panel_forbidden"]


def test_taking_the_admin_class_of_service_away_is_guarded_too(tenant: Tenant) -> None:
    account = acme(tenant)
    _give_cos(tenant, "owner", "member", account.admin_cos_id)
    member = tenant.fresh("member")
    command = UpdateUser(user_id=member.id, version=member.version, cos_id=account.default_cos_id)
    assert codes(tenant, command, tenant.actor("admin")) == ["cos.admin_panel_forbidden"]


def test_opening_the_panel_of_a_class_in_use_makes_its_holders_administrators(
    tenant: Tenant,
) -> None:
    gold = run(tenant.ctx, OPERATOR, CreateClassOfService(name="Gold", account_id="acme"))
    ann = new_user(tenant, "ann@acme.example", cos_id=gold.id)
    assert not ann.admin
    run(tenant.ctx, OPERATOR, UpdateClassOfService(cos_id=gold.id, version=1, admin_panel=True))
    assert tenant.fresh_by_id(ann.id).admin
    assert queries.permissions(tenant.ctx, Actor.user(ann.id), "acme") == ADMINISTRATOR
    run(tenant.ctx, OPERATOR, UpdateClassOfService(cos_id=gold.id, version=2, admin_panel=False))
    assert not tenant.fresh_by_id(ann.id).admin
    assert queries.permissions(tenant.ctx, Actor.user(ann.id), "acme") == frozenset()


# -- renames move everything ------------------------------------------------------------------


def _personal(tenant: Tenant, user_id: str) -> list[Mailbox]:
    with tenant.ctx.store.snapshot() as uow:
        return [m for m in uow.mailboxes.of_owner(user_id) if m.kind is MailboxKind.PERSONAL]


def _rename(tenant: Tenant, user: User, username: str, **options: Any) -> User:
    renamed: User = run(
        tenant.ctx,
        OPERATOR,
        RenameUser(user_id=user.id, version=user.version, username=username, **options),
    )
    return renamed


def test_a_rename_moves_the_personal_mailbox_and_frees_the_old_address(tenant: Tenant) -> None:
    ren = new_user(tenant, "ren@acme.example", personal_mailbox=True, aliases=["r@acme.example"])
    (mailbox,) = _personal(tenant, ren.id)
    renata = _rename(tenant, ren, "renata@acme.example")
    assert [str(a) for a in renata.aliases] == ["r@acme.example"]
    (moved,) = _personal(tenant, ren.id)
    assert (moved.id, str(moved.address)) == (mailbox.id, "renata@acme.example")
    held = queries.permissions(tenant.ctx, Actor.user(ren.id), "acme", moved.id)
    assert "mailbox.manage" in held  # its grants stay

    newcomer = new_user(tenant, "ren@acme.example", personal_mailbox=True)
    (own,) = _personal(tenant, newcomer.id)
    assert own.id != mailbox.id
    assert str(own.address) == "ren@acme.example"


def test_a_rename_can_keep_the_old_address_as_an_alias(tenant: Tenant) -> None:
    ren = new_user(tenant, "ren@acme.example")
    renata = _rename(tenant, ren, "renata@acme.example", keep_old_as_alias=True)
    assert [str(a) for a in renata.aliases] == ["ren@acme.example"]
    command = CreateUser(
        account_id="acme",
        username="REN@acme.example",
        password=PASSWORD,
        password_repeat=PASSWORD,
        alternate_email="someone@home.example",
    )
    assert codes(tenant, command) == ["address.taken"]


# -- one address namespace ----------------------------------------------------------------


def test_usernames_aliases_admins_and_mailboxes_share_one_namespace(tenant: Tenant) -> None:
    run(tenant.ctx, OPERATOR, CreateMailbox(account_id="acme", address="sales@acme.example"))
    member = tenant.fresh("member")
    claims: list[Command[Any]] = [
        CreateUser(
            account_id="acme",
            username="Sales@ACME.example",
            password=PASSWORD,
            password_repeat=PASSWORD,
            alternate_email="someone@home.example",
        ),
        UpdateUser(user_id=member.id, version=member.version, aliases=("sales@acme.example",)),
        RenameUser(user_id=member.id, version=member.version, username="sales@acme.example"),
        CreateAdmin(
            account_id="acme",
            address="sales@acme.example",
            primary_email="boss@home.example",
            role_ids=frozenset({"system:administrator"}),
        ),
    ]
    for command in claims:
        assert codes(tenant, command) == ["address.taken"], command
    shared = CreateMailbox(account_id="acme", address="MEMBER@acme.example")
    assert codes(tenant, shared) == ["address.taken"]


# -- a query for everything -----------------------------------------------------------------


def test_every_entity_has_a_look_up_that_returns_it_with_its_version(tenant: Tenant) -> None:
    ctx, boss = tenant.ctx, tenant.actor("super")
    mailbox = run(ctx, OPERATOR, CreateMailbox(account_id="acme", address="sales@acme.example"))
    role = run(
        ctx,
        OPERATOR,
        CreateRole(account_id="acme", name="Helpdesk", permissions=frozenset({"users.read"})),
    )
    invitation = run(
        ctx, OPERATOR, InviteUser(account_id="acme", email="new@partner.example")
    ).invitation

    assert [str(d.name) for d in queries.domains(ctx, boss, "acme")] == ["acme.example"]
    domain = queries.get_domain(ctx, boss, tenant.domain_id)
    assert (str(domain.name), domain.version) == ("acme.example", 3)  # verified, activated
    assert queries.get_mailbox(ctx, boss, mailbox.id) == mailbox
    assert [m.address.key for m in queries.mailboxes(ctx, boss, "acme").items] == [
        "sales@acme.example"
    ]
    assert queries.get_role(ctx, boss, role.id).version == 1
    assert queries.get_role(ctx, boss, "system:owner").system
    assert [r.id for r in queries.roles(ctx, boss, "acme")][-1] == role.id
    account = acme(tenant)
    cos = queries.get_class_of_service(ctx, boss, account.default_cos_id or "")
    assert cos.name == "Users"
    assert queries.get_invitation(ctx, boss, invitation.id).email.key == "new@partner.example"
    admins = queries.admins(ctx, boss, "acme", limit=2)
    assert admins.total == 5  # the super admin, two owners, two administrators
    assert [str(u.username) for u in admins.items] == [
        "postmaster@acme.example",
        "admin2@acme.example",  # by address: "2" sorts before "@"
    ]
    member = tenant.fresh("member")
    (grant,) = queries.grants(ctx, boss, "acme", user_id=member.id).items
    assert grant.role_ids == {"system:member"}
    assert queries.get_grant(ctx, Actor.user(member.id), grant.id) == grant
    assert queries.grants(ctx, boss, "acme").total >= 8


def test_another_accounts_entities_are_not_found_by_its_look_ups(tenant: Tenant) -> None:
    ctx, stranger = tenant.ctx, tenant.actor("stranger")
    mailbox = run(ctx, OPERATOR, CreateMailbox(account_id="acme", address="sales@acme.example"))
    account = acme(tenant)
    looks: list[tuple[Any, str]] = [
        (lambda: queries.get_domain(ctx, stranger, tenant.domain_id), "domain.not_found"),
        (lambda: queries.get_mailbox(ctx, stranger, mailbox.id), "mailbox.not_found"),
        (
            lambda: queries.get_class_of_service(ctx, stranger, account.admin_cos_id or ""),
            "cos.not_found",
        ),
        (lambda: queries.domains(ctx, stranger, "acme"), "account.not_found"),
        (lambda: queries.mailboxes(ctx, stranger, "acme"), "account.not_found"),
        (lambda: queries.admins(ctx, stranger, "acme"), "account.not_found"),
    ]
    for look, code in looks:
        with pytest.raises(NotFound) as caught:
            look()
        assert caught.value.code == code
    member = tenant.actor("member")  # in the account, but without the permission
    with pytest.raises(PermissionDenied):
        queries.mailboxes(ctx, member, "acme")
    with pytest.raises(UsageError) as paging:
        queries.mailboxes(ctx, OPERATOR, "acme", limit=0)
    assert paging.value.code == "query.page_invalid"


# -- primary domains ------------------------------------------------------------------------


def test_registered_senders_of_the_primary_domain_may_send_through_the_domain(
    tenant: Tenant,
) -> None:
    ctx = tenant.ctx
    relay = active_domain(
        ctx, tenant.dns, "acme", "relay.example", primary_domain="acme.example", require_2fa=True
    )
    run(ctx, OPERATOR, CreateMailbox(account_id="acme", address="sales@acme.example"))
    verdicts = {
        sender: queries.may_send(ctx, OPERATOR, sender, relay.id).reason
        for sender in (
            "member@acme.example",
            "sales@acme.example",
            "nobody@acme.example",
            "admin@globex.example",
            "not an address",
        )
    }
    assert verdicts == {
        "member@acme.example": "sender.allowed",
        "sales@acme.example": "sender.allowed",
        "nobody@acme.example": "sender.unregistered",
        "admin@globex.example": "sender.foreign_domain",
        "not an address": "sender.invalid",
    }
    bad = AddDomain(account_id="acme", name="b.example", primary_domain="postmaster@not a domain")
    assert "domain.invalid" in codes(tenant, bad)


# -- registration -----------------------------------------------------------------------------


def _register(tenant: Tenant, email: str, **offer: Any) -> User:
    issued = run(
        tenant.ctx, tenant.actor("owner"), InviteUser(account_id="acme", email=email, **offer)
    )
    registered: User = run(
        tenant.ctx,
        Actor.anonymous("registration"),
        RegisterWithInvitation(
            token=issued.token,
            password=PASSWORD,
            password_repeat=PASSWORD,
            first_name="New",
            last_name="Comer",
        ),
    )
    return registered


def test_registration_creates_a_non_corporate_users_own_account(tenant: Tenant) -> None:
    newcomer = _register(tenant, "new@partner.example", permissions=frozenset({"users.read"}))
    assert (newcomer.account_id, newcomer.corporate) == (None, False)
    with tenant.ctx.store.snapshot() as uow:
        grants = {g.account_id: g for g in uow.grants.of_user(newcomer.id) if g.mailbox_id is None}
        (own_id,) = set(grants) - {"acme"}
        own = uow.accounts.get(own_id)
        (mailbox,) = uow.mailboxes.of_owner(newcomer.id)
    assert own.name == "New Comer"
    assert grants[own_id].role_ids == {"system:owner"}
    assert grants["acme"].permissions == {"users.read"}  # the invitation's access, on top
    assert (mailbox.account_id, str(mailbox.address)) == (own_id, "new@partner.example")
    second = _register(tenant, "other@partner.example")  # the same name: numbered
    assert second.account_id is None
    with tenant.ctx.store.snapshot() as uow:
        assert uow.accounts.by_name("New Comer 2") is not None
        assert uow.accounts.count() == 4


@pytest.mark.parametrize("mailbox_on_create", [False, True])
def test_a_corporate_registrant_follows_the_domain_accounts_settings(
    tenant: Tenant, mailbox_on_create: bool
) -> None:
    account = acme(tenant)
    run(
        tenant.ctx,
        OPERATOR,
        UpdateAccount(
            account_id="acme",
            version=account.version,
            personal_mailbox_on_create=mailbox_on_create,
        ),
    )
    newcomer = _register(tenant, "newcomer@acme.example")
    assert (newcomer.account_id, newcomer.corporate) == ("acme", True)
    assert newcomer.cos_id == account.default_cos_id
    with tenant.ctx.store.snapshot() as uow:
        mailboxes = uow.mailboxes.of_owner(newcomer.id)
        assert uow.accounts.count() == 2  # no account of its own
    assert [m.account_id for m in mailboxes] == (["acme"] if mailbox_on_create else [])


def test_an_early_registrant_is_adopted_with_the_domains_defaults(tenant: Tenant) -> None:
    gold = run(tenant.ctx, OPERATOR, CreateClassOfService(name="Gold", account_id="acme"))
    soon = run(
        tenant.ctx,
        OPERATOR,
        AddDomain(account_id="acme", name="soon.example", require_2fa=True, default_cos_id=gold.id),
    )
    early = _register(tenant, "early@soon.example")
    assert (early.corporate, early.cos_id, early.mfa.required) == (False, None, False)
    tenant.dns.publish("soon.example", soon.verification_token)
    run(tenant.ctx, OPERATOR, VerifyDomain(domain_id=soon.id))
    run(tenant.ctx, OPERATOR, ActivateDomain(domain_id=soon.id))
    adopted = tenant.fresh_by_id(early.id)
    assert (adopted.account_id, adopted.domain_id, adopted.corporate) == ("acme", soon.id, True)
    assert (adopted.cos_id, adopted.mfa.required) == (gold.id, True)
    log = queries.audit_log(tenant.ctx, OPERATOR, "acme", entity_id=early.id)
    assert [e.action for e in log] == ["ActivateDomain"]
    assert log[0].detail.startswith("became a corporate user")


# -- a deleted account's domain and users ---------------------------------------------------


def _delete_globex(tenant: Tenant) -> User:
    """Globex gets a user, then is deleted; the user is returned as it was."""
    ctx = tenant.ctx
    gina: User = run(
        ctx,
        OPERATOR,
        CreateUser(
            account_id="globex",
            username="gina@globex.example",
            password=PASSWORD,
            password_repeat=PASSWORD,
            alternate_email="gina@home.example",
        ),
    )
    run(ctx, OPERATOR, DeleteAccount(account_id="globex", confirm_name="Globex"))
    return gina


def test_a_deleted_accounts_users_cannot_sign_in_and_its_postmaster_is_freed(
    tenant: Tenant,
) -> None:
    gina = _delete_globex(tenant)
    with pytest.raises(ValidationFailed) as caught:
        run(tenant.ctx, OPERATOR, Authenticate(username=str(gina.username), password=PASSWORD))
    assert caught.value.codes == ["auth.failed"]
    former = tenant.fresh_by_id(gina.id)
    assert (former.account_id, former.corporate) == (None, True)
    with tenant.ctx.store.snapshot() as uow:
        assert uow.users.by_address("postmaster@globex.example") is None
    run(tenant.ctx, OPERATOR, CreateAccount(name="Initech", account_id="initech"))
    domain = active_domain(
        tenant.ctx, tenant.dns, "initech", "globex.example", admin_email="it@initech.example"
    )
    assert tenant.fresh_by_id(gina.id).account_id is None  # not adopted silently
    listed = queries.former_users(tenant.ctx, OPERATOR, domain.id)
    assert [str(u.username) for u in listed] == ["admin@globex.example", "gina@globex.example"]


def test_the_account_that_holds_the_domain_next_adopts_or_removes_its_former_users(
    tenant: Tenant, outbox: Outbox
) -> None:
    gina = _delete_globex(tenant)
    run(tenant.ctx, OPERATOR, CreateAccount(name="Initech", account_id="initech"))
    domain = active_domain(
        tenant.ctx,
        tenant.dns,
        "initech",
        "globex.example",
        admin_email="it@initech.example",
        require_2fa=True,
    )
    outbox.clear()
    wrong = SettleFormerUsers(domain_id=domain.id, adopt=frozenset({tenant.users["member"].id}))
    assert codes(tenant, wrong) == ["user.not_former"]
    run(tenant.ctx, OPERATOR, SettleFormerUsers(domain_id=domain.id, adopt=frozenset({gina.id})))
    adopted = tenant.fresh_by_id(gina.id)
    assert (adopted.account_id, adopted.status, adopted.mfa.required) == (
        "initech",
        UserStatus.ACTIVE,
        True,
    )
    assert adopted.credentials.password_hash is None  # the old password no longer works
    (welcome,) = outbox.messages
    assert (welcome.template, welcome.to) == ("user.adopted", "gina@home.example")
    assert "token" in welcome.secrets
    with pytest.raises(ValidationFailed):
        run(tenant.ctx, OPERATOR, Authenticate(username="gina@globex.example", password=PASSWORD))


def test_former_users_can_be_removed_instead(tenant: Tenant) -> None:
    gina = _delete_globex(tenant)
    run(tenant.ctx, OPERATOR, CreateAccount(name="Initech", account_id="initech"))
    domain = active_domain(
        tenant.ctx, tenant.dns, "initech", "globex.example", admin_email="it@initech.example"
    )
    run(tenant.ctx, OPERATOR, SettleFormerUsers(domain_id=domain.id, remove=frozenset({gina.id})))
    with tenant.ctx.store.snapshot() as uow:
        assert uow.users.find(gina.id) is None
    left = queries.former_users(tenant.ctx, OPERATOR, domain.id)
    assert [str(u.username) for u in left] == ["admin@globex.example"]


# -- password recovery ----------------------------------------------------------------------


def _recover(tenant: Tenant, username: str) -> None:
    run(tenant.ctx, Actor.anonymous(), StartPasswordRecovery(username=username))


def _complete(
    tenant: Tenant, username: str, code: str, password: str = "Fresh-Meadow-Sings-77"
) -> None:
    run(
        tenant.ctx,
        Actor.anonymous(),
        CompletePasswordRecovery(
            username=username, code=code, password=password, password_repeat=password
        ),
    )


def test_a_forgotten_password_is_recovered_with_a_code_sent_to_the_alternate_email(
    tenant: Tenant, outbox: Outbox
) -> None:
    outbox.clear()
    _recover(tenant, "member@acme.example")
    (message,) = outbox.messages
    assert (message.template, message.channel, message.to) == (
        "password.recovery",
        "email",
        "someone@home.example",
    )
    assert message.data["channel"] == "email"
    code = message.secrets["code"]
    member = tenant.fresh("member")
    assert member.credentials.recovery_code_hash is not None
    assert code not in member.credentials.recovery_code_hash  # kept hashed
    _complete(tenant, "member@acme.example", code)
    signed_in = run(
        tenant.ctx,
        Actor.anonymous(),
        Authenticate(username="member@acme.example", password="Fresh-Meadow-Sings-77"),
    )
    assert signed_in.user_id == member.id
    with pytest.raises(ValidationFailed) as caught:  # single use
        _complete(tenant, "member@acme.example", code, "Another-Meadow-Sings-78")
    assert caught.value.codes == ["recovery.invalid"]


def test_without_an_email_the_code_goes_to_the_mobile_by_sms(
    tenant: Tenant, outbox: Outbox
) -> None:
    mobile = new_user(tenant, "mo@acme.example", alternate_email=None, mobile="+41 79 123 45 67")
    outbox.clear()
    _recover(tenant, str(mobile.username))
    (message,) = outbox.messages
    assert (message.channel, message.to) == ("sms", "+41791234567")


def test_an_administrators_recovery_code_goes_to_its_primary_email(
    tenant: Tenant, outbox: Outbox
) -> None:
    """Seed 003: an administrator's one-time codes go to its primary email, not nowhere."""
    outbox.clear()
    _recover(tenant, "postmaster@acme.example")
    (message,) = outbox.messages
    assert (message.channel, message.to) == ("email", "it@holding.example")
    _complete(tenant, "postmaster@acme.example", message.secrets["code"])
    signed_in = run(
        tenant.ctx,
        Actor.anonymous(),
        Authenticate(username="postmaster@acme.example", password="Fresh-Meadow-Sings-77"),
    )
    assert signed_in.user_id is not None


def test_recovery_tells_nobody_who_exists(tenant: Tenant, outbox: Outbox) -> None:
    bare = new_user(tenant, "bare@acme.example", alternate_email=None)
    outbox.clear()
    for username in ("ghost@acme.example", "not an address", str(bare.username)):
        assert run(tenant.ctx, Actor.anonymous(), StartPasswordRecovery(username=username)) is None
    assert outbox.messages == []
    for username in ("ghost@acme.example", str(bare.username)):
        with pytest.raises(ValidationFailed) as caught:
            _complete(tenant, username, "12345678")
        assert caught.value.codes == ["recovery.invalid"]


def test_recovery_codes_expire_allow_few_tries_and_few_requests(
    tenant: Tenant, outbox: Outbox, clock: FixedClock
) -> None:
    outbox.clear()
    for _ in range(5):
        _recover(tenant, "member@acme.example")
    assert len(outbox.messages) == 3  # three codes an hour, then nothing more is sent
    code = outbox.messages[-1].secrets["code"]
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            _complete(tenant, "member@acme.example", "00000000" if code != "00000000" else "1")
    with pytest.raises(ValidationFailed) as caught:  # five wrong tries: the right code is dead too
        _complete(tenant, "member@acme.example", code)
    assert caught.value.codes == ["recovery.invalid"]

    clock.advance(hours=1)
    outbox.clear()
    _recover(tenant, "member@acme.example")
    (fresh,) = outbox.messages
    clock.advance(minutes=16)
    with pytest.raises(ValidationFailed):
        _complete(tenant, "member@acme.example", fresh.secrets["code"])


# -- settings of corporate users, and the default mailbox ---------------------------------


def test_a_user_picks_a_default_mailbox_it_may_use_and_loses_it_with_the_mailbox(
    tenant: Tenant,
) -> None:
    ctx = tenant.ctx
    sales = run(ctx, OPERATOR, CreateMailbox(account_id="acme", address="sales@acme.example"))
    other = run(ctx, OPERATOR, CreateMailbox(account_id="acme", address="other@acme.example"))
    member = tenant.fresh("member")
    run(
        ctx,
        OPERATOR,
        SetGrant(
            user_id=member.id,
            account_id="acme",
            mailbox_id=sales.id,
            role_ids=frozenset({"system:viewer"}),
        ),
    )
    me = tenant.actor("member")
    refused = UpdateUser(user_id=member.id, version=member.version, default_mailbox_id=other.id)
    assert codes(tenant, refused, me) == ["user.default_mailbox_invalid"]
    chosen = run(
        ctx, me, UpdateUser(user_id=member.id, version=member.version, default_mailbox_id=sales.id)
    )
    assert chosen.default_mailbox_id == sales.id
    run(ctx, OPERATOR, DeleteMailbox(mailbox_id=sales.id))
    assert tenant.fresh("member").default_mailbox_id is None


def test_administrators_change_the_settings_of_corporate_users_only(tenant: Tenant) -> None:
    outsider = _register(tenant, "partner@partner.example", role_ids=frozenset({"system:member"}))
    assert outsider.account_id is None
    command = UpdateUser(user_id=outsider.id, version=outsider.version, timezone="Europe/Zurich")
    assert codes(tenant, command, tenant.actor("owner")) == ["user.not_corporate"]
    own = run(tenant.ctx, Actor.user(outsider.id), command)  # it changes its own
    assert own.profile.timezone == "Europe/Zurich"


def test_a_postmaster_an_older_deletion_left_behind_gives_way_to_the_new_super_admin(
    tenant: Tenant,
) -> None:
    ctx = tenant.ctx
    run(ctx, OPERATOR, DeleteAccount(account_id="globex", confirm_name="Globex"))
    with ctx.store.unit_of_work() as uow:  # what deleting an account left before this version
        uow.users.add(
            User(
                id="legacy-postmaster",
                username=Username.parse("postmaster@globex.example"),
                created_at=START,
                updated_at=START,
                corporate=True,
                status=UserStatus.DISABLED,
            )
        )
        uow.commit()
    run(ctx, OPERATOR, CreateAccount(name="Initech", account_id="initech"))
    active_domain(ctx, tenant.dns, "initech", "globex.example", admin_email="it@initech.example")
    with ctx.store.snapshot() as uow:
        postmaster = uow.users.by_address("postmaster@globex.example")
        assert uow.users.find("legacy-postmaster") is None
    assert postmaster is not None
    assert (postmaster.account_id, postmaster.super_admin) == ("initech", True)
