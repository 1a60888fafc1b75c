"""Password policy: what a password must be, every violation reported at once."""

from __future__ import annotations

import re
from typing import Final

import attrs

from provisioning.exceptions import InvalidValue, Issue

__all__ = ["COMMON_PASSWORDS", "PasswordPolicy"]

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
"""The bundled list of common passwords (lower-case)."""

_TRAILING = re.compile(r"[\d\W_]+$")
_FEWEST_DISTINCT: Final = 2
_SHORTEST_NAME: Final = 3  # shorter local parts ("al") are too likely to occur by chance


def _looks_common(password: str) -> bool:
    folded = password.casefold()
    if len(set(folded)) <= _FEWEST_DISTINCT:  # "aaaaaaaaaaaa", "abababababab"
        return True
    if folded.isdigit():  # "123456789012", dates, phone numbers
        return True
    stem = _TRAILING.sub("", folded)
    return folded in COMMON_PASSWORDS or stem in COMMON_PASSWORDS


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
            if not 1 <= value <= _LONGEST:
                raise _invalid(name, value, f"from 1 to {_LONGEST}")
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
