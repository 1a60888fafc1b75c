"""Commands on domains: add, verify, activate, deactivate, delete, and settle their former users."""

from __future__ import annotations

import attrs

from provisioning.commands._base import (
    UNCHANGED,
    AddressText,
    Command,
    Unchanged,
    VersionNumber,
    _names,
)
from provisioning.model import (
    Domain,
)

__all__ = [
    "ActivateDomain",
    "AddDomain",
    "DeactivateDomain",
    "DeleteDomain",
    "SettleFormerUsers",
    "UnverifyDomain",
    "UpdateDomain",
    "VerifyDomain",
]


@attrs.frozen(kw_only=True)
class AddDomain(Command[Domain]):
    """Add a domain to an account; it starts pending, with a verification token.

    The account's first domain also creates its super admin,
    `postmaster@<domain>`, whose one-time codes go to `admin_email`.
    """

    account_id: str
    name: str
    primary_domain: str | None = None
    require_2fa: bool = False
    captcha_on_login: bool = False
    default_cos_id: str | None = None
    admin_email: AddressText | None = None
    domain_id: str | None = None


@attrs.frozen(kw_only=True)
class UpdateDomain(Command[Domain]):
    """Change a domain's primary domain, security defaults or default class of service."""

    domain_id: str
    version: VersionNumber
    primary_domain: str | Unchanged | None = UNCHANGED
    require_2fa: bool | Unchanged = UNCHANGED
    captcha_on_login: bool | Unchanged = UNCHANGED
    default_cos_id: str | Unchanged | None = UNCHANGED


@attrs.frozen(kw_only=True)
class VerifyDomain(Command[Domain]):
    """Check the domain's DNS for its verification TXT record: pending -> verified."""

    domain_id: str


@attrs.frozen(kw_only=True)
class ActivateDomain(Command[Domain]):
    """Put a verified (or deactivated) domain into service: -> active."""

    domain_id: str


@attrs.frozen(kw_only=True)
class DeactivateDomain(Command[Domain]):
    """Take an active domain out of service: active -> inactive."""

    domain_id: str


@attrs.frozen(kw_only=True)
class UnverifyDomain(Command[Domain]):
    """Withdraw a domain's verification: back to pending."""

    domain_id: str


@attrs.frozen(kw_only=True)
class DeleteDomain(Command[None]):
    """Delete a domain, irreversibly; `confirm_name` must repeat its name.

    Refused while users, aliases or mailboxes live on it, unless
    `remove_dependents` asks to remove them in the same transaction.
    """

    domain_id: str
    confirm_name: str
    remove_dependents: bool = False


@attrs.frozen(kw_only=True)
class SettleFormerUsers(Command[None]):
    """Decide about the users a deleted account left on a domain this account now holds.

    They kept their addresses and their corporate status, but cannot sign
    in. `adopt` makes users of this account of them, with the domain's
    defaults and a set-password link instead of their old password; `remove`
    deletes them. `queries.former_users` lists them.
    """

    domain_id: str
    adopt: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    remove: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
