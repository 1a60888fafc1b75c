"""Password policy: what a password must be, every violation reported at once."""

from __future__ import annotations

import functools
import re
from typing import Final

import attrs

from provisioning.exceptions import InvalidValue, Issue

__all__ = ["COMMON_PASSWORDS", "MIN_LENGTH_FLOOR", "PasswordPolicy"]

# Passwords people pick again and again, long enough to pass a length rule.
# Compared case-insensitively, and also with trailing digits and punctuation
# removed ("Password2024!" counts as "password").
_COMMON = (
    "password",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "passwort",
    "motdepasse",
    "contrasena",
    "senha",
    "qwerty",
    "qwertyuiop",
    "qwertyuiop123",
    "qwerty123456",
    "asdfghjkl",
    "asdfghjkl123",
    "zxcvbnm",
    "zxcvbnm123456",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "qazwsxedcrfv",
    "qazwsxedc",
    "1q2w3e4r",
    "abc123",
    "abcdefghijkl",
    "abcdefghijklmnop",
    "abcd1234abcd",
    "iloveyou",
    "iloveyouforever",
    "letmein",
    "letmeinplease",
    "welcome",
    "welcometo",
    "welcomehome",
    "administrator",
    "admin",
    "adminadmin",
    "rootroot",
    "changeme",
    "changemenow",
    "changeit",
    "default",
    "defaultpassword",
    "secret",
    "secretpassword",
    "mypassword",
    "yourpassword",
    "newpassword",
    "oldpassword",
    "football",
    "baseball",
    "basketball",
    "superman",
    "batman",
    "spiderman",
    "starwars",
    "pokemon",
    "princess",
    "sunshine",
    "shadow",
    "monkey",
    "dragon",
    "master",
    "michael",
    "jennifer",
    "jordan",
    "trustno1",
    "whatever",
    "freedom",
    "summer",
    "winter",
    "autumn",
    "spring",
    "christmas",
    "internet",
    "computer",
    "company",
    "companyname",
    "office",
    "office365",
    "microsoft",
    "google",
    "mailbox",
    "emailpassword",
    "helpdesk",
    "support",
    "service",
    "provisioning",
    "correcthorsebatterystaple",
    "thequickbrownfox",
    "loremipsum",
)

COMMON_PASSWORDS: Final = frozenset(_COMMON)
"""The library's own short list of common passwords (lower-case).

Besides these, every password is checked against zxcvbn's frequency lists
(about 94,000 common passwords, words, names and film titles), read once.
"""

_EDGES = re.compile(r"^[\d\W_]+|[\d\W_]+$")
_LEET = str.maketrans(
    {
        "@": "a",
        "4": "a",
        "0": "o",
        "1": "l",
        "!": "i",
        "3": "e",
        "$": "s",
        "5": "s",
        "7": "t",
        "+": "t",
        "9": "g",
        "8": "b",
        "|": "l",
    }
)
_RUNS: Final = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7",
    "1q2w3e4r5t6y7u8i9o0p",
    "!@#$%^&*()_+",
)
_FEWEST_DISTINCT: Final = 3
_SHORTEST_NAME: Final = 3  # shorter local parts ("al") are too likely to occur by chance
_SHORTEST_STEM: Final = 4  # a shorter stem ("ab" in "ab#2$9!x") is not a word someone chose


@functools.cache
def _blocklist() -> frozenset[str]:
    """The library's list and zxcvbn's frequency lists, lower-cased, read on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # noqa: PLC0415 - 40 ms, so only on use

    lists: dict[str, list[str]] = FREQUENCY_LISTS
    words: set[str] = set(COMMON_PASSWORDS)
    for entries in lists.values():
        words.update(entry.casefold() for entry in entries)
    return frozenset(words)


def _in_a_run(text: str) -> bool:
    """Whether `text` is a stretch of the alphabet, the digits or a keyboard row (or reversed)."""
    return any(text in run or text in run[::-1] for run in _RUNS)


def _repeated(text: str) -> str:
    """The shortest piece that `text` repeats ("abcabcabc" -> "abc"), else `text`."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _looks_common(password: str) -> bool:
    """Whether the password is on the blocklist once its obvious disguises are removed.

    The disguises: upper case, digits or punctuation before or after a word
    ("Password2024!"), look-alike digits and signs ("p@ssw0rd"), repetition
    ("summersummer"). A stretch of a keyboard row or of the alphabet, and a
    password of at most three distinct characters, are refused as well.
    """
    folded = password.casefold()
    if len(set(folded)) <= _FEWEST_DISTINCT or _in_a_run(folded) or folded.isdigit():
        return True
    blocked = _blocklist()
    for candidate in {folded, folded.translate(_LEET)}:
        for form in {candidate, _EDGES.sub("", candidate)}:
            piece = _repeated(form)
            if len(piece) < _SHORTEST_STEM and form != candidate:
                continue
            if piece in blocked or form in blocked or _in_a_run(piece):
                return True
    return False


MIN_LENGTH_FLOOR: Final = 8
"""The shortest minimum length any policy may set (NIST SP 800-63B)."""

_LONGEST: Final = 1024  # the longest password a command takes


def _invalid(name: str, value: object, expected: str) -> InvalidValue:
    return InvalidValue(
        code="password_policy.invalid",
        field=f"password_policy.{name}",
        value=repr(value),
        reason=f"expected {expected}",
    )


@attrs.frozen
class PasswordPolicy:
    """Rules a password must follow; set per account, overridable per class of service.

    No policy allows passwords shorter than `MIN_LENGTH_FLOOR` (8); the
    default minimum is 12. There are no composition rules: length, the
    username, and the blocklist of common passwords are what counts.

    Examples:
        >>> [i.code for i in PasswordPolicy().check("Ann123", local_part="ann")]
        ['password.too_short', 'password.contains_username']
    """

    min_length: int = 12
    max_length: int = 128
    forbid_username: bool = True
    forbid_common: bool = True

    def __attrs_post_init__(self) -> None:
        # Raised as a typed error at construction: a policy is built once, by an administrator.
        for name in ("min_length", "max_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise _invalid(name, value, "a whole number")
            if not MIN_LENGTH_FLOOR <= value <= _LONGEST:
                raise _invalid(name, value, f"from {MIN_LENGTH_FLOOR} to {_LONGEST}")
        if self.max_length < self.min_length:
            raise _invalid("max_length", self.max_length, "at least min_length")
        for name in ("forbid_username", "forbid_common"):
            if not isinstance(getattr(self, name), bool):
                raise _invalid(name, getattr(self, name), "true or false")

    def check(self, password: str, *, local_part: str, field: str = "password") -> list[Issue]:
        """Every rule `password` breaks, as issues (never mentioning the password itself)."""
        issues = []
        if len(password) < self.min_length:
            issues.append(
                Issue(
                    code="password.too_short",
                    message=f"a password has at least {self.min_length} characters",
                    field=field,
                )
            )
        if len(password) > self.max_length:
            issues.append(
                Issue(
                    code="password.too_long",
                    message=f"a password has at most {self.max_length} characters",
                    field=field,
                )
            )
        folded_local = local_part.casefold()
        if (
            self.forbid_username
            and len(folded_local) >= _SHORTEST_NAME
            and folded_local in password.casefold()
        ):
            issues.append(
                Issue(
                    code="password.contains_username",
                    message="a password must not contain the username",
                    field=field,
                )
            )
        if self.forbid_common and _looks_common(password):
            issues.append(
                Issue(
                    code="password.common",
                    message="this password is too common or too simple to be safe",
                    field=field,
                )
            )
        return issues
