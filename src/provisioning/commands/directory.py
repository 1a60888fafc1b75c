"""Synchronising the users a directory service manages."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from provisioning.commands._base import (
    AddressText,
    Command,
    LanguageText,
    MobileText,
    _collect,
)
from provisioning.results import (
    DirectorySyncReport,
)

__all__ = ["DirectoryEntry", "SyncDirectory"]


@attrs.frozen(kw_only=True)
class DirectoryEntry:
    """One user as a directory service describes it.

    `external_id` is the id the directory knows it by; `title` to
    `preferred_language` are the organisation's attributes (see
    `provisioning.model.Profile`): an entry sets them all, empty ones clear.
    """

    username: AddressText
    first_name: str = ""
    last_name: str = ""
    alternate_email: AddressText | None = None
    mobile: MobileText | None = None
    enabled: bool = True
    external_id: str | None = None
    title: str = ""
    department: str = ""
    employee_number: str = ""
    cost_center: str = ""
    organization: str = ""
    division: str = ""
    manager: str = ""
    locale: LanguageText = ""
    preferred_language: LanguageText = ""


def _entries(values: Iterable[DirectoryEntry]) -> tuple[DirectoryEntry, ...]:
    return _collect(tuple, values)


@attrs.frozen(kw_only=True)
class SyncDirectory(Command[DirectorySyncReport]):
    """Make the account's users of one directory service match the entries given.

    Missing users are created, changed ones updated, and users of the service
    absent from `entries` disabled. The library speaks no LDAP: the caller
    reads the directory and hands the entries over.
    """

    account_id: str
    directory_service: str
    entries: tuple[DirectoryEntry, ...] = attrs.field(converter=_entries)
