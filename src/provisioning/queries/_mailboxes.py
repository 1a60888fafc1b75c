"""Queries of mailboxes: an account's mailboxes, one mailbox."""

from __future__ import annotations

from provisioning.model import (
    Mailbox,
)
from provisioning.ports import Environment
from provisioning.principals import Actor
from provisioning.queries._base import PAGE, Page, listing, page_of, query
from provisioning.rules.access import authorize, known, permissions_of

__all__ = ["get_mailbox", "mailboxes"]


@query
def mailboxes(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[Mailbox]:
    """The account's mailboxes, shared and personal, sorted by address; needs `mailboxes.manage`."""
    with ctx.store.snapshot() as uow:
        listing(uow, actor, account_id, "mailboxes.manage")
        found = sorted(uow.mailboxes.of_account(account_id), key=lambda m: (m.address.key, m.id))
    return page_of(found, offset, limit, after)


@query
def get_mailbox(ctx: Environment, actor: Actor, mailbox_id: str) -> Mailbox:
    """One mailbox: for whoever holds `mailboxes.manage` in its account or a grant in it."""
    with ctx.store.snapshot() as uow:
        mailbox = known(uow, actor, "mailbox", mailbox_id, uow.mailboxes.find(mailbox_id))
        if not permissions_of(uow, actor, mailbox.account_id, mailbox.id):
            authorize(uow, actor, "mailboxes.manage", mailbox.account_id)
        return mailbox
