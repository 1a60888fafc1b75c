"""Generated passwords."""

from __future__ import annotations

from provisioning.model import PasswordPolicy
from provisioning.ports import TokenSource

__all__ = ["generate_password"]


def generate_password(policy: PasswordPolicy, tokens: TokenSource, *, local_part: str) -> str:
    """A random password that satisfies `policy`, built from the token source's randomness."""
    length = min(max(policy.min_length, 20), policy.max_length)
    for _ in range(100):
        text = ""
        while len(text) < length:
            text += tokens.token()
        candidate = text[:length]
        if not policy.check(candidate, local_part=local_part):
            return candidate
    msg = "the token source does not yield passwords this policy accepts"
    raise RuntimeError(msg)
