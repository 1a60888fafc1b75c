"""Queries of invitations: those waiting for a user, an account's, one invitation."""

from __future__ import annotations

from provisioning.model import (
    Invitation,
    InvitationStatus,
)
from provisioning.ports import Environment
from provisioning.principals import Actor
from provisioning.queries._base import PAGE, Page, page_of, query
from provisioning.rules.access import authorize, known

__all__ = ["get_invitation", "invitations", "pending_invitations"]


@query
def pending_invitations(
    ctx: Environment,
    actor: Actor,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[Invitation]:
    """The invitations waiting for the acting user: to its username or an alias, unexpired."""
    now = ctx.clock.now()
    with ctx.store.snapshot() as uow:
        user = uow.users.find(actor.user_id) if actor.user_id else None
        if user is None:
            return page_of([], offset, limit, after)
        found = []
        for address in (user.username.address, *user.aliases):
            found += [
                i
                for i in uow.invitations.of_email(address)
                if i.status is InvitationStatus.PENDING and i.expires_at > now
            ]
    return page_of(sorted(found, key=lambda i: (i.created_at, i.id)), offset, limit, after)


@query
def invitations(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[Invitation]:
    """Every invitation of the account, oldest first; needs `invitations.send`."""
    with ctx.store.snapshot() as uow:
        authorize(uow, actor, "invitations.send", account_id)
        found = uow.invitations.of_account(account_id)
    return page_of(found, offset, limit, after)


@query
def get_invitation(ctx: Environment, actor: Actor, invitation_id: str) -> Invitation:
    """One invitation: for whoever holds `invitations.send` in its account."""
    with ctx.store.snapshot() as uow:
        invitation = known(
            uow, actor, "invitation", invitation_id, uow.invitations.find(invitation_id)
        )
        authorize(uow, actor, "invitations.send", invitation.account_id)
        return invitation
