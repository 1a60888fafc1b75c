"""Who manages a user: administrators here, or the directory service it came from."""

from __future__ import annotations

from provisioning.exceptions import Issue, Severity
from provisioning.model import User, UserSource

__all__ = ["directory_managed"]


def directory_managed(user: User, *, field: str = "user_id") -> list[Issue]:
    """`user.directory_managed` for a user its directory service manages.

    The one predicate is the user's `source`: a user `SyncDirectory` made
    is the directory's (its `directory_service` names which), and its
    password, profile and existence change there, not here.
    """
    if user.source is not UserSource.DIRECTORY:
        return []
    return [
        Issue(
            code="user.directory_managed",
            message=f"{user.username} is managed by the directory service"
            f" {user.directory_service!r}: change it there",
            field=field,
            severity=Severity.ERROR,
        )
    ]
