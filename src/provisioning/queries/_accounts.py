"""Queries of accounts: the accounts one may see, customers, classes of service, the audit log."""

from __future__ import annotations

from provisioning.errors import (
    PermissionDenied,
)
from provisioning.model import (
    Account,
    AuditEvent,
    ClassOfService,
)
from provisioning.ports import Environment
from provisioning.principals import Actor
from provisioning.queries._base import PAGE, Page, member, page_of, query, read_page
from provisioning.rules.access import authorize, known, permissions_of

__all__ = [
    "accounts",
    "audit_log",
    "classes_of_service",
    "customers",
    "get_account",
    "get_class_of_service",
    "permissions",
]


@query
def permissions(
    ctx: Environment, actor: Actor, account_id: str | None, mailbox_id: str | None = None
) -> frozenset[str]:
    """What `actor` may do in the account (or one mailbox of it): for UIs to show or hide."""
    with ctx.store.snapshot() as uow:
        return permissions_of(uow, actor, account_id, mailbox_id)


@query
def get_account(ctx: Environment, actor: Actor, account_id: str) -> Account:
    """The account, for anyone holding a permission in it; `NotFound` if it does not exist."""
    with ctx.store.snapshot() as uow:
        member(uow, actor, account_id)
        return uow.accounts.get(account_id)


@query
def accounts(
    ctx: Environment,
    actor: Actor,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[Account]:
    """The accounts the actor holds a permission in (every one, for the operator), by name."""
    with ctx.store.snapshot() as uow:
        found = [a for a in uow.accounts.every() if permissions_of(uow, actor, a.id)]
    return page_of(found, offset, limit, after)


@query
def customers(
    ctx: Environment,
    actor: Actor,
    parent_id: str,
    search: str | None = None,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[Account]:
    """The parent's customer accounts by name, those whose name holds `search` with one.

    The customer service tool of a parent: for its support staff
    (`support.act`) and those who manage its support access (`support.manage`).
    """
    with ctx.store.snapshot() as uow:
        held = permissions_of(uow, actor, parent_id)
        if not held & {"support.act", "support.manage"}:
            raise PermissionDenied(actor=str(actor), permission="support.act", account_id=parent_id)
        found = uow.accounts.children(parent_id)
    wanted = (search or "").strip().casefold()
    matching = [account for account in found if wanted in account.name.casefold()]
    return page_of(matching, offset, limit, after)


@query
def classes_of_service(
    ctx: Environment,
    actor: Actor,
    account_id: str | None,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[ClassOfService]:
    """The platform-wide classes of service, then the account's own, each sorted by name.

    With `account_id` None, only the platform-wide ones (the operator only).
    """
    with ctx.store.snapshot() as uow:
        if account_id is None:
            if not actor.is_platform:
                raise PermissionDenied(actor=str(actor), permission="(any)", account_id=None)
            found = uow.classes_of_service.of_account(None)
        else:
            member(uow, actor, account_id)
            uow.accounts.get(account_id)
            found = [
                *uow.classes_of_service.of_account(None),
                *uow.classes_of_service.of_account(account_id),
            ]
    return page_of(found, offset, limit, after)


@query
def audit_log(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    entity_id: str | None = None,
    newest_first: bool = False,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[AuditEvent]:
    """The account's audit events, oldest first, optionally of one entity, a page at a time.

    Needs `audit.read` in the account. The stores answer from an index on
    the account (or entity) and the order events were recorded in, read
    backwards with `newest_first` (the latest page first).
    """

    def read(start: int, count: int) -> tuple[list[AuditEvent], int]:
        with ctx.store.snapshot() as uow:
            authorize(uow, actor, "audit.read", account_id)
            return uow.audit.page(
                account_id=account_id,
                entity_id=entity_id,
                offset=start,
                limit=count,
                newest_first=newest_first,
            )

    return read_page(offset, limit, after, read)


@query
def get_class_of_service(ctx: Environment, actor: Actor, cos_id: str) -> ClassOfService:
    """One class of service: a platform-wide one for anyone, an account's for its members."""
    with ctx.store.snapshot() as uow:
        cos = known(uow, actor, "cos", cos_id, uow.classes_of_service.find(cos_id))
        if cos.account_id is not None:
            member(uow, actor, cos.account_id)
        return cos
