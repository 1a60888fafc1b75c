"""Queries of roles and grants: the roles usable in an account, one role, the grants."""

from __future__ import annotations

from provisioning.errors import NotFound
from provisioning.model import (
    SYSTEM_ROLES,
    Grant,
    Role,
    User,
)
from provisioning.ports import Environment
from provisioning.principals import Actor
from provisioning.queries._base import (
    PAGE,
    Page,
    argument_invalid,
    known_account,
    listing,
    member,
    page_of,
    query,
    reading,
)
from provisioning.rules.access import authorize, known

__all__ = ["get_grant", "get_role", "grants", "role_members", "roles"]


@query
def roles(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[Role]:
    """The roles usable in the account: the system roles, then the account's own, by name."""
    with ctx.store.snapshot() as uow:
        reading(uow, actor, account_id)
        own = sorted(uow.roles.of_account(account_id), key=lambda r: (r.name.casefold(), r.id))
    return page_of([*SYSTEM_ROLES.values(), *own], offset, limit, after)


@query
def get_role(ctx: Environment, actor: Actor, role_id: str) -> Role:
    """One role: a system role for anyone, an account's custom role for its members."""
    if role_id in SYSTEM_ROLES:
        return SYSTEM_ROLES[role_id]
    with ctx.store.snapshot() as uow:
        role = known(uow, actor, "role", role_id, uow.roles.find(role_id))
        if role.account_id is not None:
            member(uow, actor, role.account_id)
        return role


@query
def grants(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    user_id: str | None = None,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[Grant]:
    """The grants in the account (or of one user there), account scope first; needs `grants.manage`.

    A user may always list its own grants in an account.
    """
    with ctx.store.snapshot() as uow:
        if user_id is None or user_id != actor.user_id:
            listing(uow, actor, account_id, "grants.manage")
        else:
            known_account(uow, actor, account_id)
        found = (
            uow.grants.of_account(account_id)
            if user_id is None
            else [g for g in uow.grants.of_user(user_id) if g.account_id == account_id]
        )
    found.sort(key=lambda g: (g.mailbox_id is not None, g.mailbox_id or "", g.user_id, g.id))
    return page_of(found, offset, limit, after)


@query
def get_grant(ctx: Environment, actor: Actor, grant_id: str) -> Grant:
    """One grant: for the user holding it, or whoever holds `grants.manage` in its account."""
    with ctx.store.snapshot() as uow:
        grant = known(uow, actor, "grant", grant_id, uow.grants.find(grant_id))
        if grant.user_id != actor.user_id:
            authorize(uow, actor, "grants.manage", grant.account_id)
        return grant


@query
def role_members(
    ctx: Environment,
    actor: Actor,
    role_id: str,
    *,
    account_id: str | None = None,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[User]:
    """The users holding an account-scope role in its account, by username; needs `grants.manage`.

    A custom role's account is its own; a system role's is `account_id`,
    which it then needs. Its members are those whose grant in the account
    names it (a class of service's rights are no membership).
    """
    with ctx.store.snapshot() as uow:
        role = SYSTEM_ROLES.get(role_id) or known(
            uow, actor, "role", role_id, uow.roles.find(role_id)
        )
        if role.account_id is not None and account_id not in (None, role.account_id):
            raise NotFound(entity="role", key=role_id)
        account = role.account_id or account_id
        if account is None:
            raise argument_invalid(
                "a system role's members are those of an account: give account_id"
            )
        listing(uow, actor, account, "grants.manage")
        holders = [
            grant.user_id
            for grant in uow.grants.of_account(account)
            if grant.mailbox_id is None and role.id in grant.role_ids
        ]
        found = sorted(uow.users.get_many(holders).values(), key=lambda u: (u.username.key, u.id))
    return page_of(found, offset, limit, after)
