"""Who manages a user's credentials (here, or its directory), and what a guess at them counts on."""

from __future__ import annotations

import hashlib

from provisioning.exceptions import InvalidValue, Issue
from provisioning.model import User, Username, UserSource
from provisioning.rules._issues import error

__all__ = ["directory_managed", "guess_key"]


def directory_managed(user: User, *, field: str = "user_id") -> list[Issue]:
    """`user.directory_managed` for a user its directory service manages.

    The one predicate is the user's `source`: a user `SyncDirectory` made
    is the directory's (its `directory_service` names which), and its
    password, profile and existence change there, not here.
    """
    if user.source is not UserSource.DIRECTORY:
        return []
    return [
        error(
            "user.directory_managed",
            f"{user.username} is managed by the directory service"
            f" {user.directory_service!r}: change it there",
            field=field,
        )
    ]


def guess_key(kind: str, name: str) -> str:
    """The counter of guesses of one `kind` at the name typed: a digest, never the name.

    A name that is a username counts as the username it parses to (case
    and script folded); any other text, as it is with its spaces folded.
    """
    try:
        folded = Username.parse(name).key
    except InvalidValue:
        folded = " ".join(name.split()).casefold()
    return hashlib.sha256(f"{kind}:{folded}".encode()).hexdigest()
