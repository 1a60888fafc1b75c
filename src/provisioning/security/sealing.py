"""Sealing stored secrets with AES-256-GCM (the `cryptography` package).

A sealed value is text: `sealed:v1:<key id>:<nonce and ciphertext, base64>`.
The key id is the start of the key's SHA-256, so a store can tell which key
sealed a value; the additional data binds the value to its column and row,
so a sealed secret copied to another user does not open there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["SEALED_PREFIX", "AesGcmSealer", "SealingError"]

SEALED_PREFIX: Final = "sealed:v1:"
_NONCE: Final = 12
_KEY_SIZES: Final = (16, 24, 32)


class SealingError(Exception):
    """A sealed value could not be opened: `reason` is `key_unknown` or `corrupt`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _key_bytes(key: bytes | str) -> bytes:
    raw = base64.urlsafe_b64decode(key) if isinstance(key, str) else key
    if len(raw) not in _KEY_SIZES:
        msg = "an AES key has 16, 24 or 32 bytes (give bytes, or them in URL-safe base64)"
        raise ValueError(msg)
    return raw


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:12]


class AesGcmSealer:
    """Seals with the current key; opens what the current or a previous key sealed.

    To rotate, pass the new key as `key` and the old ones as `previous`,
    then call the store's `reseal()`: it seals every value with the new key,
    after which the old keys can go.

    Examples:
        >>> sealer = AesGcmSealer(AesGcmSealer.new_key())
        >>> sealed = sealer.seal("JBSWY3DPEHPK3PXP", context="users.mfa_secret:u-1")
        >>> sealed.startswith("sealed:v1:"), "JBSWY3DPEHPK3PXP" in sealed
        (True, False)
        >>> sealer.unseal(sealed, context="users.mfa_secret:u-1")
        'JBSWY3DPEHPK3PXP'
    """

    def __init__(self, key: bytes | str, *, previous: Sequence[bytes | str] = ()) -> None:
        current = _key_bytes(key)
        self._current = (_key_id(current), AESGCM(current))
        self._keys = {_key_id(k): AESGCM(k) for k in map(_key_bytes, previous)}
        self._keys[self._current[0]] = self._current[1]

    def __repr__(self) -> str:
        return f"AesGcmSealer(key_id={self._current[0]!r}, previous={len(self._keys) - 1})"

    @staticmethod
    def new_key() -> str:
        """A fresh random 256-bit key, in URL-safe base64 (keep it outside the database)."""
        return base64.urlsafe_b64encode(os.urandom(32)).decode()

    @property
    def key_id(self) -> str:
        """The id of the key new values are sealed with."""
        return self._current[0]

    def seal(self, plaintext: str, *, context: str) -> str:
        """`plaintext` sealed with the current key, bound to `context` (its column and row)."""
        nonce = os.urandom(_NONCE)
        sealed = self._current[1].encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{SEALED_PREFIX}{self._current[0]}:{body}"

    def unseal(self, sealed: str, *, context: str) -> str:
        """The plaintext of a sealed value; `SealingError` if no key opens it."""
        key_id, _, body = sealed.removeprefix(SEALED_PREFIX).partition(":")
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise SealingError("key_unknown")
        try:
            raw = base64.urlsafe_b64decode(body)
            return cipher.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SealingError("corrupt") from exc
