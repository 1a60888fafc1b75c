"""Time-based one-time passwords (RFC 6238) through pyotp, with replay protection."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Final

import attrs
import pyotp

from provisioning.model import SECRET

__all__ = ["Totp"]

_DIGITS: Final = 6


@attrs.frozen
class Totp:
    """One user's TOTP generator: 6 digits, 30-second steps, SHA-1 (what authenticator apps use).

    The secret is hidden from `repr`.

    Examples:
        >>> from datetime import UTC, datetime
        >>> totp = Totp.from_seed("seed")
        >>> now = datetime(2026, 1, 1, tzinfo=UTC)
        >>> code = totp.code(now)
        >>> totp.verify(code, at=now, last_step=None) == totp.step(now)
        True
        >>> totp.verify(code, at=now, last_step=totp.step(now)) is None  # a replay
        True
    """

    secret: str = attrs.field(repr=False, metadata={SECRET: True})

    @classmethod
    def from_seed(cls, seed: str) -> Totp:
        """A TOTP whose base32 secret (160 bits) is derived from a random token."""
        digest = hashlib.sha256(seed.encode()).digest()[:20]
        return cls(base64.b32encode(digest).decode())

    def _otp(self) -> pyotp.TOTP:
        return pyotp.TOTP(self.secret)

    def provisioning_uri(self, *, account: str, issuer: str) -> str:
        """The `otpauth://` URI an authenticator app reads (usually from a QR code)."""
        return self._otp().provisioning_uri(name=account, issuer_name=issuer)

    def step(self, at: datetime) -> int:
        """The time step `at` falls in."""
        return int(self._otp().timecode(at))

    def code(self, at: datetime) -> str:
        """The code for the time step `at` falls in."""
        return self._otp().at(at)

    def verify(self, code: str, *, at: datetime, last_step: int | None) -> int | None:
        """The time step `code` belongs to, or None.

        A code of the current step or one step either side (clock drift) is
        accepted, unless its step is not after `last_step`: a code, once used,
        is never accepted again.
        """
        if not (code.isdigit() and len(code) == _DIGITS):
            return None
        otp = self._otp()
        current = self.step(at)
        for offset in (-1, 0, 1):
            step = current + offset
            if last_step is not None and step <= last_step:
                continue
            if hmac.compare_digest(otp.at(at, counter_offset=offset), code):
                return step
        return None
