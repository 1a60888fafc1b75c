"""How a rule says what it decided: an `Issue` that blocks, or one that only warns."""

from __future__ import annotations

from provisioning.errors import Issue, Severity

__all__ = ["error", "warning"]


def error(code: str, message: str, *, field: str | None = None) -> Issue:
    """A blocking issue."""
    return Issue(code=code, message=message, field=field)


def warning(code: str, message: str, *, field: str | None = None) -> Issue:
    """A non-blocking issue."""
    return Issue(code=code, message=message, field=field, severity=Severity.WARNING)
