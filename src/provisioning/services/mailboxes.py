"""Handlers for mailboxes: shared mailboxes of an account and personal mailboxes of users."""

from __future__ import annotations

from typing import Any

import attrs

from provisioning.commands import (
    UNCHANGED,
    CreateMailbox,
    CreatePersonalMailbox,
    DeleteMailbox,
    RenameMailbox,
)
from provisioning.exceptions import InvalidValue, Issue
from provisioning.model import EmailAddress, Mailbox, MailboxKind, User
from provisioning.rules.access import no_account
from provisioning.rules.domains import require_active
from provisioning.services._addresses import claim_issues
from provisioning.services._base import Step, Tx, error, requested_id_issues
from provisioning.services._removal import remove_mailbox
from provisioning.services.grants import merge_grant

__all__ = [
    "create_mailbox",
    "create_personal_mailbox",
    "delete_mailbox",
    "mailbox_address_taken",
    "new_personal_mailbox",
    "personal_mailbox_issues",
    "rename_mailbox",
]

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


def _address_issues(
    tx: Tx, account_id: str, text: str, own_id: str | None
) -> tuple[list[Issue], EmailAddress | None]:
    try:
        address = EmailAddress.parse(text, field="address")
    except InvalidValue as invalid:
        return [invalid.issue()], None
    issues = require_active(tx.uow.domains.by_name(address.domain), account_id, field="address")
    if issues:  # not the account's domain: whoever holds the address is not its business
        return issues, address
    issues += mailbox_address_taken(tx, address, own_id, field="address")
    if not issues:  # one namespace: no user holds it either, nor anything like it
        issues += claim_issues(tx, address, own_mailbox=own_id, field="address")
    return issues, address


def create_mailbox(tx: Tx, command: CreateMailbox) -> Step[Mailbox]:
    """Create a shared mailbox at a free address on an active domain of the account."""
    tx.authorize("mailboxes.manage", command.account_id)
    tx.uow.accounts.get(command.account_id)
    issues = requested_id_issues(command.mailbox_id, tx.uow.mailboxes.find, field="mailbox_id")
    problems, address = _address_issues(tx, command.account_id, command.address, None)
    issues += problems

    def run() -> Mailbox:
        assert address is not None  # noqa: S101 - run() exists only when no issue blocked
        mailbox = Mailbox(
            id=tx.new_id(command.mailbox_id),
            account_id=command.account_id,
            address=address,
            kind=MailboxKind.SHARED,
            display_name=command.display_name.strip(),
        )
        tx.uow.mailboxes.add(mailbox)
        tx.record(
            "CreateMailbox",
            "mailbox",
            mailbox.id,
            account_id=command.account_id,
            detail=str(address),
        )
        return mailbox

    return Step.proceed(run, issues)


def _load(tx: Tx, mailbox_id: str) -> Mailbox:
    mailbox = tx.known("mailbox", mailbox_id, tx.uow.mailboxes.find(mailbox_id))
    tx.authorize("mailboxes.manage", mailbox.account_id)
    return mailbox


def rename_mailbox(tx: Tx, command: RenameMailbox) -> Step[Mailbox]:
    """Change a mailbox's display name, or a shared mailbox's address."""
    mailbox = _load(tx, command.mailbox_id)
    issues: list[Issue] = []
    changes: dict[str, Any] = {}
    if command.address is not UNCHANGED:
        if mailbox.kind is MailboxKind.PERSONAL:
            issues.append(
                error(
                    "mailbox.personal_address",
                    "a personal mailbox lives at its owner's username; rename the user instead",
                    field="address",
                )
            )
        else:
            problems, address = _address_issues(tx, mailbox.account_id, command.address, mailbox.id)
            issues += problems
            changes["address"] = address
    if command.display_name is not UNCHANGED:
        changes["display_name"] = command.display_name.strip()

    def run() -> Mailbox:
        stored = tx.uow.mailboxes.update(attrs.evolve(mailbox, version=command.version, **changes))
        tx.record(
            "RenameMailbox",
            "mailbox",
            mailbox.id,
            account_id=mailbox.account_id,
            detail=", ".join(sorted(changes)),
        )
        return stored

    return Step.proceed(run, issues)


def delete_mailbox(tx: Tx, command: DeleteMailbox) -> Step[None]:
    """Delete a mailbox, every grant in it, and its users' choice of it as their default."""
    mailbox = _load(tx, command.mailbox_id)

    return Step.proceed(
        lambda: remove_mailbox(tx, mailbox, "DeleteMailbox", version=command.version)
    )


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


def create_personal_mailbox(tx: Tx, command: CreatePersonalMailbox) -> Step[Mailbox]:
    """Give a user of an account its personal mailbox, at its username."""
    user = tx.user(command.user_id)
    tx.authorize("users.manage", user.account_id)
    tx.require_rank("users.manage", user)
    account_id = user.account_id
    if account_id is None:
        return Step.refuse([no_account("a personal mailbox belongs to an account")])
    issues = personal_mailbox_issues(tx, user, account_id)
    return Step.proceed(
        lambda: new_personal_mailbox(tx, user, account_id, "CreatePersonalMailbox"), issues
    )
