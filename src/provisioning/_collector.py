"""Fewer garbage collections while a large batch builds the objects it keeps.

A batch keeps nearly everything it allocates (its rows, their changes, their
audit events) until it ends. Python's cyclic collector examines the young
objects every 700 allocations and finds nothing to free: on a plan of 10,000
users that was a quarter of the time. While at least one large batch runs, the
first threshold is raised, and the thresholds the process had are restored
when the last one ends. Reference counting still frees everything it frees
at once; only the search for cycles waits longer.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

__all__ = ["fewer_collections"]

LARGE: Final = 1_000
"""From this many commands or rows a batch collects less often."""
_FIRST_THRESHOLD: Final = 50_000

_lock = threading.Lock()
_running = 0
_saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def fewer_collections(size: int) -> Iterator[None]:
    """Within the block, look for cycles less often if a batch of `size` items is large."""
    global _running, _saved  # noqa: PLW0603 - one process-wide setting, counted under a lock
    if size < LARGE:
        yield
        return
    with _lock:
        if _running == 0:
            _saved = gc.get_threshold()
            first, *rest = _saved
            gc.set_threshold(max(first, _FIRST_THRESHOLD), *rest)
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.set_threshold(*_saved)
