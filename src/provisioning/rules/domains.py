"""What a domain allows: users, registrations and their changes need one of the account, active."""

from __future__ import annotations

from typing import Final

from provisioning.errors import Issue, codes
from provisioning.model import (
    Domain,
    DomainStatus,
    User,
)
from provisioning.rules._issues import error
from provisioning.storage import UnitOfWork

__all__ = ["former_users", "not_active", "require_active"]

CODES: Final = codes(
    invalid=("domain.not_in_account",),
    state=("domain.not_active",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def not_active(domain: Domain, consequence: str, *, field: str) -> Issue:
    """`domain.not_active`: the domain is pending, verified or deactivated, so `consequence`."""
    return error(
        "domain.not_active", f"{domain.name} is {domain.status}: {consequence}", field=field
    )


def require_active(domain: Domain | None, account_id: str, *, field: str) -> list[Issue]:
    """Issues unless `domain` is an active domain of the account (users are created only there)."""
    if domain is None or domain.account_id != account_id:
        return [
            error(
                "domain.not_in_account",
                "the address is not on a domain of the account",
                field=field,
            )
        ]
    if domain.status is not DomainStatus.ACTIVE:
        return [not_active(domain, "users are created on active domains only", field=field)]
    return []


def former_users(uow: UnitOfWork, domain: Domain) -> list[User]:
    """The users a deleted account left on the domain: corporate, of no account."""
    return [
        user
        for user in uow.users.named_on(domain.name)
        if user.corporate and user.account_id is None
    ]
