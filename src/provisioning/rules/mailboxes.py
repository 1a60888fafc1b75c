"""Mailboxes: the address a mailbox claims, and the personal mailbox a user may get."""

from __future__ import annotations

from typing import Final

from provisioning.errors import Issue, codes
from provisioning.model import EmailAddress, Mailbox, MailboxKind, User
from provisioning.rules._tx import Tx, error
from provisioning.rules.grants import merge_grant

__all__ = [
    "MAILBOX_MANAGER",
    "mailbox_address_taken",
    "new_personal_mailbox",
    "personal_mailbox_issues",
]

CODES: Final = codes(
    conflict=(
        "mailbox.address_taken",
        "mailbox.personal_exists",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def personal_mailbox_issues(tx: Tx, user: User, account_id: str) -> list[Issue]:
    """Whether `user` can get a personal mailbox in the account."""
    if any(
        m.kind is MailboxKind.PERSONAL and m.account_id == account_id
        for m in tx.uow.mailboxes.of_owner(user.id)
    ):
        return [
            error(
                "mailbox.personal_exists",
                f"{user.username} has a personal mailbox already",
                field="user_id",
            )
        ]
    return mailbox_address_taken(tx, user.username.address, None, field="user_id")


def new_personal_mailbox(tx: Tx, user: User, account_id: str, action: str) -> Mailbox:
    """Store the user's personal mailbox in the account and make the user its manager."""
    mailbox = Mailbox(
        id=tx.new_id(),
        account_id=account_id,
        address=user.username.address,
        kind=MailboxKind.PERSONAL,
        display_name=user.profile.display_name,
        owner_id=user.id,
    )
    tx.uow.mailboxes.add(mailbox)
    tx.record(action, "mailbox", mailbox.id, account_id=account_id, detail=str(mailbox.address))
    merge_grant(
        tx,
        user_id=user.id,
        account_id=account_id,
        mailbox_id=mailbox.id,
        role_ids=frozenset({MAILBOX_MANAGER}),
        permissions=frozenset(),
        action=action,
    )
    return mailbox


MAILBOX_MANAGER = "system:manager"


def mailbox_address_taken(
    tx: Tx, address: EmailAddress, own_id: str | None, *, field: str
) -> list[Issue]:
    """`mailbox.address_taken` unless no mailbox but `own_id` is at `address`."""
    holder = tx.uow.mailboxes.by_address(address)
    if holder is None or holder.id == own_id:
        return []
    return [
        error(
            "mailbox.address_taken",
            tx.taken_message("mailbox address", str(address), holder.id),
            field=field,
        )
    ]
