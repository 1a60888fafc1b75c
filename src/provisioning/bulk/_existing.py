"""Rows for users that exist already: unchanged, or changed in which fields.

Importing the same workbook twice creates nothing the second time: a row
whose user is already one of the account's, with the same values, is
unchanged and makes no command. A row that differs is a change, reported
with the fields it changes, and becomes an `UpdateUser` only when the
caller asks for updates. Passwords and personal mailboxes are set when a
user is created, never by a later import.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from provisioning.bulk.users import UserRow, address_key
from provisioning.commands import CreateUser, SetGrant, UpdateUser
from provisioning.exceptions import InvalidValue
from provisioning.model import EmailAddress, Grant, PhoneNumber, User, iana_time_zone
from provisioning.ports import UnitOfWork

__all__ = ["Settled", "same_grant", "settle"]


@attrs.frozen
class Settled:
    """The Users rows sorted out against the store."""

    create: tuple[UserRow, ...]
    update: tuple[UserRow, ...]
    unchanged: tuple[int, ...]
    changed: tuple[tuple[int, tuple[str, ...]], ...]
    """Each changed row and the fields it changes (applied only with updates)."""
    existing: dict[str, User]
    """The existing users, by folded address."""


def _email(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return EmailAddress.parse(text).key
    except InvalidValue:
        return text


def _phone(text: str | None, region: str | None) -> str | None:
    if text is None:
        return None
    try:
        return str(PhoneNumber.parse(text, region=region))
    except InvalidValue:
        return text


def _zone(text: str | None) -> str | None:
    if text is None:
        return None
    return iana_time_zone(text) or text


def _differences(user: User, command: CreateUser, region: str | None) -> dict[str, object]:
    profile = user.profile
    wanted: dict[str, object] = {}
    if profile.first_name != command.first_name.strip():
        wanted["first_name"] = command.first_name
    if profile.last_name != command.last_name.strip():
        wanted["last_name"] = command.last_name
    if (profile.alternate_email.key if profile.alternate_email else None) != _email(
        command.alternate_email
    ):
        wanted["alternate_email"] = command.alternate_email
    if (str(profile.mobile) if profile.mobile else None) != _phone(command.mobile, region):
        wanted["mobile"] = command.mobile
    if profile.timezone != _zone(command.timezone):
        wanted["timezone"] = command.timezone
    if command.cos_id is not None and command.cos_id != user.cos_id:
        wanted["cos_id"] = command.cos_id
    if {a.key for a in user.aliases} != {_email(a) for a in command.aliases}:
        wanted["aliases"] = command.aliases
    return wanted


def settle(
    uow: UnitOfWork,
    account_id: str,
    rows: Sequence[UserRow],
    *,
    updates: bool,
    region: str | None = None,
) -> Settled:
    """Split the rows (of `CreateUser`s) into users to create, to update, and unchanged ones.

    `region` is the account's phone region, in which a mobile without its
    country code is read.
    """
    commands = [(row, row.command) for row in rows if isinstance(row.command, CreateUser)]
    keys = [address_key(command.username) for _, command in commands]
    holders = uow.users.holders(keys)
    found = uow.users.get_many(dict.fromkeys(holders.values()))
    create: list[UserRow] = []
    update: list[UserRow] = []
    unchanged: list[int] = []
    changed: list[tuple[int, tuple[str, ...]]] = []
    existing: dict[str, User] = {}
    for (row, command), key in zip(commands, keys, strict=True):
        holder = holders.get(key)
        user = found.get(holder) if holder is not None else None
        if user is None or user.account_id != account_id or user.username.key != key:
            create.append(row)  # someone else's address stays the plan's to refuse
            continue
        existing[key] = user
        wanted = _differences(user, command, region)
        if not wanted:
            unchanged.append(row.row)
            continue
        changed.append((row.row, tuple(sorted(wanted))))
        if updates:
            change = UpdateUser(user_id=user.id, version=user.version, **wanted)  # type: ignore[arg-type]
            update.append(attrs.evolve(row, command=change))
    return Settled(
        create=tuple(create),
        update=tuple(update),
        unchanged=tuple(unchanged),
        changed=tuple(changed),
        existing=existing,
    )


def same_grant(current: Grant | None, command: SetGrant) -> bool:
    """Whether a `SetGrant` would leave what the user holds as it is."""
    if current is None:
        return not command.role_ids and not command.permissions
    return current.role_ids == command.role_ids and current.permissions == command.permissions
