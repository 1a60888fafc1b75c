"""Queries of the outbox: the messages changes made, and how their delivery went."""

from __future__ import annotations

from provisioning.errors import PermissionDenied
from provisioning.model import MessageStatus, QueuedMessage
from provisioning.ports import Environment
from provisioning.principals import Actor
from provisioning.queries._base import PAGE, Page, query, read_page

__all__ = ["messages"]


@query
def messages(
    ctx: Environment,
    actor: Actor,
    *,
    status: MessageStatus | None = None,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[QueuedMessage]:
    """The outbox's messages in the order they were written (of one `status`), never a secret.

    Each says its kind, channel, recipient, attempts and why the last one
    failed. The outbox is the platform's: for its operator only.
    """
    if not actor.is_platform:
        raise PermissionDenied(actor=str(actor), permission="messages.read", account_id=None)
    return read_page(
        offset,
        limit,
        after,
        lambda start, count: ctx.store.queued_messages(status=status, offset=start, limit=count),
    )
