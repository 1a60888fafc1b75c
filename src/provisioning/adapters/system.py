"""Production defaults for the small ports: clock, ids, tokens and DNS."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

import attrs

from provisioning.exceptions import DnsUnavailable
from provisioning.model import DomainName

__all__ = ["SystemClock", "SystemDns", "SystemTokens", "UuidIds"]


@attrs.frozen
class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current instant."""
        return datetime.now(UTC)


@attrs.frozen
class UuidIds:
    """Random version-4 UUIDs as ids."""

    def new_id(self) -> str:
        """A fresh random id."""
        return str(uuid.uuid4())


@attrs.frozen
class SystemTokens:
    """Tokens from the operating system's cryptographic random source."""

    nbytes: int = 24

    def token(self) -> str:
        """A fresh URL-safe token of `nbytes` random bytes (192 bits by default)."""
        return secrets.token_urlsafe(self.nbytes)


@attrs.frozen
class SystemDns:
    """TXT look-ups through dnspython, when it is installed.

    dnspython is optional: without it every look-up raises `DnsUnavailable`,
    and a caller can pass any other `DnsResolver` to the context instead.
    """

    timeout: float = 5.0

    def txt_records(self, name: DomainName, /) -> list[str]:
        """The TXT values of `name`; none when the name has no TXT records."""
        try:
            import dns.exception  # noqa: PLC0415 - optional dependency, imported on use
            import dns.resolver  # noqa: PLC0415
        except ImportError:
            raise DnsUnavailable(name=name.ascii, reason="dnspython is not installed") from None
        try:
            answer = dns.resolver.resolve(name.ascii, "TXT", lifetime=self.timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as exc:
            raise DnsUnavailable(name=name.ascii, reason=type(exc).__name__) from None
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]
