"""argon2id password hashing through argon2-cffi."""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["Argon2Hasher"]


class Argon2Hasher:
    """Hashes passwords with argon2id.

    The defaults are argon2-cffi's, which follow RFC 9106's recommendation for
    memory-constrained machines (64 MiB, 3 passes, 4 lanes). Lighter
    parameters suit test-suites; hashes made with other parameters still
    verify, and `needs_rehash` says when to replace them.

    Examples:
        >>> hasher = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)
        >>> stored = hasher.hash("correct horse battery staple")
        >>> stored.startswith("$argon2id$")
        True
        >>> hasher.verify(stored, "correct horse battery staple"), hasher.verify(stored, "guess")
        (True, False)
    """

    def __init__(
        self,
        *,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int = argon2.DEFAULT_PARALLELISM,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )

    def __repr__(self) -> str:
        p = self._hasher
        return (
            f"Argon2Hasher(time_cost={p.time_cost}, memory_cost={p.memory_cost},"
            f" parallelism={p.parallelism})"
        )

    def hash(self, password: str) -> str:
        """A new salted argon2id hash of `password`."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether `password` matches; False too for a hash that is not argon2 at all."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether to replace the hash: it is weaker than this hasher's, never stronger.

        A hash of another argon2 variant, or one whose time or memory cost
        is below this hasher's (and neither above), is replaced; a stronger
        hash is kept, so a lighter hasher never weakens what is stored.
        """
        try:
            stored = argon2.extract_parameters(password_hash)
        except InvalidHashError:
            return True
        mine = self._hasher
        if stored.type is not argon2.Type.ID:
            return True
        if stored.time_cost > mine.time_cost or stored.memory_cost > mine.memory_cost:
            return False
        return stored.time_cost < mine.time_cost or stored.memory_cost < mine.memory_cost
