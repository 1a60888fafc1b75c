"""Handlers for accounts (tenants)."""

from __future__ import annotations

import re
from typing import Any, Final

import attrs

from provisioning.commands import (
    UNCHANGED,
    CreateAccount,
    DeleteAccount,
    SetDomainPolicy,
    UpdateAccount,
)
from provisioning.errors import Issue, codes
from provisioning.model import (
    OWNER_ROLE,
    SYSTEM_ROLES,
    Account,
    DomainPolicy,
    UserStatus,
    valid_name,
)
from provisioning.rules._tx import Step, Tx, error, requested_id_issues
from provisioning.rules.access import target_outranks
from provisioning.rules.accounts import new_account
from provisioning.rules.classes_of_service import (
    admin_panel_default,
    cos_not_found,
    cos_required,
)
from provisioning.rules.phones import extension_range_issues, region_issues
from provisioning.rules.removal import (
    remove_mailbox,
    remove_phones,
    remove_support,
    remove_user,
)

OWNER: Final = OWNER_ROLE

__all__ = ["create_account", "delete_account", "set_domain_policy", "update_account"]

CODES: Final = codes(
    invalid=(
        "account.confirmation_mismatch",
        "account.name_invalid",
        "policy.limit_invalid",
        "policy.tld_invalid",
    ),
    conflict=("account.name_taken",),
    state=("account.has_children",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_TLD: Final = re.compile(r"[a-z]{2,63}|xn--[a-z0-9\-]{1,59}")


def _name_issues(tx: Tx, name: str, *, own_id: str | None = None) -> list[Issue]:
    if not valid_name(name):
        return [
            error(
                "account.name_invalid",
                f"{name!r} is not a valid account name: 1 to 64 letters, digits,"
                " spaces or _.&'- starting with a letter or digit",
                field="name",
            )
        ]
    holder = tx.uow.accounts.by_name(name)
    if holder is not None and holder.id != own_id:
        return [
            error(
                "account.name_taken",
                tx.taken_message("account name", name, holder.id),
                field="name",
            )
        ]
    return []


def create_account(tx: Tx, command: CreateAccount) -> Step[Account]:
    """Create an account, with its default class of service and its admin class of service.

    A top-level account only the platform operator may create; a customer
    account under a parent, anyone holding `accounts.create` in the parent.
    """
    tx.authorize("accounts.create", command.parent_id)
    if command.parent_id is not None:
        tx.uow.accounts.get(command.parent_id)
    name = command.name.strip()
    issues = requested_id_issues(command.account_id, tx.uow.accounts.find, field="account_id")
    issues += _name_issues(tx, name)

    def run() -> Account:
        return new_account(
            tx,
            name=name,
            account_id=command.account_id,
            parent_id=command.parent_id,
            personal_mailbox_on_create=command.personal_mailbox_on_create,
            action="CreateAccount",
        )

    return Step.proceed(run, issues)


def update_account(tx: Tx, command: UpdateAccount) -> Step[Account]:
    """Rename an account or change its settings; needs `accounts.manage` in it."""
    tx.authorize("accounts.manage", command.account_id)
    account = tx.uow.accounts.get(command.account_id)
    changes: dict[str, Any] = {}
    issues: list[Issue] = []
    if command.name is not UNCHANGED:
        name = command.name.strip()
        issues += _name_issues(tx, name, own_id=account.id)
        changes["name"] = name
    if command.personal_mailbox_on_create is not UNCHANGED:
        changes["personal_mailbox_on_create"] = command.personal_mailbox_on_create
    if command.password_policy is not UNCHANGED:
        issues += _security_issues(tx, account, "password_policy")
        changes["password_policy"] = command.password_policy
    if command.sign_in_policy is not UNCHANGED:
        issues += _security_issues(tx, account, "sign_in_policy")
        changes["sign_in_policy"] = command.sign_in_policy
    if command.default_cos_id is not UNCHANGED:
        issues += _default_cos_issues(tx, account, command.default_cos_id)
        changes["default_cos_id"] = command.default_cos_id
    if command.phone_region is not UNCHANGED:
        region = command.phone_region.strip().upper() if command.phone_region else None
        issues += region_issues(region)
        changes["phone_region"] = region
    if command.extension_min is not UNCHANGED or command.extension_max is not UNCHANGED:
        low = account.extension_min if command.extension_min is UNCHANGED else command.extension_min
        high = (
            account.extension_max if command.extension_max is UNCHANGED else command.extension_max
        )
        issues += extension_range_issues(tx, account.id, low, high)
        changes |= {"extension_min": low, "extension_max": high}
    if command.support_consent is not UNCHANGED:
        tx.authorize("support.approve", account.id)  # the owner's to give, not an admin's
        changes["support_consent"] = command.support_consent

    def run() -> Account:
        updated = tx.uow.accounts.update(attrs.evolve(account, version=command.version, **changes))
        tx.record(
            "UpdateAccount",
            "account",
            account.id,
            account_id=account.id,
            detail=", ".join(sorted(changes)),
        )
        return updated

    return Step.proceed(run, issues)


def _security_issues(tx: Tx, account: Account, field: str) -> list[Issue]:
    """The security settings protect the owners too: only who holds what an owner holds.

    An administrator (`accounts.manage`) may not lift the lockout that guards
    the owners' sign-ins, nor weaken their passwords' policy: rank extends
    to the settings every principal of the account lives under.
    """
    if tx.actor.is_platform or SYSTEM_ROLES[OWNER].permissions <= tx.permissions(account.id):
        return []
    return [
        target_outranks(
            f"the {field.replace('_', ' ')} protects the account's owners: only an owner"
            " changes it",
            field=field,
        )
    ]


def _default_cos_issues(tx: Tx, account: Account, cos_id: object) -> list[Issue]:
    """The account's default class of service: one of its own, assignable, no admin one."""
    cos = tx.uow.classes_of_service.find(cos_id) if isinstance(cos_id, str) else None
    own = "an account's default class of service is one of its own classes of service"
    if cos_id is None:
        return [cos_required(f"the default: {own}", field="default_cos_id")]
    if cos is None or cos.account_id != account.id:
        return [cos_not_found(str(cos_id), field="default_cos_id", why=own)]
    return admin_panel_default(cos, field="default_cos_id")


def set_domain_policy(tx: Tx, command: SetDomainPolicy) -> Step[Account]:
    """Set the account's domain policy.

    Policy is set from above: by the operator, or for a customer account by
    whoever may create accounts under its parent.
    """
    account = tx.uow.accounts.get(command.account_id)
    tx.authorize("accounts.create", account.parent_id)
    issues = [
        error(
            "policy.tld_invalid", f"{tld!r} is not a top-level domain label", field="allowed_tlds"
        )
        for tld in sorted(command.allowed_tlds)
        if not _TLD.fullmatch(tld)
    ]
    limit: object = command.max_domains
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        issues.append(
            error(
                "policy.limit_invalid", f"{limit!r} is not a number of domains", field="max_domains"
            )
        )
    policy = DomainPolicy(allowed_tlds=command.allowed_tlds, max_domains=command.max_domains)

    def run() -> Account:
        stored = tx.uow.accounts.update(attrs.evolve(account, domain_policy=policy))
        tx.record("SetDomainPolicy", "account", account.id, account_id=account.id)
        return stored

    return Step.proceed(run, issues)


def delete_account(tx: Tx, command: DeleteAccount) -> Step[None]:
    """Delete an account for good.

    Its domains, mailboxes, classes of service, custom roles, invitations,
    API clients, super admin and every grant in it go; its other users stay, disabled and
    keeping their corporate status (so they cannot create accounts or delete
    themselves), until an account that holds their domain next decides about
    them (`SettleFormerUsers`).
    """
    tx.authorize("accounts.delete", command.account_id)
    account = tx.uow.accounts.get(command.account_id)
    issues = []
    if command.confirm_name.strip().casefold() != account.name.casefold():
        issues.append(
            error(
                "account.confirmation_mismatch",
                f"deleting an account is irreversible: type its name, {account.name}, to confirm",
                field="confirm_name",
            )
        )
    children = tx.uow.accounts.children(account.id)
    if children:
        issues.append(
            error(
                "account.has_children",
                f"{account.name} still has {len(children)} customer account(s)",
                field="account_id",
            )
        )

    def run() -> None:
        _dissolve(tx, account)

    return Step.proceed(run, issues)


def _dissolve(tx: Tx, account: Account) -> None:
    """Remove everything of the account but its users, who only lose access."""
    uow, aid = tx.uow, account.id
    for grant in uow.grants.of_account(aid):
        uow.grants.remove(grant.id)
        tx.record("DeleteAccount", "grant", grant.id, account_id=aid)
    for mailbox in uow.mailboxes.of_account(aid):
        remove_mailbox(tx, mailbox, "DeleteAccount")
    for invitation in uow.invitations.of_account(aid):
        uow.invitations.remove(invitation.id)
        tx.record("DeleteAccount", "invitation", invitation.id, account_id=aid)
    remove_phones(tx, aid, "DeleteAccount")
    remove_support(tx, aid, "DeleteAccount")
    for client in uow.clients.of_account(aid):
        uow.clients.remove(client.id)
        tx.record("DeleteAccount", "client", client.id, account_id=aid, detail=client.name)
    removed_cos = {cos.id for cos in uow.classes_of_service.of_account(aid)}
    for user in uow.users.of_account(aid):
        if user.super_admin:  # postmaster@ exists for the account only: the address is freed
            remove_user(tx, user, "DeleteAccount")
            continue
        uow.users.update(
            attrs.evolve(
                user,
                account_id=None,
                domain_id=None,
                aliases=(),
                admin=False,
                super_admin=False,
                status=UserStatus.DISABLED,
                cos_id=None if user.cos_id in removed_cos else user.cos_id,
                updated_at=tx.now,
            )
        )
        tx.record("DeleteAccount", "user", user.id, account_id=aid, detail="lost access, disabled")
    for domain in uow.domains.of_account(aid):
        uow.domains.remove(domain.id)
        tx.record("DeleteAccount", "domain", domain.id, account_id=aid, detail=str(domain.name))
    for cos_id in sorted(removed_cos):
        uow.classes_of_service.remove(cos_id)
        tx.record("DeleteAccount", "cos", cos_id, account_id=aid)
    for role in uow.roles.of_account(aid):
        uow.roles.remove(role.id)
        tx.record("DeleteAccount", "role", role.id, account_id=aid)
    uow.accounts.remove(aid)
    tx.record("DeleteAccount", "account", aid, account_id=aid, detail=account.name)
