"""Look-alike addresses: what a local part may hold, and when two addresses look the same.

Three rules keep one address from passing for another:

- A local part follows the PRECIS UsernameCaseMapped profile (RFC 8265):
  letters and digits of any script, ASCII punctuation, no compatibility
  characters (full-width or mathematical letters), no spaces or controls.
- A local part is written in one script, or in one of the combinations
  Unicode calls highly restrictive (Latin with Han, Hiragana and Katakana;
  Latin with Han and Bopomofo; Latin with Han and Hangul). A letter counts
  in every script of its Script_Extensions (UTS #39's resolved script set):
  the prolonged sound mark U+30FC is Hiragana and Katakana both.
- Two addresses whose skeletons are equal look alike. The skeleton is
  Unicode's (UTS #39: each character replaced by its prototype in
  `confusables.txt`), of the case-folded text, with combining marks left
  out, so "anna" written with a Cyrillic a (U+0430), a dotless i (U+0131)
  or a combining dot (U+0307) looks like the Latin "anna".
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from importlib import resources
from typing import Final

import regex

__all__ = ["local_part_problem", "read_prototypes", "skeleton"]

_HIGHLY_RESTRICTIVE: Final = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# Words that open a character's name but are not its script.
_NOT_A_SCRIPT: Final = {"CJK": "HAN", "FULLWIDTH": "", "HALFWIDTH": "", "MATHEMATICAL": ""}


def read_prototypes(text: str) -> dict[int, str]:
    """Each confusable code point's prototype, from a table's `source<TAB>target` lines."""
    table: dict[int, str] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        source, _, target = line.partition("\t")
        table[int(source, 16)] = "".join(chr(int(point, 16)) for point in target.split(","))
    return table


@functools.cache
def _prototypes() -> dict[int, str]:
    """Each confusable code point's prototype, read from the bundled table once."""
    text = resources.files("provisioning.model").joinpath("confusables.txt").read_text("utf-8")
    return read_prototypes(text)


@functools.cache
def _precis() -> object:
    import precis_i18n  # noqa: PLC0415 - only for local parts beyond ASCII

    return precis_i18n.get_profile("UsernameCaseMapped")


@functools.lru_cache(maxsize=8192)
def skeleton(text: str) -> str:
    """The UTS #39 skeleton of `text`, case-folded and without combining marks.

    Remembered for the last few thousand texts: a batch asks for the skeleton
    of each new address several times (its look-alike check, the overlay's
    key, the change scope, the stored row), one soon after the other.
    """
    folded = text.casefold()
    if folded.isascii():
        return folded.translate(_prototypes())
    mapped = unicodedata.normalize("NFD", folded).translate(_prototypes())
    return "".join(
        char for char in unicodedata.normalize("NFD", mapped) if not unicodedata.combining(char)
    )


def _script(char: str) -> str:
    """The script a letter's Unicode name opens with ("" if none, or not a script)."""
    word = unicodedata.name(char, "").partition(" ")[0]
    word = _NOT_A_SCRIPT.get(word, word)
    return word if _in_script(word) is not None else ""


@functools.cache
def _in_script(script: str) -> regex.Pattern[str] | None:
    """What matches a character whose Script_Extensions hold `script` (None: no such script)."""
    if not script:
        return None
    try:
        return regex.compile(rf"\p{{scx={script}}}")
    except regex.error:
        return None


def _written_in(letters: Iterable[str], scripts: frozenset[str]) -> bool:
    """Whether each letter belongs to one of `scripts` by its Script_Extensions.

    A letter used by several scripts (U+30FC, the prolonged sound mark of
    both kana) belongs to each of them, as in UTS #39's resolved script set.
    """
    patterns = [pattern for name in scripts if (pattern := _in_script(name)) is not None]
    return all(any(pattern.match(letter) for pattern in patterns) for letter in letters)


def local_part_problem(local: str) -> tuple[str, str] | None:
    """The code and the reason why `local` cannot be a local part here (None: it can).

    The codes are `address.disallowed` (PRECIS) and `address.mixed_script`.
    """
    if local.isascii():
        return None  # ASCII letters, digits and punctuation are all PRECIS-valid
    try:
        _precis().enforce(local)  # type: ignore[attr-defined]
    except UnicodeEncodeError:
        reason = (
            "it holds characters a username may not (RFC 8265): full-width or"
            " mathematical letters, symbols, spaces or controls"
        )
        return "address.disallowed", reason
    letters = [char for char in unicodedata.normalize("NFC", local) if char.isalpha()]
    named = {_script(char) for char in letters} - {""}
    # One script (any letter's), or one of the combinations Unicode calls highly restrictive.
    allowed = [*(frozenset({script}) for script in named), *_HIGHLY_RESTRICTIVE]
    if letters and not any(_written_in(letters, scripts) for scripts in allowed):
        listed = ", ".join(sorted(named)).lower() or "unnamed ones"
        return "address.mixed_script", f"it mixes scripts ({listed})"
    return None
