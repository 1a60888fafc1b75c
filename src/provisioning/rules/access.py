"""Rank and belonging: whom an actor may change, and what belongs to no account.

The rank rule itself (the actor holds everything the target holds) is
`Tx.outranks`; a handler that refuses on it without raising (a batch of
targets, a setting that protects the owners) says so with this one issue.
"""

from __future__ import annotations

from provisioning.exceptions import Issue
from provisioning.rules._issues import error

__all__ = ["no_account", "target_outranks"]


def target_outranks(message: str, *, field: str) -> Issue:
    """`permission.target_outranks`: what the actor may not do to someone who outranks it."""
    return error("permission.target_outranks", message, field=field)


def no_account(message: str, *, field: str = "user_id") -> Issue:
    """`user.no_account`: the change needs a user of an account, and this one is of none."""
    return error("user.no_account", message, field=field)
