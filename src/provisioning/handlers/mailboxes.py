"""Handlers for mailboxes: shared mailboxes of an account and personal mailboxes of users."""

from __future__ import annotations

from typing import Any, Final

import attrs

from provisioning.commands import (
    UNCHANGED,
    CreateMailbox,
    CreatePersonalMailbox,
    DeleteMailbox,
    RenameMailbox,
)
from provisioning.errors import InvalidValue, Issue, codes
from provisioning.model import EmailAddress, Mailbox, MailboxKind
from provisioning.rules._tx import Step, Tx, error, requested_id_issues
from provisioning.rules.access import no_account
from provisioning.rules.addresses import claim_issues
from provisioning.rules.domains import require_active
from provisioning.rules.mailboxes import (
    mailbox_address_taken,
    new_personal_mailbox,
    personal_mailbox_issues,
)
from provisioning.rules.removal import remove_mailbox

__all__ = ["create_mailbox", "create_personal_mailbox", "delete_mailbox", "rename_mailbox"]

CODES: Final = codes(
    invalid=("mailbox.personal_address",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


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
