"""Handlers for domains: add, verify, activate, deactivate, unverify, update, delete."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, Final

import attrs

from provisioning.commands import (
    UNCHANGED,
    ActivateDomain,
    AddDomain,
    DeactivateDomain,
    DeleteDomain,
    SettleFormerUsers,
    UnverifyDomain,
    UpdateDomain,
    VerifyDomain,
)
from provisioning.errors import DnsUnavailable, InvalidValue, Issue, codes
from provisioning.model import (
    OWNER_ROLE,
    Account,
    Domain,
    DomainName,
    DomainStatus,
    EmailAddress,
    Mailbox,
    User,
    Username,
    UserStatus,
)
from provisioning.ports import Message
from provisioning.rules._tx import (
    Step,
    Tx,
    error,
    parse_into,
    requested_id_issues,
    warning,
)
from provisioning.rules.access import target_outranks
from provisioning.rules.addresses import claim_issues
from provisioning.rules.admins import new_admin, primary_email_issues
from provisioning.rules.classes_of_service import admin_panel_default, assignable_cos
from provisioning.rules.domains import former_users, not_active
from provisioning.rules.removal import remove_mailbox, remove_user

__all__ = [
    "VERIFICATION_PREFIX",
    "activate_domain",
    "add_domain",
    "deactivate_domain",
    "delete_domain",
    "settle_former_users",
    "unverify_domain",
    "update_domain",
    "verify_domain",
]

CODES: Final = codes(
    invalid=(
        "admin.primary_email_required",
        "domain.confirmation_mismatch",
        "domain.tld_not_allowed",
        "user.not_former",
        "user.settled_twice",
    ),
    conflict=(
        "domain.confusable",
        "domain.taken",
    ),
    state=(
        "domain.hosts_super_admin",
        "domain.in_use",
        "domain.verification_failed",
    ),
    limit=("domain.limit_reached",),
    unavailable=("dns.unavailable",),
    advice=("domain.security_weak",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

VERIFICATION_PREFIX: Final = "provisioning-verification="
"""How a domain's verification TXT record value starts."""


def _cos_issues(tx: Tx, account_id: str, cos_id: str | None) -> list[Issue]:
    issues, cos = assignable_cos(tx, account_id, cos_id, field="default_cos_id")
    if cos is not None:
        issues += admin_panel_default(cos, field="default_cos_id")
    return issues


def _security_warning(require_2fa: bool, captcha_on_login: bool) -> list[Issue]:  # noqa: FBT001
    if require_2fa or captcha_on_login:
        return []
    return [
        warning(
            "domain.security_weak",
            "neither two-factor authentication nor CAPTCHA on login is enabled",
            field="require_2fa",
        )
    ]


def _policy_issues(tx: Tx, account: Account, name: DomainName) -> list[Issue]:
    policy = account.domain_policy
    issues = []
    if not policy.tld_allowed(name):
        allowed = ", ".join(sorted(policy.allowed_tlds))
        issues.append(
            error(
                "domain.tld_not_allowed",
                f"{name} is not under an allowed top-level domain ({allowed})",
                field="name",
            )
        )
    if policy.max_domains is not None:
        held = len(tx.uow.domains.of_account(account.id))
        if held >= policy.max_domains:
            issues.append(
                error(
                    "domain.limit_reached",
                    f"the account holds {held} domain(s), its limit is {policy.max_domains}",
                    field="name",
                )
            )
    return issues


def _lookalike_domain(tx: Tx, name: DomainName) -> list[Issue]:
    """`domain.confusable` when a domain that looks like `name` (UTS #39) is on the platform."""
    if tx.uow.domains.lookalike(name) is None:
        return []
    return [
        error(
            "domain.confusable",
            f"{name} looks like a domain that is on the platform already (look-alike letters"
            " from another script): it cannot be added",
            field="name",
        )
    ]


def add_domain(tx: Tx, command: AddDomain) -> Step[Domain]:
    """Add a pending domain with a fresh verification token.

    The account's first domain also brings its super admin, `postmaster@`.
    """
    tx.authorize("domains.manage", command.account_id)
    account = tx.uow.accounts.get(command.account_id)
    issues = requested_id_issues(command.domain_id, tx.uow.domains.find, field="domain_id")
    name = parse_into(DomainName.parse, command.name, "name", issues)
    primary = None
    if command.primary_domain is not None:
        primary = parse_into(DomainName.parse, command.primary_domain, "primary_domain", issues)
    issues += _cos_issues(tx, account.id, command.default_cos_id)
    issues += _security_warning(command.require_2fa, command.captcha_on_login)
    first = not tx.uow.domains.of_account(account.id)
    postmaster = admin_email = stale = None
    if name is not None:
        holder = tx.uow.domains.by_name(name)
        if holder is not None:
            whose = "this account" if holder.account_id == account.id else "another account"
            issues.append(error("domain.taken", f"{name} already belongs to {whose}", field="name"))
        else:
            issues += _lookalike_domain(tx, name)
        issues += _policy_issues(tx, account, name)
        if first and holder is None:
            postmaster = Username.of("postmaster", name)
            stale = _stale_postmaster(tx, postmaster)
            admin_email = _admin_email(tx, command, postmaster, issues, replacing=stale)

    def run() -> Domain:
        assert name is not None  # noqa: S101 - run() exists only when no issue blocked
        domain = Domain(
            id=tx.new_id(command.domain_id),
            account_id=account.id,
            name=name,
            created_at=tx.now,
            verification_token=VERIFICATION_PREFIX + tx.token(),
            primary_domain=primary,
            require_2fa=command.require_2fa,
            captcha_on_login=command.captcha_on_login,
            default_cos_id=command.default_cos_id,
        )
        tx.uow.domains.add(domain)
        tx.record("AddDomain", "domain", domain.id, account_id=account.id, detail=str(name))
        if stale is not None:
            remove_user(tx, stale, "AddDomain")
        if postmaster is not None and admin_email is not None:
            new_admin(
                tx,
                account_id=account.id,
                domain=domain,
                username=postmaster,
                primary_email=admin_email,
                role_ids=frozenset({OWNER_ROLE}),
                super_admin=True,
                action="AddDomain",
                cos_id=account.admin_cos_id or domain.default_cos_id or account.default_cos_id,
            )
        return domain

    return Step.proceed(run, issues)


def _stale_postmaster(tx: Tx, postmaster: Username) -> User | None:
    """A `postmaster@` a deleted account left behind (stored before deletions removed it).

    It was that account's super admin and is nobody's now: the new super
    admin replaces it.
    """
    holder = tx.uow.users.by_address(postmaster.key)
    if holder is None or holder.account_id is not None or not holder.corporate:
        return None
    return holder if holder.username.key == postmaster.key else None


def _admin_email(
    tx: Tx,
    command: AddDomain,
    postmaster: Username,
    issues: list[Issue],
    *,
    replacing: User | None = None,
) -> EmailAddress | None:
    if command.admin_email is None:
        issues.append(
            error(
                "admin.primary_email_required",
                "the account's first domain creates its super admin, which needs a primary email",
                field="admin_email",
            )
        )
        return None
    own = replacing.id if replacing is not None else None
    issues += claim_issues(tx, postmaster, own_user=own, field="name")
    problems, email = primary_email_issues(command.admin_email, postmaster, field="admin_email")
    issues += problems
    return email


def _load(tx: Tx, domain_id: str, permission: str = "domains.manage") -> Domain:
    domain = tx.known("domain", domain_id, tx.uow.domains.find(domain_id))
    tx.authorize(permission, domain.account_id)
    return domain


def update_domain(tx: Tx, command: UpdateDomain) -> Step[Domain]:
    """Change a domain's primary domain, security defaults or default class of service."""
    domain = _load(tx, command.domain_id)
    issues: list[Issue] = []
    changes: dict[str, Any] = {}
    if command.primary_domain is not UNCHANGED:
        changes["primary_domain"] = (
            None
            if command.primary_domain is None
            else parse_into(DomainName.parse, command.primary_domain, "primary_domain", issues)
        )
    if command.require_2fa is not UNCHANGED:
        changes["require_2fa"] = command.require_2fa
    if command.captcha_on_login is not UNCHANGED:
        changes["captcha_on_login"] = command.captcha_on_login
    if command.default_cos_id is not UNCHANGED:
        issues += _cos_issues(tx, domain.account_id, command.default_cos_id)
        changes["default_cos_id"] = command.default_cos_id
    updated = attrs.evolve(domain, version=command.version, **changes)
    issues += _security_warning(updated.require_2fa, updated.captcha_on_login)

    def run() -> Domain:
        stored = tx.uow.domains.update(updated)
        tx.record(
            "UpdateDomain",
            "domain",
            domain.id,
            account_id=domain.account_id,
            detail=", ".join(sorted(changes)),
        )
        return stored

    return Step.proceed(run, issues)


def _transition(
    tx: Tx,
    domain: Domain,
    action: str,
    to: DomainStatus,
    issues: list[Issue],
    *,
    effect: Callable[[Domain], None] | None = None,
) -> Step[Domain]:
    def run() -> Domain:
        stored = tx.uow.domains.update(attrs.evolve(domain, status=to))
        tx.record(
            action,
            "domain",
            domain.id,
            account_id=domain.account_id,
            detail=f"{domain.status} -> {to}",
        )
        if effect is not None:
            effect(stored)
        return stored

    return Step.proceed(run, issues)


def _status_issue(domain: Domain, code: str, wanted: str) -> Issue:
    return error(code, f"{domain.name} is {domain.status}; this needs it {wanted}", field="status")


def verify_domain(tx: Tx, command: VerifyDomain) -> Step[Domain]:
    """Look up the domain's TXT records; a record equal to its token verifies it."""
    domain = _load(tx, command.domain_id)
    if domain.status is not DomainStatus.PENDING:
        return Step.refuse([_status_issue(domain, "domain.not_pending", "pending")])
    try:
        published = tx.txt_records(domain.name)
    except DnsUnavailable as unavailable:
        return Step.refuse([error("dns.unavailable", str(unavailable), field="name")])
    expected = domain.verification_token.encode()
    found = any(hmac.compare_digest(value.strip().encode(), expected) for value in published)
    if not found:
        return Step.refuse(
            [
                error(
                    "domain.verification_failed",
                    f"no TXT record of {domain.name} holds the verification token"
                    f" ({len(published)} TXT record(s) found)",
                    field="name",
                )
            ]
        )
    return _transition(tx, domain, "VerifyDomain", DomainStatus.VERIFIED, [])


def activate_domain(tx: Tx, command: ActivateDomain) -> Step[Domain]:
    """Put a verified or deactivated domain into service.

    Users who registered earlier with an address on it, outside any account,
    become corporate users of the domain's account, with the domain's
    defaults (`adoption_defaults`); what they hold elsewhere is untouched.
    Corporate users of a deleted account are not adopted silently: the
    account decides about them (`SettleFormerUsers`).
    """
    domain = _load(tx, command.domain_id)
    issues = []
    if domain.status is DomainStatus.PENDING:
        issues.append(_status_issue(domain, "domain.not_verified", "verified"))
    elif domain.status is DomainStatus.ACTIVE:
        issues.append(_status_issue(domain, "domain.already_active", "verified or inactive"))

    def adopt(active: Domain) -> None:
        account = tx.uow.accounts.get(active.account_id)
        for user in tx.uow.users.named_on(active.name):
            if user.domain_id is None and not user.corporate:
                _adopt(tx, user, active, account, "ActivateDomain")

    return _transition(tx, domain, "ActivateDomain", DomainStatus.ACTIVE, issues, effect=adopt)


def adoption_defaults(tx: Tx, user: User, domain: Domain, account: Account) -> dict[str, Any]:
    """What a user gets from the domain that adopts it, never weakening what it had.

    Its class of service, if the account may give it one, else the domain's
    default, else the account's; a second factor if either required one.
    """
    cos_id = user.cos_id
    if cos_id is None or assignable_cos(tx, account.id, cos_id, field="cos_id")[0]:
        cos_id = domain.default_cos_id or account.default_cos_id
    return {
        "account_id": account.id,
        "domain_id": domain.id,
        "corporate": True,
        "cos_id": cos_id,
        "mfa": attrs.evolve(user.mfa, required=user.mfa.required or domain.require_2fa),
    }


def _adopt(tx: Tx, user: User, domain: Domain, account: Account, action: str) -> User:
    changes = adoption_defaults(tx, user, domain, account)
    adopted = tx.uow.users.update(attrs.evolve(user, updated_at=tx.now, **changes))
    cos = tx.uow.classes_of_service.find(adopted.cos_id) if adopted.cos_id else None
    settings = [f"class of service {cos.name if cos is not None else 'none'}"]
    if adopted.mfa.required:
        settings.append("second factor required")
    tx.record(
        action,
        "user",
        user.id,
        account_id=account.id,
        detail=f"became a corporate user ({'; '.join(settings)})",
    )
    return adopted


def settle_former_users(tx: Tx, command: SettleFormerUsers) -> Step[None]:
    """Adopt or remove the users a deleted account left on an active domain of this one."""
    domain = _load(tx, command.domain_id, "users.manage")
    issues = []
    if domain.status is not DomainStatus.ACTIVE:
        issues.append(not_active(domain, "this needs it active", field="status"))
    former = {user.id: user for user in former_users(tx.uow, domain)}
    for user_id in sorted(command.adopt | command.remove):
        if user_id not in former:
            issues.append(
                error(
                    "user.not_former",
                    f"{user_id!r} is not a user a deleted account left on {domain.name}",
                    field="adopt" if user_id in command.adopt else "remove",
                )
            )
        elif user_id in command.adopt and user_id in command.remove:
            issues.append(
                error(
                    "user.settled_twice", f"{user_id!r} is both adopted and removed", field="adopt"
                )
            )
    account = tx.uow.accounts.get(domain.account_id)

    def run() -> None:
        for user_id in sorted(command.adopt):
            user = former[user_id]
            link = tx.setup_link(user.id)
            adopted = _adopt(
                tx,
                attrs.evolve(user, status=UserStatus.ACTIVE, credentials=link.credentials),
                domain,
                account,
                "SettleFormerUsers",
            )
            tx.notify(
                Message(
                    template="user.adopted",
                    to=str(adopted.profile.alternate_email or adopted.username),
                    data={"username": str(adopted.username), "account": account.name, **link.data},
                    secrets=link.secrets,
                )
            )
        for user_id in sorted(command.remove):
            remove_user(tx, former[user_id], "SettleFormerUsers")

    return Step.proceed(run, issues)


def deactivate_domain(tx: Tx, command: DeactivateDomain) -> Step[Domain]:
    """Take an active domain out of service; its users keep everything they hold."""
    domain = _load(tx, command.domain_id)
    issues = []
    if domain.status is not DomainStatus.ACTIVE:
        issues.append(not_active(domain, "this needs it active", field="status"))
    return _transition(tx, domain, "DeactivateDomain", DomainStatus.INACTIVE, issues)


def unverify_domain(tx: Tx, command: UnverifyDomain) -> Step[Domain]:
    """Withdraw verification: the domain is pending again and must be verified anew."""
    domain = _load(tx, command.domain_id)
    issues = []
    if domain.status is DomainStatus.PENDING:
        issues.append(_status_issue(domain, "domain.not_verified", "verified, active or inactive"))
    return _transition(tx, domain, "UnverifyDomain", DomainStatus.PENDING, issues)


def delete_domain(tx: Tx, command: DeleteDomain) -> Step[None]:
    """Delete a domain for good, with what lives on it when the command asks for that."""
    domain = _load(tx, command.domain_id)
    issues = []
    try:
        confirmed = DomainName.parse(command.confirm_name, field="confirm_name") == domain.name
    except InvalidValue:
        confirmed = False
    if not confirmed:
        issues.append(
            error(
                "domain.confirmation_mismatch",
                f"deleting a domain is irreversible: type its name, {domain.name}, to confirm",
                field="confirm_name",
            )
        )
    users = tx.uow.users.of_domain(domain.id)
    if any(user.super_admin for user in users):
        issues.append(
            error(
                "domain.hosts_super_admin",
                f"{domain.name} holds the account's super admin; delete the account instead",
                field="domain_id",
            )
        )
    aliased = [u for u in tx.uow.users.with_alias_on(domain.name) if u.domain_id != domain.id]
    mailboxes = tx.uow.mailboxes.on_domain(domain.name)
    if (users or aliased or mailboxes) and not command.remove_dependents:
        issues.append(
            error(
                "domain.in_use",
                f"{domain.name} still has {len(users)} user(s), aliases of {len(aliased)}"
                f" other user(s) and {len(mailboxes)} mailbox(es); remove them first or"
                " set remove_dependents",
                field="remove_dependents",
            )
        )

    if command.remove_dependents:
        issues += _dependent_rank_issues(tx, domain.account_id, [*users, *aliased])

    def run() -> None:
        _remove_with_dependents(tx, domain, users, aliased, mailboxes)

    return Step.proceed(run, issues)


def _dependent_rank_issues(tx: Tx, account_id: str, users: list[User]) -> list[Issue]:
    """Removing a domain's users or their aliases acts on each: the actor must outrank them."""
    managers = "admins.manage" in tx.permissions(account_id)
    return [
        target_outranks(
            f"{user.username} holds more than you do: you cannot remove it with the domain",
            field="remove_dependents",
        )
        for user in users
        if (user.admin and not managers) or not tx.outranks(user)
    ]


def _remove_with_dependents(
    tx: Tx, domain: Domain, users: list[User], aliased: list[User], mailboxes: list[Mailbox]
) -> None:
    account_id = domain.account_id
    for mailbox in mailboxes:
        remove_mailbox(tx, mailbox, "DeleteDomain")
    for user in aliased:
        kept = tuple(a for a in user.aliases if a.domain != domain.name)
        tx.uow.users.update(attrs.evolve(user, aliases=kept, updated_at=tx.now))
        tx.record("DeleteDomain", "user", user.id, account_id=account_id, detail="aliases removed")
    for user in users:
        remove_user(tx, user, "DeleteDomain", detail="removed")
    tx.uow.domains.remove(domain.id)
    tx.record("DeleteDomain", "domain", domain.id, account_id=account_id, detail=str(domain.name))
