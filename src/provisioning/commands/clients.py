"""Commands on API clients: create, change, rotate their secret, revoke."""

from __future__ import annotations

import attrs

from provisioning.commands._base import (
    UNCHANGED,
    Command,
    DescriptionText,
    Unchanged,
    VersionNumber,
    _names,
    _names_or_unchanged,
)
from provisioning.model import ApiClient
from provisioning.results import ApiClientIssued

__all__ = ["CreateApiClient", "RevokeApiClient", "RotateApiClientSecret", "UpdateApiClient"]


@attrs.frozen(kw_only=True)
class CreateApiClient(Command[ApiClientIssued]):
    """Create an API client of the account: a machine that acts with the roles given here.

    Needs `clients.manage`; like a grant, the client holds nothing its creator
    does not. The result carries its token, shown this once. `valid_days`
    (1 to 3,650) ends it that many days from now (None: it acts until
    revoked). With a `directory_service`, the client speaks for that
    directory: the users it creates are the directory's, and it changes
    them one by one (a fixed choice: `UpdateApiClient` cannot change it).
    """

    account_id: str
    name: str
    role_ids: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    permissions: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    directory_service: str | None = None
    description: DescriptionText = ""
    valid_days: int | None = None
    client_id: str | None = None


@attrs.frozen(kw_only=True)
class UpdateApiClient(Command[ApiClient]):
    """Rename a client, change what it holds, or when it ends (`valid_days` from now; None: never).

    Needs `clients.manage`, and everything the client holds before and after.
    """

    client_id: str
    version: VersionNumber
    name: str | Unchanged = UNCHANGED
    role_ids: frozenset[str] | Unchanged = attrs.field(
        default=UNCHANGED, converter=_names_or_unchanged
    )
    permissions: frozenset[str] | Unchanged = attrs.field(
        default=UNCHANGED, converter=_names_or_unchanged
    )
    description: DescriptionText | Unchanged = UNCHANGED
    valid_days: int | Unchanged | None = UNCHANGED


@attrs.frozen(kw_only=True)
class RotateApiClientSecret(Command[ApiClientIssued]):
    """Give a client a new token, shown this once; the old one stops working at once."""

    client_id: str
    version: VersionNumber | None = None


@attrs.frozen(kw_only=True)
class RevokeApiClient(Command[ApiClient]):
    """Revoke a client for good: its token stops working, and it holds nothing any more.

    It stays listed (revoked) so that the audit log's entries still name it.
    """

    client_id: str
    version: VersionNumber | None = None
