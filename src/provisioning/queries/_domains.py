"""Queries of domains: an account's domains, one domain, who may send, former users."""

from __future__ import annotations

import attrs

from provisioning.errors import (
    InvalidValue,
)
from provisioning.model import (
    Domain,
    DomainStatus,
    EmailAddress,
    User,
)
from provisioning.ports import Environment
from provisioning.principals import Actor
from provisioning.queries._base import PAGE, Page, member, page_of, query, reading
from provisioning.rules.access import authorize, known
from provisioning.rules.domains import former_users as _former_users

__all__ = ["SendDecision", "domains", "former_users", "get_domain", "may_send"]


@query
def domains(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[Domain]:
    """The account's domains, sorted by name, for anyone holding a permission in it."""
    with ctx.store.snapshot() as uow:
        reading(uow, actor, account_id)
        found = sorted(uow.domains.of_account(account_id), key=lambda d: d.name.ascii)
    return page_of(found, offset, limit, after)


@query
def get_domain(ctx: Environment, actor: Actor, domain_id: str) -> Domain:
    """One domain (with its version), for anyone holding a permission in its account."""
    with ctx.store.snapshot() as uow:
        domain = known(uow, actor, "domain", domain_id, uow.domains.find(domain_id))
        member(uow, actor, domain.account_id)
        return domain


@attrs.frozen
class SendDecision:
    """Whether an address may send through a domain, and why (a stable `reason` code)."""

    allowed: bool
    reason: str


@query
def may_send(ctx: Environment, actor: Actor, sender: str, domain_id: str) -> SendDecision:
    """Whether `sender` may send mail through the domain (seed 003's relay rule).

    The domain must be active. Its own addresses may send, and so may those
    of its primary domain: in both cases only a registered sender, an address
    a user (username or alias) or a shared mailbox of the domain's account
    holds. Reasons: `sender.allowed`, `sender.invalid`, `domain.not_active`,
    `sender.foreign_domain` (neither the domain nor its primary domain),
    `sender.unregistered`. For anyone holding a permission in the domain's
    account.
    """
    with ctx.store.snapshot() as uow:
        domain = known(uow, actor, "domain", domain_id, uow.domains.find(domain_id))
        member(uow, actor, domain.account_id)
        try:
            address = EmailAddress.parse(sender, field="sender")
        except InvalidValue:
            return SendDecision(allowed=False, reason="sender.invalid")
        if domain.status is not DomainStatus.ACTIVE:
            return SendDecision(allowed=False, reason="domain.not_active")
        if address.domain not in {domain.name, domain.primary_domain}:
            return SendDecision(allowed=False, reason="sender.foreign_domain")
        holder = uow.users.by_address(address.key)
        mailbox = uow.mailboxes.by_address(address)
        registered = (holder is not None and holder.account_id == domain.account_id) or (
            mailbox is not None and mailbox.account_id == domain.account_id
        )
        if not registered:
            return SendDecision(allowed=False, reason="sender.unregistered")
        return SendDecision(allowed=True, reason="sender.allowed")


@query
def former_users(
    ctx: Environment,
    actor: Actor,
    domain_id: str,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[User]:
    """The users a deleted account left on the domain, by username; needs `users.manage`.

    They are for the account that holds the domain now to adopt or remove
    (`SettleFormerUsers`).
    """
    with ctx.store.snapshot() as uow:
        domain = known(uow, actor, "domain", domain_id, uow.domains.find(domain_id))
        authorize(uow, actor, "users.manage", domain.account_id)
        found = sorted(_former_users(uow, domain), key=lambda u: (u.username.key, u.id))
    return page_of(found, offset, limit, after)
