"""Domains: adding, verification through DNS, the lifecycle and its effects, deletion."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from conftest import OPERATOR
from provisioning import (
    ActivateDomain,
    Actor,
    AddDomain,
    Conflict,
    Context,
    CreateAccount,
    CreateAdmin,
    CreateClassOfService,
    DeactivateDomain,
    DeleteAccount,
    DeleteDomain,
    PermissionDenied,
    SetDomainPolicy,
    UnverifyDomain,
    UpdateDomain,
    VerifyDomain,
    apply,
    plan,
    run,
)
from provisioning.adapters.memory import MemoryDns, Outbox
from provisioning.commands import Command
from provisioning.handlers.domains import VERIFICATION_PREFIX
from provisioning.model import (
    Domain,
    DomainStatus,
    EmailAddress,
    Grant,
    Mailbox,
    User,
    Username,
)


def codes(ctx: Context, *commands: Command[Any]) -> list[str]:
    return [issue.code for issue in plan(ctx, OPERATOR, commands).issues]


@pytest.fixture
def acme(ctx: Context) -> Context:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    run(ctx, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    return ctx


def add(ctx: Context, name: str, account: str = "acme", **options: object) -> Domain:
    domain: Domain = run(
        ctx,
        OPERATOR,
        AddDomain(account_id=account, name=name, require_2fa=True, **options),  # type: ignore[arg-type]
    )
    return domain


def activate(ctx: Context, dns: MemoryDns, domain: Domain) -> Domain:
    dns.publish(str(domain.name), domain.verification_token)
    run(ctx, OPERATOR, VerifyDomain(domain_id=domain.id))
    active: Domain = run(ctx, OPERATOR, ActivateDomain(domain_id=domain.id))
    return active


def user_named(ctx: Context, address: str) -> User | None:
    with ctx.store.unit_of_work() as uow:
        return uow.users.by_address(Username.parse(address))


# Adding


def test_the_first_domain_brings_the_super_admin(acme: Context, outbox: Outbox) -> None:
    domain = add(acme, "Acme.Example", admin_email="it@acme-holding.example")
    assert (domain.name.ascii, domain.status, domain.require_2fa) == (
        "acme.example",
        DomainStatus.PENDING,
        True,
    )
    assert domain.verification_token == VERIFICATION_PREFIX + "token-1"
    postmaster = user_named(acme, "postmaster@acme.example")
    assert postmaster is not None
    assert (postmaster.super_admin, postmaster.admin, postmaster.corporate) == (True, True, True)
    assert (postmaster.account_id, postmaster.domain_id) == ("acme", domain.id)
    assert str(postmaster.primary_email) == "it@acme-holding.example"
    assert postmaster.mfa.required  # the domain requires 2FA
    with acme.store.unit_of_work() as uow:
        grant = uow.grants.for_scope(postmaster.id, "acme", None)
        events = [(e.action, e.entity) for e in uow.audit.events(account_id="acme")]
    assert grant is not None
    assert grant.role_ids == {"system:owner"}
    assert events == [
        ("CreateAccount", "account"),
        ("CreateAccount", "cos"),
        ("CreateAccount", "cos"),
        ("AddDomain", "domain"),
        ("AddDomain", "user"),
        ("AddDomain", "grant"),
    ]
    (welcome,) = outbox.messages
    assert (welcome.template, welcome.to, welcome.data["username"]) == (
        "admin.created",
        "it@acme-holding.example",
        "postmaster@acme.example",
    )


def test_later_domains_bring_no_admin(acme: Context) -> None:
    add(acme, "acme.example", admin_email="it@acme-holding.example")
    add(acme, "acme.co.uk")
    assert user_named(acme, "postmaster@acme.co.uk") is None


@pytest.mark.parametrize(
    ("admin_email", "expected"),
    [
        (None, ["admin.primary_email_required"]),
        ("postmaster@ACME.example", ["admin.primary_email_same"]),
        ("not an address", ["email.invalid"]),
    ],
)
def test_the_super_admin_needs_a_primary_email_of_its_own(
    acme: Context, admin_email: str | None, expected: list[str]
) -> None:
    command = AddDomain(
        account_id="acme", name="acme.example", admin_email=admin_email, require_2fa=True
    )
    assert codes(acme, command) == expected


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("", "name"),
        ("acme", "name"),
        ("acme..example", "name"),
        ("-acme.example", "name"),
        ("ab--cd.example", "name"),
        ("xn--zz.example", "name"),
        ("ann@acme.example", "name"),
    ],
)
def test_malformed_and_idn_invalid_names_are_refused(acme: Context, name: str, field: str) -> None:
    result = plan(
        acme, OPERATOR, [AddDomain(account_id="acme", name=name, admin_email="a@b.example")]
    )
    assert [(i.code, i.field) for i in result.errors] == [("domain.invalid", field)]


def test_a_bad_primary_domain_is_refused_on_its_field(acme: Context) -> None:
    command = AddDomain(
        account_id="acme",
        name="acme.example",
        primary_domain="bad_domain",
        admin_email="a@b.example",
    )
    result = plan(acme, OPERATOR, [command])
    assert [(i.code, i.field) for i in result.errors] == [("domain.invalid", "primary_domain")]


@pytest.mark.parametrize(
    ("existing_owner", "name"),
    [("globex", "acme.example"), ("acme", "ACME.example"), ("globex", "xn--bcher-kva.example")],
)
def test_a_name_held_by_any_account_is_taken(acme: Context, existing_owner: str, name: str) -> None:
    add(
        acme,
        "acme.example" if "acme" in name.lower() else "bücher.example",
        existing_owner,
        admin_email="x@y.example",
    )
    command = AddDomain(account_id="acme", name=name, admin_email="a@b.example", require_2fa=True)
    assert codes(acme, command) == ["domain.taken"]


def test_an_account_may_hold_any_number_of_domains(acme: Context) -> None:
    add(acme, "acme.example", admin_email="it@acme-holding.example")
    for n in range(20):
        add(acme, f"brand{n}.example")
    with acme.store.unit_of_work() as uow:
        assert len(uow.domains.of_account("acme")) == 21


def test_no_2fa_and_no_captcha_is_a_warning_not_an_error(acme: Context) -> None:
    command = AddDomain(
        account_id="acme", name="acme.example", admin_email="it@acme-holding.example"
    )
    result = plan(acme, OPERATOR, [command])
    assert result.ok
    assert [i.code for i in result.warnings] == ["domain.security_weak"]
    outcome = apply(acme, result)
    assert [i.code for i in outcome.warnings] == ["domain.security_weak"]
    assert codes(acme, AddDomain(account_id="acme", name="b.example", captcha_on_login=True)) == []


def test_the_default_class_of_service_must_be_assignable(acme: Context) -> None:
    run(acme, OPERATOR, CreateClassOfService(name="catchall_cos", system=True, cos_id="sys"))
    run(acme, OPERATOR, CreateClassOfService(name="standard", cos_id="platform-std"))
    run(
        acme, OPERATOR, CreateClassOfService(name="gold", account_id="globex", cos_id="globex-gold")
    )
    run(
        acme, OPERATOR, CreateClassOfService(name="silver", account_id="acme", cos_id="acme-silver")
    )

    def with_cos(cos_id: str) -> AddDomain:
        return AddDomain(
            account_id="acme",
            name="acme.example",
            admin_email="a@b.example",
            default_cos_id=cos_id,
            require_2fa=True,
        )

    assert codes(acme, with_cos("sys")) == ["cos.system_reserved"]
    assert codes(acme, with_cos("globex-gold")) == ["cos.not_found"]
    assert codes(acme, with_cos("nope")) == ["cos.not_found"]
    assert codes(acme, with_cos("platform-std")) == []
    assert codes(acme, with_cos("acme-silver")) == []


def test_a_domain_policy_limits_top_level_domains_and_count(acme: Context) -> None:
    run(
        acme,
        OPERATOR,
        SetDomainPolicy(account_id="acme", allowed_tlds={"ch", "example"}, max_domains=2),
    )
    add(acme, "acme.example", admin_email="it@acme-holding.example")
    assert codes(acme, AddDomain(account_id="acme", name="acme.com", require_2fa=True)) == [
        "domain.tld_not_allowed"
    ]
    add(acme, "acme.ch")
    assert codes(acme, AddDomain(account_id="acme", name="acme2.ch", require_2fa=True)) == [
        "domain.limit_reached"
    ]


def test_a_domain_policy_is_set_from_above(acme: Context) -> None:
    add(acme, "acme.example", admin_email="it@acme-holding.example")
    postmaster = user_named(acme, "postmaster@acme.example")
    assert postmaster is not None
    with pytest.raises(PermissionDenied):
        run(acme, Actor.user(postmaster.id), SetDomainPolicy(account_id="acme", max_domains=99))
    run(acme, OPERATOR, CreateAccount(name="Initech", account_id="initech", parent_id="acme"))
    # The owner of the parent account may set its customers' policy.
    run(acme, Actor.user(postmaster.id), SetDomainPolicy(account_id="initech", max_domains=1))
    assert codes(
        acme, SetDomainPolicy(account_id="acme", allowed_tlds={"c h", "ch"}, max_domains=-1)
    ) == [
        "policy.tld_invalid",
        "policy.limit_invalid",
    ]


# Verification and lifecycle


def test_verification_needs_the_token_in_a_txt_record(acme: Context, dns: MemoryDns) -> None:
    domain = add(acme, "acme.example", admin_email="it@acme-holding.example")
    verify = VerifyDomain(domain_id=domain.id)
    assert codes(acme, verify) == ["domain.verification_failed"]
    dns.publish("acme.example", "v=spf1 include:_spf.acme.example -all")
    dns.publish("acme.example", VERIFICATION_PREFIX + "token-2")  # another domain's token
    assert codes(acme, verify) == ["domain.verification_failed"]
    dns.publish("acme.example", f"  {domain.verification_token}  ")
    assert run(acme, OPERATOR, verify).status is DomainStatus.VERIFIED


def test_an_unreachable_dns_is_an_issue(acme: Context, dns: MemoryDns) -> None:
    domain = add(acme, "acme.example", admin_email="it@acme-holding.example")
    dns.fail("acme.example")
    assert codes(acme, VerifyDomain(domain_id=domain.id)) == ["dns.unavailable"]


def test_the_lifecycle_moves_only_along_its_edges(acme: Context, dns: MemoryDns) -> None:
    domain = add(acme, "acme.example", admin_email="it@acme-holding.example")
    d = domain.id
    assert codes(acme, ActivateDomain(domain_id=d)) == ["domain.not_verified"]
    assert codes(acme, DeactivateDomain(domain_id=d)) == ["domain.not_active"]
    assert codes(acme, UnverifyDomain(domain_id=d)) == ["domain.not_verified"]
    dns.publish("acme.example", domain.verification_token)
    assert run(acme, OPERATOR, VerifyDomain(domain_id=d)).status is DomainStatus.VERIFIED
    assert codes(acme, VerifyDomain(domain_id=d)) == ["domain.not_pending"]
    assert run(acme, OPERATOR, ActivateDomain(domain_id=d)).status is DomainStatus.ACTIVE
    assert codes(acme, ActivateDomain(domain_id=d)) == ["domain.already_active"]
    assert run(acme, OPERATOR, DeactivateDomain(domain_id=d)).status is DomainStatus.INACTIVE
    assert run(acme, OPERATOR, ActivateDomain(domain_id=d)).status is DomainStatus.ACTIVE
    assert run(acme, OPERATOR, UnverifyDomain(domain_id=d)).status is DomainStatus.PENDING


def test_users_are_created_on_active_domains_only(acme: Context, dns: MemoryDns) -> None:
    domain = add(acme, "acme.example", admin_email="it@acme-holding.example")
    create = CreateAdmin(
        account_id="acme",
        address="ops@acme.example",
        primary_email="ops@home.example",
        role_ids={"system:member"},
    )
    assert codes(acme, create) == ["domain.not_active"]
    activate(acme, dns, domain)
    ops = run(acme, OPERATOR, create)
    run(acme, OPERATOR, DeactivateDomain(domain_id=domain.id))
    second = attrs.evolve(create, address="second@acme.example")
    assert codes(acme, second) == ["domain.not_active"]
    # Existing users keep everything they hold.
    with acme.store.unit_of_work() as uow:
        grant = uow.grants.for_scope(ops.id, "acme", None)
        assert grant is not None
        assert grant.role_ids == {"system:member"}
        assert uow.users.get(ops.id).account_id == "acme"


def test_activation_makes_earlier_self_registered_users_corporate(
    acme: Context, dns: MemoryDns
) -> None:
    with acme.store.unit_of_work() as uow:
        uow.users.add(
            User(
                id="early",
                username=Username.parse("early.bird@acme.example"),
                created_at=acme.clock.now(),
                updated_at=acme.clock.now(),
            )
        )
        uow.grants.add(
            Grant(
                id="g-early",
                user_id="early",
                account_id="globex",
                permissions=frozenset({"audit.read"}),
            )
        )
        uow.users.add(
            User(
                id="elsewhere",
                username=Username.parse("someone@other.example"),
                created_at=acme.clock.now(),
                updated_at=acme.clock.now(),
            )
        )
        uow.commit()
    domain = add(acme, "acme.example", admin_email="it@acme-holding.example")
    before = user_named(acme, "early.bird@acme.example")
    assert before is not None
    assert (before.account_id, before.corporate) == (None, False)  # adding is not activating
    activate(acme, dns, domain)
    after = user_named(acme, "early.bird@acme.example")
    assert after is not None
    assert (after.account_id, after.domain_id, after.corporate) == ("acme", domain.id, True)
    untouched = user_named(acme, "someone@other.example")
    assert untouched is not None
    assert untouched.account_id is None
    with acme.store.unit_of_work() as uow:
        kept = uow.grants.for_scope("early", "globex", None)
        assert kept is not None
        assert kept.permissions == {"audit.read"}
        assert [e.detail for e in uow.audit.events(entity_id="early")] == [
            "became a corporate user (class of service Users; second factor required)"
        ]


def test_update_changes_security_defaults_and_keeps_versions(acme: Context) -> None:
    domain = add(acme, "acme.example", admin_email="it@acme-holding.example")
    updated = run(
        acme,
        OPERATOR,
        UpdateDomain(
            domain_id=domain.id,
            version=domain.version,
            captcha_on_login=True,
            primary_domain="acme-group.example",
        ),
    )
    assert (updated.captcha_on_login, updated.require_2fa, str(updated.primary_domain)) == (
        True,
        True,
        "acme-group.example",
    )
    with pytest.raises(Conflict) as caught:
        run(
            acme,
            OPERATOR,
            UpdateDomain(domain_id=domain.id, version=domain.version, require_2fa=False),
        )
    assert caught.value.code == "version.stale"
    result = plan(
        acme,
        OPERATOR,
        [
            UpdateDomain(
                domain_id=domain.id,
                version=updated.version,
                require_2fa=False,
                captcha_on_login=False,
            )
        ],
    )
    assert [i.code for i in result.warnings] == ["domain.security_weak"]
    cleared = run(
        acme,
        OPERATOR,
        UpdateDomain(domain_id=domain.id, version=updated.version, primary_domain=None),
    )
    assert cleared.primary_domain is None


# Deletion


@pytest.fixture
def populated(acme: Context, dns: MemoryDns) -> tuple[Context, Domain, Domain]:
    """acme.example (super admin) and brand.example, active, with users, aliases and a mailbox."""
    main = activate(acme, dns, add(acme, "acme.example", admin_email="it@acme-holding.example"))
    brand = activate(acme, dns, add(acme, "brand.example"))
    run(
        acme,
        OPERATOR,
        CreateAdmin(
            account_id="acme",
            address="ops@brand.example",
            primary_email="ops@home.example",
            role_ids={"system:member"},
        ),
    )
    with acme.store.unit_of_work() as uow:
        postmaster = uow.users.by_address("postmaster@acme.example")
        assert postmaster is not None
        uow.users.update(
            attrs.evolve(postmaster, aliases=(EmailAddress.parse("info@brand.example"),))
        )
        uow.mailboxes.add(
            Mailbox(
                id="mb-sales", account_id="acme", address=EmailAddress.parse("sales@brand.example")
            )
        )
        uow.grants.add(
            Grant(id="g-mb", user_id=postmaster.id, account_id="acme", mailbox_id="mb-sales")
        )
        uow.commit()
    return acme, main, brand


def test_delete_wants_the_name_typed_again(populated: tuple[Context, Domain, Domain]) -> None:
    ctx, _, brand = populated
    for typed in ["brand.exampel", "", "not a domain!", "acme.example"]:
        command = DeleteDomain(domain_id=brand.id, confirm_name=typed, remove_dependents=True)
        assert codes(ctx, command) == ["domain.confirmation_mismatch"]
    ok = DeleteDomain(domain_id=brand.id, confirm_name="BRAND.example.", remove_dependents=True)
    assert codes(ctx, ok) == []


def test_delete_is_refused_while_things_live_on_the_domain(
    populated: tuple[Context, Domain, Domain],
) -> None:
    ctx, _, brand = populated
    result = plan(ctx, OPERATOR, [DeleteDomain(domain_id=brand.id, confirm_name="brand.example")])
    (issue,) = result.errors
    assert issue.code == "domain.in_use"
    assert "1 user(s), aliases of 1 other user(s) and 1 mailbox(es)" in issue.message


def test_delete_with_dependents_removes_them_in_one_transaction(
    populated: tuple[Context, Domain, Domain],
) -> None:
    ctx, _, brand = populated
    run(
        ctx,
        OPERATOR,
        DeleteDomain(domain_id=brand.id, confirm_name="brand.example", remove_dependents=True),
    )
    with ctx.store.unit_of_work() as uow:
        assert uow.domains.find(brand.id) is None
        assert uow.users.by_address("ops@brand.example") is None
        postmaster = uow.users.by_address("postmaster@acme.example")
        assert postmaster is not None
        assert postmaster.aliases == ()
        assert uow.mailboxes.find("mb-sales") is None
        assert uow.grants.of_mailbox("mb-sales") == []
        removed = [
            (e.entity, e.detail)
            for e in uow.audit.events(account_id="acme")
            if e.action == "DeleteDomain"
        ]
    assert removed == [
        ("grant", ""),
        ("mailbox", "sales@brand.example"),
        ("user", "aliases removed"),
        ("user", "removed"),
        ("domain", "brand.example"),
    ]


def test_the_domain_of_the_super_admin_cannot_be_deleted(
    populated: tuple[Context, Domain, Domain],
) -> None:
    ctx, main, _ = populated
    command = DeleteDomain(domain_id=main.id, confirm_name="acme.example", remove_dependents=True)
    assert codes(ctx, command) == ["domain.hosts_super_admin"]


def test_deleting_an_account_keeps_its_users_corporate(
    populated: tuple[Context, Domain, Domain],
) -> None:
    ctx, _, _ = populated
    assert codes(ctx, DeleteAccount(account_id="acme", confirm_name="Acme Inc")) == [
        "account.confirmation_mismatch"
    ]
    run(ctx, OPERATOR, CreateAccount(name="Child", parent_id="acme", account_id="child"))
    assert codes(ctx, DeleteAccount(account_id="acme", confirm_name="acme")) == [
        "account.has_children"
    ]
    run(ctx, OPERATOR, DeleteAccount(account_id="child", confirm_name="child"))
    run(ctx, OPERATOR, DeleteAccount(account_id="acme", confirm_name="ACME"))
    with ctx.store.unit_of_work() as uow:
        assert uow.accounts.find("acme") is None
        assert uow.domains.of_account("acme") == []
        assert uow.grants.of_account("acme") == []
        assert uow.mailboxes.of_account("acme") == []
        ops = uow.users.by_address("ops@brand.example")
        assert ops is not None
        assert (ops.account_id, ops.domain_id, ops.corporate, ops.admin) == (
            None,
            None,
            True,
            False,
        )
    # The names are free again for whoever verifies them next.
    assert (
        codes(
            ctx,
            AddDomain(
                account_id="globex",
                name="brand.example",
                admin_email="a@b.example",
                require_2fa=True,
            ),
        )
        == []
    )
