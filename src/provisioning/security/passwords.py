"""Generated passwords."""

from __future__ import annotations

from typing import Final

from provisioning.errors import InvalidValue, codes
from provisioning.model import PasswordPolicy
from provisioning.ports import TokenSource

__all__ = ["generate_password"]

CODES: Final = codes(
    usage=("password_policy.unsatisfiable",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def generate_password(policy: PasswordPolicy, tokens: TokenSource, *, local_part: str) -> str:
    """A random password that satisfies `policy`, built from the token source's randomness.

    Every policy admits such a password (its minimum is at least 8); if the
    token source keeps yielding refused ones, `InvalidValue` with the code
    `password_policy.unsatisfiable` says so.
    """
    length = min(max(policy.min_length, 20), policy.max_length)
    for _ in range(100):
        text = ""
        while len(text) < length:
            text += tokens.token()
        candidate = text[:length]
        if not policy.check(candidate, local_part=local_part):
            return candidate
    raise InvalidValue(
        code="password_policy.unsatisfiable",
        field="password_policy",
        value=repr(policy),
        reason="no generated password passes it (the token source may not be random)",
    )
