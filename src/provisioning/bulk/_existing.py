"""Rows for users that exist already: unchanged, or changed in which fields, from what to what.

Importing the same workbook twice creates nothing the second time: a row
whose user is already one of the account's, with the same values, is
unchanged and makes no command. A row can only change what the file says:
a column the file does not have, and an empty cell of a column it has,
keep what the user holds. A row that differs is a change, reported field by
field (old and new), and becomes an `UpdateUser` only when the caller asks
for updates. Passwords and personal mailboxes are set when a user is
created, never by a later import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from provisioning.bulk.users import USERS_SHEET, UserRow, address_key
from provisioning.commands import CreateUser, SetGrant, UpdateUser
from provisioning.errors import InvalidValue
from provisioning.model import (
    DIRECTORY_ATTRIBUTES,
    EmailAddress,
    Grant,
    PhoneNumber,
    User,
    UserStatus,
    iana_time_zone,
)
from provisioning.ports import UnitOfWork

__all__ = ["FieldChange", "RowChange", "Settled", "same_grant", "settle"]


@attrs.frozen
class FieldChange:
    """One field a row changes: what the user holds, and what the row says.

    For a list (aliases, roles, permissions) `added` and `removed` say what
    the row adds and takes away.
    """

    field: str
    old: str
    new: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.added or self.removed:
            listed = [f"+{item}" for item in self.added] + [f"-{item}" for item in self.removed]
            return f"{self.field}: {', '.join(listed)}"
        return f"{self.field}: {self.old or '(none)'} -> {self.new or '(none)'}"


@attrs.frozen
class RowChange:
    """A row whose user exists and differs from it: where, whose, and each field's change.

    `cells` maps each changed field to its column, for the annotated copy.
    """

    sheet: str
    row: int
    email: str
    fields: tuple[FieldChange, ...]
    cells: Mapping[str, int] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        """The changed fields' names."""
        return tuple(change.field for change in self.fields)

    def __str__(self) -> str:
        return f"{self.sheet}!{self.row} ({self.email}): " + "; ".join(map(str, self.fields))


def list_change(field: str, old: Iterable[str], new: Iterable[str]) -> FieldChange | None:
    """The change from one set of names to another (None: the same)."""
    before, after = sorted(set(old)), sorted(set(new))
    if before == after:
        return None
    return FieldChange(
        field=field,
        old=", ".join(before),
        new=", ".join(after),
        added=tuple(item for item in after if item not in before),
        removed=tuple(item for item in before if item not in after),
    )


@attrs.frozen
class Settled:
    """The Users rows sorted out against the store."""

    create: tuple[UserRow, ...]
    update: tuple[UserRow, ...]
    unchanged: tuple[int, ...]
    changed: tuple[RowChange, ...]
    """Each changed row and what it changes (applied only with updates)."""
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


def _as_kept(name: str, text: str) -> str:
    """An attribute as the profile keeps it (a language tag's underscore is its hyphen)."""
    return text.replace("_", "-") if name in {"locale", "preferred_language"} else text


def _yes(value: bool) -> str:  # noqa: FBT001 - a field's value in words
    return "yes" if value else "no"


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _differences(
    user: User, row: UserRow, region: str | None, cos_names: Mapping[str, str]
) -> tuple[dict[str, object], list[FieldChange]]:
    """What the row changes: the `UpdateUser` fields, and each field's change.

    Only the fields of the row's columns count, and of those only a cell
    holding something: an empty cell keeps what the user holds.
    """
    command = row.command
    assert isinstance(command, CreateUser)  # noqa: S101 - settle passes CreateUser rows only
    given = row.cells
    profile = user.profile
    wanted: dict[str, object] = {}
    changes: list[FieldChange] = []

    def differs(field: str, old: object, new: object, value: object) -> None:
        if field in given and value is not None and old != new:
            wanted[field] = value
            changes.append(FieldChange(field=field, old=_text(old), new=_text(value)))

    differs(
        "first_name", profile.first_name, command.first_name.strip(), command.first_name or None
    )
    differs("last_name", profile.last_name, command.last_name.strip(), command.last_name or None)
    alternate = profile.alternate_email
    differs(
        "alternate_email",
        alternate.key if alternate else None,
        _email(command.alternate_email),
        command.alternate_email,
    )
    differs(
        "mobile",
        str(profile.mobile) if profile.mobile else None,
        _phone(command.mobile, region),
        command.mobile,
    )
    differs("timezone", profile.timezone, _zone(command.timezone), command.timezone)
    differs("external_id", user.external_id, command.external_id, command.external_id)
    for name in DIRECTORY_ATTRIBUTES:
        text = getattr(command, name).strip()
        differs(name, getattr(profile, name), _as_kept(name, text), text or None)
    held_cos = cos_names.get(user.cos_id or "", user.cos_id or "")
    if (
        "cos_id" in given
        and command.cos_id is not None
        and command.cos_id != user.cos_id
        and command.cos_id.casefold() != held_cos.casefold()  # a system class, by its name
    ):
        wanted["cos_id"] = command.cos_id
        changes.append(
            FieldChange(
                field="cos_id",
                old=held_cos,
                new=cos_names.get(command.cos_id, command.cos_id),
            )
        )
    active = user.status is UserStatus.ACTIVE
    if "enabled" in given and command.enabled != active:
        wanted["enabled"] = command.enabled
        changes.append(FieldChange(field="enabled", old=_yes(active), new=_yes(command.enabled)))
    if "aliases" in given and command.aliases:
        held = {a.key for a in user.aliases}
        asked = {_email(a) or a for a in command.aliases}
        change = list_change("aliases", held, asked)
        if change is not None:
            wanted["aliases"] = command.aliases
            changes.append(change)
    return wanted, changes


def settle(
    uow: UnitOfWork,
    account_id: str,
    rows: Sequence[UserRow],
    *,
    updates: bool,
    region: str | None = None,
    cos_names: Mapping[str, str] | None = None,
) -> Settled:
    """Split the rows (of `CreateUser`s) into users to create, to update, and unchanged ones.

    `region` is the account's phone region, in which a mobile without its
    country code is read; `cos_names` names the classes of service by id.
    """
    commands = [(row, row.command) for row in rows if isinstance(row.command, CreateUser)]
    keys = [address_key(command.username) for _, command in commands]
    holders = uow.users.holders(keys)
    found = uow.users.get_many(dict.fromkeys(holders.values()))
    create: list[UserRow] = []
    update: list[UserRow] = []
    unchanged: list[int] = []
    changed: list[RowChange] = []
    existing: dict[str, User] = {}
    for (row, _), key in zip(commands, keys, strict=True):
        holder = holders.get(key)
        user = found.get(holder) if holder is not None else None
        if user is None or user.account_id != account_id or user.username.key != key:
            create.append(row)  # someone else's address stays the plan's to refuse
            continue
        existing[key] = user
        wanted, changes = _differences(user, row, region, cos_names or {})
        if not wanted:
            unchanged.append(row.row)
            continue
        changed.append(
            RowChange(
                sheet=USERS_SHEET,
                row=row.row,
                email=str(user.username),
                fields=tuple(changes),
                cells={c.field: row.cells[c.field] for c in changes if c.field in row.cells},
            )
        )
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
