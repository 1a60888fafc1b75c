"""What a parent's agent may never do in a customer, whatever roles the customer approved.

The rule: nothing an agent does may leave a way in that outlives the
support relationship, or act beyond the roles the customer approved (the
anchor: Microsoft's granular delegated admin privileges, least privilege,
time-bound). So an agent:

- never sets, receives or re-points a credential of the customer's
  principals: no password it chose or was shown, no second factor's secret,
  no alternate email or mobile where recovery codes would go
  (`support.credentials_refused`);
- never makes a principal more than a plain user: no invitation offering a
  role, a permission or a mailbox (`support.elevation_refused`); creating
  administrators and changing grants need permissions a support role may not
  hold (see `NEVER_DELEGATED`).
"""

from __future__ import annotations

from provisioning.errors import Issue
from provisioning.rules._tx import Tx, error
from provisioning.rules.access import NEVER_DELEGATED

__all__ = ["NEVER_DELEGATED", "acting_as_agent", "credentials_refused", "elevation_refused"]


def acting_as_agent(tx: Tx) -> bool:
    """Whether the batch's actor is a parent's agent in a support session."""
    return tx.actor.session_id is not None


def credentials_refused(tx: Tx, what: str, *, field: str) -> list[Issue]:
    """`support.credentials_refused` for an agent about to hold or re-point a credential."""
    return _refused(
        tx,
        "support.credentials_refused",
        f"a support agent never {what}: the user does it on its own channel"
        " (a set-password link, password recovery)",
        field,
    )


def elevation_refused(tx: Tx, what: str, *, field: str) -> list[Issue]:
    """`support.elevation_refused` for an agent about to make someone more than a plain user."""
    return _refused(
        tx,
        "support.elevation_refused",
        f"a support agent {what}: only the customer's own administrators do",
        field,
    )


def _refused(tx: Tx, code: str, message: str, field: str) -> list[Issue]:
    """The refusal, for an agent; nothing for anyone else."""
    return [error(code, message, field=field)] if acting_as_agent(tx) else []
