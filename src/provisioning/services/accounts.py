"""Handlers for accounts (tenants)."""

from __future__ import annotations

from typing import Any

import attrs

from provisioning.commands import UNCHANGED, CreateAccount, UpdateAccount
from provisioning.exceptions import Issue
from provisioning.model import Account, valid_name
from provisioning.services._access import authorize
from provisioning.services._base import Step, Tx, error, requested_id_issues

__all__ = ["create_account", "update_account"]


def _name_issues(tx: Tx, name: str, *, own_id: str | None = None) -> list[Issue]:
    if not valid_name(name):
        return [
            error(
                "account.name_invalid",
                f"{name!r} is not a valid account name: 1 to 64 letters, digits,"
                " spaces or _.&'- starting with a letter or digit",
                field="name",
            )
        ]
    holder = tx.uow.accounts.by_name(name)
    if holder is not None and holder.id != own_id:
        return [
            error(
                "account.name_taken",
                tx.taken_message("account name", name, holder.id),
                field="name",
            )
        ]
    return []


def create_account(tx: Tx, command: CreateAccount) -> Step[Account]:
    """Create an account.

    A top-level account only the platform operator may create; a customer
    account under a parent, anyone holding `accounts.create` in the parent.
    """
    authorize(tx.uow, tx.actor, "accounts.create", command.parent_id)
    if command.parent_id is not None:
        tx.uow.accounts.get(command.parent_id)
    name = command.name.strip()
    issues = requested_id_issues(command.account_id, tx.uow.accounts.find, field="account_id")
    issues += _name_issues(tx, name)

    def run() -> Account:
        account = Account(
            id=tx.new_id(command.account_id),
            name=name,
            created_at=tx.now,
            parent_id=command.parent_id,
            personal_mailbox_on_create=command.personal_mailbox_on_create,
        )
        tx.uow.accounts.add(account)
        tx.record("CreateAccount", "account", account.id, account_id=account.id)
        return account

    return Step.proceed(run, issues)


def update_account(tx: Tx, command: UpdateAccount) -> Step[Account]:
    """Rename an account or change its settings; needs `accounts.manage` in it."""
    authorize(tx.uow, tx.actor, "accounts.manage", command.account_id)
    account = tx.uow.accounts.get(command.account_id)
    changes: dict[str, Any] = {}
    issues: list[Issue] = []
    if command.name is not UNCHANGED:
        name = command.name.strip()
        issues += _name_issues(tx, name, own_id=account.id)
        changes["name"] = name
    if command.personal_mailbox_on_create is not UNCHANGED:
        changes["personal_mailbox_on_create"] = command.personal_mailbox_on_create

    def run() -> Account:
        updated = tx.uow.accounts.update(attrs.evolve(account, version=command.version, **changes))
        tx.record(
            "UpdateAccount",
            "account",
            account.id,
            account_id=account.id,
            detail=", ".join(sorted(changes)),
        )
        return updated

    return Step.proceed(run, issues)
