"""Production defaults for the small ports: clock, ids, tokens and DNS."""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime

import attrs

from provisioning.errors import DnsUnavailable
from provisioning.model import DomainName

_COUNTER_MAX = 0xFFF  # the 12 bits of a version-7 UUID's sub-millisecond counter

__all__ = ["SystemClock", "SystemDns", "SystemTokens", "TimeOrderedIds", "UuidIds"]


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


@attrs.define
class TimeOrderedIds:
    """Version-7 UUIDs (RFC 9562): a millisecond timestamp, then randomness.

    Ids made later sort later, so new rows land at the end of a database's
    indexes instead of all over them. Within one millisecond a counter in
    the random bits keeps them increasing.

    Examples:
        >>> ids = TimeOrderedIds()
        >>> first, second = ids.new_id(), ids.new_id()
        >>> first < second, first[14]
        (True, '7')
    """

    _last: tuple[int, int] = attrs.field(init=False, default=(0, 0))
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock)

    def new_id(self) -> str:
        """A fresh id, greater than every id this source made before."""
        random = int.from_bytes(os.urandom(10))  # 62 bits for the tail, 12 for a new counter
        with self._lock:
            millis = time.time_ns() // 1_000_000
            last_millis, last_counter = self._last
            if millis <= last_millis:
                millis, counter = last_millis, last_counter + 1
                if counter > _COUNTER_MAX:  # 4,096 ids in one millisecond: borrow the next one
                    millis, counter = millis + 1, 0
            else:
                counter = random >> 68
            self._last = (millis, counter)
        value = (millis & (1 << 48) - 1) << 80
        value |= 0x7 << 76 | counter << 64
        value |= 0b10 << 62 | random & (1 << 62) - 1
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


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
