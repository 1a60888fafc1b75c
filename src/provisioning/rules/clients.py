"""API clients: their tokens, and who may change one.

A token is `pvc_<client id>~<secret>`: the prefix lets a secret scanner
know it, the id finds the client in one read, and only the SHA-256 of the
secret is kept (it is long and random, so a fast hash suffices, and an
answer costs a request no more than a read).
"""

from __future__ import annotations

import hmac
from typing import Final

from provisioning.errors import TargetOutranks
from provisioning.model import ApiClient
from provisioning.rules._tx import Tx, hash_token, valid_id
from provisioning.rules.access import client_permissions

__all__ = ["TOKEN_PREFIX", "load_client", "parse_token", "secret_matches", "token_of"]

TOKEN_PREFIX: Final = "pvc_"  # noqa: S105 - a prefix, not a secret
"""How every API client's token starts."""

_SEPARATOR: Final = "~"  # never in an id (`id.invalid`), nor in a token's secret


def token_of(client_id: str, secret: str) -> str:
    """The token a client presents: its id and its secret in one string."""
    return f"{TOKEN_PREFIX}{client_id}{_SEPARATOR}{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """The client id and secret a token holds; None for text that is no token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    client_id, separator, secret = token[len(TOKEN_PREFIX) :].partition(_SEPARATOR)
    if not separator or not valid_id(client_id) or not secret:
        return None
    return client_id, secret


_DECOY: Final = hash_token("no client holds this")


def secret_matches(client: ApiClient | None, secret: str) -> bool:
    """Whether `secret` is the client's, compared in constant time (a decoy without a client)."""
    expected = _DECOY if client is None else client.secret_hash
    matches = hmac.compare_digest(expected.encode(), hash_token(secret).encode())
    return matches and client is not None


def load_client(tx: Tx, client_id: str) -> ApiClient:
    """The client `client_id`, for the actor to change: known, `clients.manage`, and outranked.

    Nobody changes a client that holds what it does not (the operator
    excepted), whatever the client's state: `permission.target_outranks`.
    """
    client = tx.known("client", client_id, tx.uow.clients.find(client_id))
    tx.authorize("clients.manage", client.account_id)
    if not tx.actor.is_platform and not client_permissions(tx.uow, client) <= tx.permissions(
        client.account_id
    ):
        raise TargetOutranks(
            actor=str(tx.actor), permission="clients.manage", account_id=client.account_id
        )
    return client
