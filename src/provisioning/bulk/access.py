"""The Account and Mailbox sheets: what each user of the Users sheet holds, as `SetGrant`s.

The Account sheet gives, per user email, account roles and individual
permissions; each Mailbox sheet does the same in one mailbox of the account
(the template puts the mailbox's address in `F1`; otherwise the sheet's name
after "Mailbox" is read as the address). Roles are named by id or by name,
and lists are separated by commas, semicolons or new lines. An email that
is not on the Users sheet, a role, permission or mailbox the account does
not have, are issues located to their cells; so is the same email twice on
one sheet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from provisioning.bulk._workbook import Sheet, Workbook
from provisioning.bulk.users import (
    address_key,
    cell_issue,
    cell_text,
    header_key,
    sheet_issues,
    split_list,
)
from provisioning.commands import SetGrant
from provisioning.errors import Issue, Location
from provisioning.model import PERMISSIONS, Scope

__all__ = ["ACCOUNT_SHEET", "GrantRow", "grant_rows"]

ACCOUNT_SHEET: Final = "Account"
_MAILBOX_PREFIX: Final = "mailbox"
_COLUMNS: Final = {
    "email": {"email", "e mail", "email address", "user", "username"},
    "roles": {"roles", "role"},
    "permissions": {"permissions", "permission"},
}


@attrs.frozen
class GrantRow:
    """One row of the Account sheet or of a Mailbox sheet, and the `SetGrant` made of it."""

    sheet: str
    row: int
    command: SetGrant
    cells: Mapping[str, int]
    user_row: int
    """The Users-sheet row of the user it is for (skipped with it)."""
    email: str = ""
    """The user's email, as the row gives it."""

    def location(self, field: str | None) -> Location:
        """The cell a command field came from (the row alone for other fields)."""
        column = self.cells.get(field) if field is not None else None
        return Location(sheet=self.sheet, row=self.row, column=column)


def _columns(sheet: Sheet) -> dict[str, int]:
    found: dict[str, int] = {}
    if not sheet.rows:
        return found
    for position, value in enumerate(sheet.rows[0], start=1):
        key = header_key(str(value)) if value is not None else ""
        for name, names in _COLUMNS.items():
            if key in names and name not in found:
                found[name] = position
    return found


def _mailbox_address(sheet: Sheet) -> str:
    label = cell_text(sheet.cell(1, 5))
    if label is not None and label.casefold() == _MAILBOX_PREFIX:
        return cell_text(sheet.cell(1, 6)) or ""
    return sheet.name.strip()[len(_MAILBOX_PREFIX) :].strip()


def grant_rows(
    book: Workbook,
    account_id: str,
    *,
    users: Mapping[str, tuple[str, int]],
    roles: Mapping[str, tuple[str, Scope]],
    mailboxes: Mapping[str, str],
) -> tuple[list[GrantRow], list[Issue]]:
    """The `SetGrant`s of the Account and Mailbox sheets, with every cell issue.

    `users` maps each Users-sheet email (folded) to the new user's id and its
    row; `roles` each role id and name (folded) usable in the account to the
    role's id and scope; `mailboxes` each mailbox address (folded) to its id.
    """
    found: list[GrantRow] = []
    issues: list[Issue] = []
    for sheet in book.sheets:
        name = sheet.name.strip()
        if name.casefold() == ACCOUNT_SHEET.casefold():
            mailbox_id, scope = None, Scope.ACCOUNT
        elif name.casefold().startswith(_MAILBOX_PREFIX):
            address = _mailbox_address(sheet)
            mailbox_id = mailboxes.get(address_key(address))
            scope = Scope.MAILBOX
            if mailbox_id is None:
                issues.append(
                    cell_issue(
                        "bulk.mailbox_unknown",
                        f"the account has no mailbox {address!r} for sheet {sheet.name!r}",
                        sheet.name,
                        None,
                        None,
                    )
                )
                continue
        else:
            continue
        columns = _columns(sheet)
        if "email" not in columns:
            if any(sheet.rows[1:]):
                issues.append(
                    cell_issue(
                        "bulk.column_missing",
                        f"the {sheet.name} sheet has no Email column",
                        sheet.name,
                        1,
                        None,
                    )
                )
            continue
        issues += sheet_issues(sheet, set(columns.values()), 1)
        rows, problems = _sheet_grants(
            sheet, columns, account_id, mailbox_id, scope, users=users, roles=roles
        )
        found += rows
        issues += problems
    return found, issues


def _sheet_grants(
    sheet: Sheet,
    columns: Mapping[str, int],
    account_id: str,
    mailbox_id: str | None,
    scope: Scope,
    *,
    users: Mapping[str, tuple[str, int]],
    roles: Mapping[str, tuple[str, Scope]],
) -> tuple[list[GrantRow], list[Issue]]:
    found: list[GrantRow] = []
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    cells = {
        "user_id": columns["email"],
        **({"role_ids": columns["roles"]} if "roles" in columns else {}),
        **({"permissions": columns["permissions"]} if "permissions" in columns else {}),
    }
    for number in range(2, len(sheet.rows) + 1):
        email = cell_text(sheet.cell(number, columns["email"]))
        if email is None:
            continue
        key = address_key(email)
        if key in seen:
            issues.append(
                cell_issue(
                    "bulk.duplicate_row",
                    f"{email} is on row {seen[key]} of this sheet too",
                    sheet.name,
                    number,
                    columns["email"],
                )
            )
            continue
        seen[key] = number
        user = users.get(key)
        if user is None:
            issues.append(
                cell_issue(
                    "bulk.user_unknown",
                    f"{email} is not on the Users sheet",
                    sheet.name,
                    number,
                    columns["email"],
                )
            )
            continue
        role_ids = _names(sheet, number, columns.get("roles"), issues, roles=roles, scope=scope)
        permissions = _permissions(sheet, number, columns.get("permissions"), issues, scope)
        command = SetGrant(
            user_id=user[0],
            account_id=account_id,
            mailbox_id=mailbox_id,
            role_ids=role_ids,
            permissions=permissions,
        )
        found.append(
            GrantRow(
                sheet=sheet.name,
                row=number,
                command=command,
                cells=cells,
                user_row=user[1],
                email=email,
            )
        )
    return found, issues


def _listed(sheet: Sheet, row: int, column: int | None) -> tuple[str, ...]:
    return () if column is None else split_list(cell_text(sheet.cell(row, column)))


def _names(
    sheet: Sheet,
    row: int,
    column: int | None,
    issues: list[Issue],
    *,
    roles: Mapping[str, tuple[str, Scope]],
    scope: Scope,
) -> frozenset[str]:
    found = set()
    for name in _listed(sheet, row, column):
        role = roles.get(name.casefold())
        if role is None or role[1] is not scope:
            issues.append(
                cell_issue(
                    "bulk.role_unknown",
                    f"the account has no {scope} role {name!r} (see the Roles sheet)",
                    sheet.name,
                    row,
                    column,
                )
            )
        else:
            found.add(role[0])
    return frozenset(found)


def _permissions(
    sheet: Sheet, row: int, column: int | None, issues: list[Issue], scope: Scope
) -> frozenset[str]:
    found = set()
    for name in _listed(sheet, row, column):
        permission = PERMISSIONS.get(name.casefold())
        if permission is None or permission.scope is not scope:
            issues.append(
                cell_issue(
                    "bulk.permission_unknown",
                    f"{name!r} is no {scope} permission (see the Permissions sheet)",
                    sheet.name,
                    row,
                    column,
                )
            )
        else:
            found.add(permission.name)
    return frozenset(found)
