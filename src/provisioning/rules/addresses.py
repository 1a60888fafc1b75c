"""The platform's one address namespace, and the checks every claimed address passes.

Usernames, aliases, administrators, shared and personal mailboxes share one
platform-wide namespace, case- and form-insensitive: an address has one
holder (a user's personal mailbox lives at the user's own username).
`claim_issues` decides whether an address is free for a claimant. Its local
part must also be valid under PRECIS and of one script, and no other user or
mailbox may hold an address that looks the same (`provisioning.model.skeleton`).
"""

from __future__ import annotations

from typing import Final

from provisioning.errors import Issue, codes
from provisioning.model import (
    EmailAddress,
    Username,
    local_part_problem,
    skeleton,
)
from provisioning.rules._tx import (
    Tx,
    error,
)

__all__ = ["address_taken", "claim_issues", "lookalike_issues"]

CODES: Final = codes(
    conflict=(
        "address.confusable",
        "address.taken",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def claim_issues(
    tx: Tx,
    address: EmailAddress | Username,
    *,
    own_user: str | None = None,
    own_mailbox: str | None = None,
    field: str,
    hint: str = "",
) -> list[Issue]:
    """`address.taken` unless the address is free for the claimant, then `lookalike_issues`.

    `own_user` is the user claiming the address (for itself, or for its
    personal mailbox), `own_mailbox` a mailbox being renamed. `hint` ends
    the message of `address.taken` (what the claimant may do instead).
    Every road that claims an address comes here: a user, an alias, an
    administrator, a mailbox, a domain's super admin, a registration.
    """
    key = address.key
    user_id = tx.uow.users.holders((key,)).get(key)
    if user_id is not None and user_id != own_user:
        return [_taken(tx, address, user_id, _held_by_user(tx, key, user_id) + hint, field)]
    mailbox = tx.uow.mailboxes.by_address(
        address if isinstance(address, EmailAddress) else address.address
    )
    if (
        mailbox is not None
        and mailbox.id != own_mailbox
        and (own_user is None or mailbox.owner_id != own_user)
    ):
        shared = tx.member_of(mailbox.account_id) and mailbox.owner_id is None
        by = (" by a shared mailbox" if shared else "") + hint
        return [_taken(tx, address, mailbox.id, by, field)]
    return lookalike_issues(tx, address, own_user=own_user, own_mailbox=own_mailbox, field=field)


def _held_by_user(tx: Tx, key: str, user_id: str) -> str:
    """Who holds the address, in words, for an actor who may know (a member of its account)."""
    user = tx.uow.users.find(user_id)
    if user is None or user.account_id is None or not tx.member_of(user.account_id):
        return ""
    if user.username.key == key:
        return " by a user"
    return f", as an alias of {user.username}"


def _taken(tx: Tx, address: EmailAddress | Username, holder: str, by: str, field: str) -> Issue:
    """`address.taken`, naming the holder's kind to whoever may know it (`by`)."""
    return error(
        "address.taken", tx.taken_message("address", str(address), holder) + by, field=field
    )


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


def address_taken(
    tx: Tx, username: Username, own_id: str | None, *, field: str = "username"
) -> list[Issue]:
    """`address.taken` unless nobody but the user `own_id` holds the address.

    Nobody: no other user, and no mailbox but the user's own personal one
    (see `claim_issues`). An address that is free must also be a valid one
    that looks like no other (`address.mixed_script`, `address.confusable` ...).
    """
    return claim_issues(tx, username, own_user=own_id, field=field)
