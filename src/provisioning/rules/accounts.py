"""A new account and its name: the two classes of service it starts with, and a free name for it."""

from __future__ import annotations

import re
from typing import Final

from provisioning.model import (
    Account,
    ClassOfService,
    valid_name,
)
from provisioning.rules._tx import Tx

__all__ = ["ADMIN_COS_NAME", "USER_COS_NAME", "free_account_name", "new_account"]


def new_account(
    tx: Tx,
    *,
    name: str,
    action: str,
    account_id: str | None = None,
    parent_id: str | None = None,
    personal_mailbox_on_create: bool = False,
) -> Account:
    """Store an account with its two own classes of service, and audit all three."""
    new_id = tx.new_id(account_id)
    users, admins = (
        ClassOfService(
            id=tx.new_id(),
            name=cos_name,
            account_id=new_id,
            description=description,
            admin_panel=admin_panel,
        )
        for cos_name, description, admin_panel in (
            (USER_COS_NAME, "What the account's users get unless told otherwise.", False),
            (ADMIN_COS_NAME, "Opens the admin panel: its holders administer the account.", True),
        )
    )
    account = Account(
        id=new_id,
        name=name,
        created_at=tx.now,
        parent_id=parent_id,
        personal_mailbox_on_create=personal_mailbox_on_create,
        default_cos_id=users.id,
        admin_cos_id=admins.id,
    )
    tx.uow.accounts.add(account)
    tx.record(action, "account", account.id, account_id=account.id, detail=name)
    for cos in (users, admins):
        tx.uow.classes_of_service.add(cos)
        tx.record(action, "cos", cos.id, account_id=account.id, detail=cos.name)
    return account


def free_account_name(tx: Tx, wanted: str) -> str:
    """`wanted` made a valid account name nobody holds yet ("Ann Lee", "Ann Lee 2" ...).

    After a few numbers a short random mark follows the name ("Ann Lee
    k3f9q2"), so the thousandth registrant of a common name costs a look-up
    or two, not a thousand.
    """
    base = re.sub(r"[^\w.&' \-]", " ", wanted).strip()[:60].rstrip() or "Personal"
    if not valid_name(base):
        base = "Personal"
    for number in range(1, _NUMBERED + 1):
        name = base if number == 1 else f"{base} {number}"
        if tx.uow.accounts.by_name(name) is None:
            return name
    while True:
        mark = re.sub(r"[^a-z0-9]", "", tx.token().lower())[-6:] or "x"
        name = f"{base} {mark}"
        if tx.uow.accounts.by_name(name) is None:
            return name


USER_COS_NAME: Final = "Users"
"""The name of the class of service a new account gives its users by default."""


ADMIN_COS_NAME: Final = "Administrators"
"""The name of a new account's class of service that makes administrators."""


_NUMBERED: Final = 5  # "Ann Lee" to "Ann Lee 5"; then a random mark, not one look-up per holder
