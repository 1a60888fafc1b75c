"""The lock both stores hold for the length of a unit of work."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from provisioning.errors import UsageError, codes

__all__ = ["Gate", "closed_unit_of_work", "read_only_unit_of_work"]

CODES: Final = codes(
    usage=(
        "store.closed_unit_of_work",
        "store.nested_unit_of_work",
        "store.read_only",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


class Gate:
    """Lets one unit of work at a time through, and refuses a thread that already holds it.

    A plain lock would deadlock when a thread opened a second unit of work on
    the same store; the gate raises `UsageError` instead.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def acquire(self) -> None:
        """Wait for the gate; raise if this thread already holds it."""
        me = threading.get_ident()
        if self._owner == me:
            raise UsageError(
                code="store.nested_unit_of_work",
                reason="this thread already has a unit of work open on this store",
            )
        self._lock.acquire()
        self._owner = me

    def release(self) -> None:
        """Let the next unit of work through."""
        self._owner = None
        self._lock.release()

    def held(self) -> bool:
        """Whether this thread holds the gate."""
        return self._owner == threading.get_ident()

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Hold the gate for one read, unless this thread holds it already."""
        if self._owner == threading.get_ident():
            yield
            return
        with self._lock:
            yield

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def closed_unit_of_work() -> UsageError:
    """The error for a repository used outside its unit of work's `with` block."""
    return UsageError(
        code="store.closed_unit_of_work",
        reason="use the unit of work inside its `with` block",
    )


def read_only_unit_of_work() -> UsageError:
    """The error for a write through a snapshot."""
    return UsageError(
        code="store.read_only",
        reason="a snapshot is for reading: write in a unit of work",
    )
