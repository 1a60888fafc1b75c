"""What a user's profile shows of it."""

from __future__ import annotations

from provisioning.model import Profile

__all__ = ["display_name"]


def display_name(first: str, last: str, explicit: str | None = None) -> tuple[str, bool]:
    """The display name, and whether it was set by hand: `explicit`, else first and last name."""
    if explicit is not None and explicit.strip():
        return explicit.strip(), True
    return Profile(first_name=first, last_name=last).full_name, False
