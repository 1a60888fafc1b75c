"""What a domain's status allows: users, registrations and their changes need it active."""

from __future__ import annotations

from provisioning.exceptions import Issue, Severity
from provisioning.model import Domain

__all__ = ["not_active"]


def not_active(domain: Domain, consequence: str, *, field: str) -> Issue:
    """`domain.not_active`: the domain is pending, verified or deactivated, so `consequence`."""
    return Issue(
        code="domain.not_active",
        message=f"{domain.name} is {domain.status}: {consequence}",
        field=field,
        severity=Severity.ERROR,
    )
