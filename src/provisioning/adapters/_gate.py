"""The lock both stores hold for the length of a unit of work."""

from __future__ import annotations

import threading

from provisioning.exceptions import UsageError

__all__ = ["Gate", "closed_unit_of_work"]


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
