"""Password policy: what a password must be, every violation reported at once."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Final

import attrs

from provisioning.errors import InvalidValue, Issue, codes

__all__ = ["COMMON_PASSWORDS", "MIN_LENGTH_FLOOR", "PasswordPolicy", "too_guessable"]

CODES: Final = codes(
    invalid=(
        "password.common",
        "password.contains_username",
        "password.too_long",
        "password.too_short",
        "password_policy.invalid",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

# Passwords people pick again and again, long enough to pass a length rule; zxcvbn
# sees them through their disguises (case, digits and signs around them, l33t).
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

COMMON_PASSWORDS: Final = tuple(_COMMON)
"""The library's own short list of common passwords (lower-case), most common first.

zxcvbn knows them besides its own frequency lists (about 94,000 common
passwords, words, names and film titles).
"""

_SHORTEST_NAME: Final = 3  # shorter local parts ("al") are too likely to occur by chance
_ENOUGH_GUESSES: Final = 10  # log10 of the guesses a password must take: zxcvbn's score 4
_SHORTEST_JUDGED: Final = 8  # shorter passwords are too short for any policy: not judged
_ESTIMATED: Final = 72  # characters zxcvbn looks at (its own bound): past them, only its cost grows
_YEARS: Final = tuple(str(year) for year in range(2100, 1899, -1))
"""Years, as the estimator's own table (which ends in 2019) misses the recent ones."""


@functools.cache
def _estimator() -> Callable[..., dict[str, Any]]:
    from zxcvbn import zxcvbn  # noqa: PLC0415 - its lists take 40 ms to read: only on use

    estimate: Callable[..., dict[str, Any]] = zxcvbn
    return estimate


def too_guessable(password: str, user_inputs: Sequence[str] = ()) -> bool:
    """Whether zxcvbn finds `password` guessable sooner than a strong one should be.

    zxcvbn estimates the guesses an attacker who knows how people choose
    passwords needs: common passwords, words, names, dates, keyboard runs,
    repeats, look-alike signs, and the `user_inputs` (the username, the
    domain, the account's name), to which the library adds its own list of
    common passwords and every year from 1900 to 2100. A password is too
    guessable under 10^10 guesses (zxcvbn's score 4); one shorter than
    eleven characters cannot take that many, and is too guessable when it
    takes less than a tenth of what zxcvbn's brute force needs for its
    length. One shorter than eight characters, too short for any policy,
    is not judged.
    """
    words = [text.casefold() for text in user_inputs if text]
    estimate = _estimator()(password[:_ESTIMATED], user_inputs=[*words, *_YEARS, *COMMON_PASSWORDS])
    if len(password) < _SHORTEST_JUDGED:
        return False  # too short for any policy: that is what it is told
    needed = min(_ENOUGH_GUESSES, len(password) - 1)
    return float(estimate["guesses_log10"]) < needed


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
    username, and how soon zxcvbn's estimator guesses it (`too_guessable`)
    are what counts.

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

    def check(
        self,
        password: str,
        *,
        local_part: str,
        user_inputs: Sequence[str] = (),
        field: str = "password",
    ) -> list[Issue]:
        """Every rule `password` breaks, as issues (never mentioning the password itself).

        `user_inputs` are words an attacker would try with this user (its
        domain, its account's name); the local part is one of them.
        """
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
        if self.forbid_common and too_guessable(password, (local_part, *user_inputs)):
            issues.append(
                Issue(
                    code="password.common",
                    message="this password is too common or too simple to be safe",
                    field=field,
                )
            )
        return issues
