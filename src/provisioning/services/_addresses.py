"""The checks every address claimed on the platform's domains passes besides being free.

Its local part must be valid under PRECIS and of one script, and no other
user or mailbox may hold an address that looks the same
(`provisioning.model.skeleton`). The address itself being taken is
`address.taken` or `mailbox.address_taken`, checked where it is claimed.
"""

from __future__ import annotations

from provisioning.exceptions import Issue
from provisioning.model import EmailAddress, Username, local_part_problem, skeleton
from provisioning.services._base import Tx, error

__all__ = ["lookalike_issues"]


def lookalike_issues(
    tx: Tx,
    address: EmailAddress | Username,
    *,
    own_user: str | None = None,
    own_mailbox: str | None = None,
    field: str,
) -> list[Issue]:
    """Issues with an address someone claims: its characters, and look-alikes of it.

    `own_user` is the user claiming it (renaming itself, adding an alias,
    getting its personal mailbox): what it holds, and its own mailboxes, do
    not count; nor does `own_mailbox`, a mailbox being renamed. Holders of
    the very same address are left to the caller.
    """
    problem = local_part_problem(address.local)
    if problem is not None:
        code, reason = problem
        return [error(code, f"{address} cannot be used: {reason}", field=field)]
    key = address.key
    shape = skeleton(key)
    others = [user_id for user_id in tx.uow.users.with_skeleton(shape) if user_id != own_user]
    if others and any(key not in u.addresses for u in tx.uow.users.get_many(others).values()):
        return [_confusable(address, field)]
    if any(
        mailbox.address.key != key
        and mailbox.id != own_mailbox
        and (own_user is None or mailbox.owner_id != own_user)
        for mailbox in tx.uow.mailboxes.with_skeleton(shape)
    ):
        return [_confusable(address, field)]
    return []


def _confusable(address: EmailAddress | Username, field: str) -> Issue:
    return error(
        "address.confusable",
        f"{address} looks like an address that exists already (the same letters in another"
        " script, or look-alike signs): choose one that cannot be mistaken for it",
        field=field,
    )
