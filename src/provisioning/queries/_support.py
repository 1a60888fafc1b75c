"""Queries of support access: the relationships and sessions an account is a side of."""

from __future__ import annotations

from typing import Protocol, TypeVar

from provisioning.errors import (
    PermissionDenied,
)
from provisioning.model import (
    SupportRelationship,
    SupportSession,
)
from provisioning.ports import Environment, UnitOfWork
from provisioning.principals import Actor
from provisioning.queries._base import PAGE, Page, page_of, query
from provisioning.rules.access import permissions_of

_S = TypeVar("_S", SupportRelationship, SupportSession)

__all__ = ["support_relationships", "support_sessions"]


class _BothSides(Protocol[_S]):
    """A repository of what a parent and a customer share: relationships, sessions."""

    def of_parent(self, parent_id: str, /) -> list[_S]: ...

    def of_customer(self, customer_id: str, /) -> list[_S]: ...


def _support_rows(
    uow: UnitOfWork, actor: Actor, account_id: str, rows: _BothSides[_S]
) -> dict[str, _S]:
    """The rows of `rows` the account is a side of, by id, as the actor may see them.

    As the parent for holders of `support.manage` there, as the customer for
    holders of `support.approve`; for anyone else, `PermissionDenied`.
    """
    held = permissions_of(uow, actor, account_id)
    as_parent, as_customer = "support.manage" in held, "support.approve" in held
    if not (as_parent or as_customer):
        raise PermissionDenied(
            actor=str(actor), permission="support.approve", account_id=account_id
        )
    found = {row.id: row for row in rows.of_parent(account_id)} if as_parent else {}
    if as_customer:
        found |= {row.id: row for row in rows.of_customer(account_id)}
    return found


@query
def support_relationships(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[SupportRelationship]:
    """The relationships the account is a side of, oldest request first.

    As a parent for holders of `support.manage` there, as a customer for
    holders of `support.approve` (its owners). Expired ones are `active`
    with an `expires_at` in the past: see `SupportRelationship.active_at`.
    """
    with ctx.store.snapshot() as uow:
        found = _support_rows(uow, actor, account_id, uow.relationships)
    rows = sorted(found.values(), key=lambda r: (r.requested_at, r.id))
    return page_of(rows, offset, limit, after)


@query
def support_sessions(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[SupportSession]:
    """Who accessed the account as support, and when (or whom its agents accessed), oldest first.

    A customer's owners see every session opened in it; a parent's support
    managers every session its agents opened.
    """
    with ctx.store.snapshot() as uow:
        found = _support_rows(uow, actor, account_id, uow.sessions)
    rows = sorted(found.values(), key=lambda s: (s.opened_at, s.id))
    return page_of(rows, offset, limit, after)
