"""Production defaults for the small ports: the system clock and random ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import attrs

__all__ = ["SystemClock", "UuidIds"]


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
