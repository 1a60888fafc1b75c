"""What a user's profile shows of it, and what its directory knows it by."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from provisioning.errors import Issue, codes
from provisioning.model import Profile
from provisioning.rules._tx import Tx, error

__all__ = ["directory_attributes", "display_name", "external_id_issues"]

CODES: Final = codes(
    invalid=("user.external_id_invalid", "user.language_invalid"),
    conflict=("user.external_id_taken",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_LANGUAGE: Final = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*")
_TAGGED: Final = frozenset({"locale", "preferred_language"})


def display_name(first: str, last: str, explicit: str | None = None) -> tuple[str, bool]:
    """The display name, and whether it was set by hand: `explicit`, else first and last name."""
    if explicit is not None and explicit.strip():
        return explicit.strip(), True
    return Profile(first_name=first, last_name=last).full_name, False


def directory_attributes(given: Mapping[str, str], issues: list[Issue]) -> dict[str, str]:
    """The organisation's attributes as the profile keeps them: trimmed, tags checked.

    `locale` and `preferred_language` are language tags (`en`, `de-CH`; an
    underscore is read as the hyphen it stands for), else
    `user.language_invalid`. Empty text clears an attribute.
    """
    kept = {name: value.strip() for name, value in given.items()}
    for name in _TAGGED & kept.keys():
        tag = kept[name]
        if tag and not _LANGUAGE.fullmatch(tag):
            issues.append(
                error(
                    "user.language_invalid",
                    f"{tag!r} is not a language tag (such as 'en', 'de-CH')",
                    field=name,
                )
            )
        kept[name] = tag.replace("_", "-")
    return kept


def external_id_issues(
    tx: Tx,
    account_id: str,
    directory: str | None,
    external_id: str | None,
    own_id: str | None,
) -> list[Issue]:
    """Whether the user may be known by `external_id` in its directory: some text, not taken.

    An external id is case-exact and unique in the account among the users
    of one directory (`directory` None: among users of none).
    """
    if external_id is None:
        return []
    if not external_id.strip():
        return [error("user.external_id_invalid", "an external id holds text", field="external_id")]
    holder = tx.uow.users.by_external_id(account_id, directory, external_id)
    if holder is None or holder.id == own_id:
        return []
    return [
        error(
            "user.external_id_taken",
            f"another user of the account is known as {external_id!r} already",
            field="external_id",
        )
    ]
