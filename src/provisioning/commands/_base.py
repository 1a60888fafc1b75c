"""What every command shares: the `Command` base, `UNCHANGED`, field limits, lists taken in.

A field's limits are declared on the field, in its type: `username:
AddressText` is text of at most 320 characters, `description:
DescriptionText` may span lines and hold 2,000. A text field of plain `str`
takes 256 characters on one line. The edge checks (`command_from`, and
`plan` for a command built by hand) read the limits from the fields.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Final, Generic, TypeVar

import attrs

from provisioning.model import (
    MailboxOffer,
)

__all__ = [
    "DEFAULT_TEXT_LIMIT",
    "UNCHANGED",
    "AddressText",
    "CodeText",
    "Command",
    "DescriptionText",
    "LanguageText",
    "MobileText",
    "PasswordText",
    "Text",
    "TokenText",
    "Unchanged",
    "VersionNumber",
    "Whole",
    "ZoneText",
]


_R_co = TypeVar("_R_co", covariant=True)
_T = TypeVar("_T")


class Command(Generic[_R_co]):
    """The base of every command; `_R_co` is what applying the command yields.

    `run(ctx, actor, CreateUser(...))` is typed as a `User`, and `plan` takes
    nothing but commands. An application's own commands derive from it too.
    """

    __slots__ = ()


class Unchanged(enum.Enum):
    """The type of `UNCHANGED`."""

    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = Unchanged.UNCHANGED
"""Marks a field an update command leaves as it is (None may be a real new value)."""

DEFAULT_TEXT_LIMIT: Final = 256
"""The most characters a text field takes when its type declares no other limit."""


@attrs.frozen
class Text:
    """The limits of a text field, declared in its type: `Annotated[str, Text(320)]`.

    `longest` characters at most (`text.too_long`); no control characters,
    bidirectional overrides or lone surrogates (`text.invalid`), except line
    breaks and tabs where the text is `multiline`.
    """

    longest: int = DEFAULT_TEXT_LIMIT
    multiline: bool = False


@attrs.frozen
class Whole:
    """The range of a whole-number field, declared in its type: `Annotated[int, Whole(1)]`.

    Every whole number is below 2**53 (what every store and JSON reader keeps
    exactly); `lowest` is the smallest it may be (`value.out_of_range`).
    """

    lowest: int = -(2**53) + 1


AddressText = Annotated[str, Text(320)]
"""An email address or username as typed (RFC 5321's longest path)."""
PasswordText = Annotated[str, Text(1024)]
"""A password as typed."""
TokenText = Annotated[str, Text(512)]
"""A one-time token from a link."""
CodeText = Annotated[str, Text(64)]
"""A one-time code (recovery, MFA)."""
ZoneText = Annotated[str, Text(64)]
"""An IANA time zone's name."""
MobileText = Annotated[str, Text(64)]
"""A mobile phone number as typed."""
LanguageText = Annotated[str, Text(35)]
"""A language tag (`en`, `de-CH`, `zh-Hant-TW`)."""
DescriptionText = Annotated[str, Text(2000, multiline=True)]
"""A description: several lines of free text."""
VersionNumber = Annotated[int, Whole(1)]
"""The version an entity was read at (from 1)."""


def _collect(kind: Callable[[Iterable[Any]], _T], values: object) -> _T:
    """`kind(values)` for a real collection; anything else is kept for the checks to refuse.

    A string is not split into its letters, and a number does not raise
    here: planning the command reports either as `value.type`.
    """
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        return values  # type: ignore[return-value]
    try:
        return kind(values)
    except TypeError:  # unhashable members
        return values  # type: ignore[return-value]


def _names(values: Iterable[str]) -> frozenset[str]:
    return _collect(frozenset, values)


def _offers(values: Iterable[MailboxOffer]) -> tuple[MailboxOffer, ...]:
    return _collect(tuple, values)


def _texts(values: Iterable[str]) -> tuple[str, ...]:
    return _collect(tuple, values)


def _texts_or_unchanged(values: Iterable[str] | Unchanged) -> tuple[str, ...] | Unchanged:
    return values if isinstance(values, Unchanged) else _texts(values)


def _names_or_unchanged(values: Iterable[str] | Unchanged) -> frozenset[str] | Unchanged:
    return values if isinstance(values, Unchanged) else _names(values)
