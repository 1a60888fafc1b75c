"""Queries: read-only views for callers, each checked against the actor's permissions.

Queries read repositories directly and never write; each runs in its own unit
of work, which is rolled back.
"""

from __future__ import annotations

from provisioning.exceptions import PermissionDenied
from provisioning.model import Account, AuditEvent, ClassOfService
from provisioning.ports import UnitOfWork
from provisioning.principals import Actor
from provisioning.services import authorize, permissions_of
from provisioning.workflow import Context

__all__ = ["audit_log", "classes_of_service", "get_account", "permissions"]


def _member(uow: UnitOfWork, actor: Actor, account_id: str) -> None:
    if not permissions_of(uow, actor, account_id):
        raise PermissionDenied(actor=str(actor), permission="(any)", account_id=account_id)


def permissions(
    ctx: Context, actor: Actor, account_id: str | None, mailbox_id: str | None = None
) -> frozenset[str]:
    """What `actor` may do in the account (or one mailbox of it): for UIs to show or hide."""
    with ctx.store.unit_of_work() as uow:
        return permissions_of(uow, actor, account_id, mailbox_id)


def get_account(ctx: Context, actor: Actor, account_id: str) -> Account:
    """The account, for anyone holding a permission in it; `NotFound` if it does not exist."""
    with ctx.store.unit_of_work() as uow:
        _member(uow, actor, account_id)
        return uow.accounts.get(account_id)


def classes_of_service(ctx: Context, actor: Actor, account_id: str | None) -> list[ClassOfService]:
    """The platform-wide classes of service, then the account's own, each sorted by name.

    With `account_id` None, only the platform-wide ones (the operator only).
    """
    with ctx.store.unit_of_work() as uow:
        if account_id is None:
            if not actor.is_platform:
                raise PermissionDenied(actor=str(actor), permission="(any)", account_id=None)
            return uow.classes_of_service.of_account(None)
        _member(uow, actor, account_id)
        uow.accounts.get(account_id)
        return [
            *uow.classes_of_service.of_account(None),
            *uow.classes_of_service.of_account(account_id),
        ]


def audit_log(ctx: Context, actor: Actor, account_id: str) -> list[AuditEvent]:
    """The account's audit events, oldest first; needs `audit.read` in the account."""
    with ctx.store.unit_of_work() as uow:
        authorize(uow, actor, "audit.read", account_id)
        return uow.audit.events(account_id=account_id)
