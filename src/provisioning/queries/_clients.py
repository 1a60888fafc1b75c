"""Queries of API clients: list them, read one, and authenticate one by its token."""

from __future__ import annotations

from typing import Final

from provisioning.errors import Unauthenticated, codes
from provisioning.model import ApiClient
from provisioning.ports import Environment
from provisioning.principals import Actor
from provisioning.queries._base import PAGE, Page, argument_invalid, listing, page_of, query
from provisioning.rules.access import authorize, known
from provisioning.rules.clients import parse_token, secret_matches

__all__ = ["api_clients", "authenticate_client", "client_of_token", "get_api_client"]

CODES: Final = codes(unauthenticated=("client.unauthenticated",))
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_TOKEN_LIMIT: Final = 512


@query
def api_clients(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[ApiClient]:
    """The account's API clients, revoked ones too, by name; needs `clients.manage`."""
    with ctx.store.snapshot() as uow:
        listing(uow, actor, account_id, "clients.manage")
        found = sorted(uow.clients.of_account(account_id), key=lambda c: (c.name.casefold(), c.id))
    return page_of(found, offset, limit, after)


@query
def get_api_client(ctx: Environment, actor: Actor, client_id: str) -> ApiClient:
    """One API client, for holders of `clients.manage` in its account (to others, none)."""
    with ctx.store.snapshot() as uow:
        client = known(uow, actor, "client", client_id, uow.clients.find(client_id))
        authorize(uow, actor, "clients.manage", client.account_id)
        return client


def authenticate_client(ctx: Environment, token: str) -> Actor:
    """The actor a token proves: `Actor.client(id)` of a live client; else `Unauthenticated`.

    One read of the client by the id the token holds, and a constant-time
    comparison of its secret's hash. The error (`client.unauthenticated`)
    is the same for any text that is no token (however long, whatever it
    holds), a client nobody holds, a wrong secret, and a revoked or expired
    client, and it never repeats the token. A token that is not text at all
    is a `UsageError` (`query.argument_invalid`).

    Examples:
        >>> from provisioning import Actor, Context, CreateAccount, CreateApiClient, run
        >>> ctx = Context.in_memory()
        >>> _ = run(ctx, Actor.platform(), CreateAccount(name="Acme", account_id="acme"))
        >>> issued = run(
        ...     ctx,
        ...     Actor.platform(),
        ...     CreateApiClient(account_id="acme", name="Okta", role_ids={"system:administrator"}),
        ... )
        >>> authenticate_client(ctx, issued.token) == Actor.client(issued.client.id)
        True
    """
    return Actor.client(client_of_token(ctx, token).id)


def client_of_token(ctx: Environment, token: str) -> ApiClient:
    """The live API client a token proves, in full (its account, roles, directory).

    As `authenticate_client`, with the same one read and the same one
    error (`client.unauthenticated`); for an edge that needs the client's
    account as well as its actor (the SCIM service).
    """
    if not isinstance(token, str):
        raise argument_invalid(f"a token is text, not {type(token).__name__}")
    parsed = parse_token(token) if len(token) <= _TOKEN_LIMIT else None
    client_id, secret = parsed if parsed is not None else ("", "")
    with ctx.store.snapshot() as uow:
        client = uow.clients.find(client_id) if client_id else None
    now = ctx.clock.now()
    if not secret_matches(client, secret) or client is None or not client.active_at(now):
        raise Unauthenticated(
            code="client.unauthenticated",
            reason="the token is not one of a live API client",
        )
    return client
