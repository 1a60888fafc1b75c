"""Work done on another core, in a forked child process, for a large batch's dry run.

The parts of a batch planned in parts (`workflow.plan_parts`) are checked
against the store independently of one another, so several processes can
check them at once. A child made with `fork` starts with the parent's memory
as it is: the commands, the context, a memory store's rows. It reads the
store through its own connections, checks its parts, sends back what it
found through a pipe and exits; it writes nothing anywhere.

Forking is only safe in some processes, so it is only done where it is:
on Linux, in a process running one thread as the system counts them (a
lock another thread holds at the fork, the allocator's say, would stay held
in the child forever), over a store that says a child may read it
(`ports.ForkReadable`), and by default only with more than one core to use.
Anywhere else, and whenever a child fails for any reason, the parent does
the work itself: the answer never depends on where it was computed.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Generic, TypeVar

import attrs

from provisioning.ports import ForkReadable, Store

__all__ = ["Child", "cores", "start"]

logger = logging.getLogger("provisioning")

_T = TypeVar("_T")


def cores(store: Store, wanted: int | None, tasks: int) -> int:
    """How many processes may share `tasks` pieces of work over `store`: 1 means no child.

    `wanted` None uses every core this process may run on; 1 (or less) only
    this one; another number that many processes, where forking is safe.
    """
    if (wanted is not None and wanted <= 1) or tasks <= 1:
        return 1
    if sys.platform != "linux" or _threads() != 1:
        return 1
    if not isinstance(store, ForkReadable) or store.forked_reads() is None:
        return 1
    return min(len(os.sched_getaffinity(0)) if wanted is None else wanted, tasks)


def _threads() -> int:
    """The threads of this process: the system's count, so a C library's threads count too."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        status = ""
    for line in status.splitlines():
        if line.startswith("Threads:"):
            return max(int(line.split()[1]), threading.active_count())
    return threading.active_count()


@attrs.define
class Child(Generic[_T]):
    """A forked child computing one value; `result()` waits for it (None if it failed)."""

    pid: int
    _pipe: int = attrs.field(alias="pipe")
    _done: bool = attrs.field(default=False, init=False)

    def result(self) -> _T | None:
        """The child's value once it has exited, or None if it failed, died or sent nonsense."""
        with os.fdopen(self._pipe, "rb") as pipe:
            data = pipe.read()
        self._reap()
        try:
            # Our own fork sent it, through a pipe only the two of us hold.
            kind, value = pickle.loads(data)  # noqa: S301
        except Exception:  # noqa: BLE001 - a child that died mid-way: the parent does its work
            logger.warning("a child process checking part of a batch sent nothing usable")
            return None
        if kind != "ok":
            logger.warning("a child process checking part of a batch failed: %s", value)
            return None
        return value  # type: ignore[no-any-return]

    def stop(self) -> None:
        """End the child without waiting for its value (the parent is giving up)."""
        if self._done:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):  # read and closed already, if it got that far
            os.close(self._pipe)
        self._reap()

    def _reap(self) -> None:
        if not self._done:
            self._done = True
            os.waitpid(self.pid, 0)


def start(
    work: Callable[[], _T], reads: Callable[[], AbstractContextManager[None] | None]
) -> Child[_T] | None:
    """Fork a child that computes `work()` within `reads()` and sends it back; None if none.

    `reads()` (the store's `forked_reads`) is entered in the child before the
    work. The child leaves through `os._exit`: no exit handler, buffer or
    connection finalizer of the parent's runs twice.
    """
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child
        status = 1
        try:
            os.close(read)
            gc.freeze()  # leave the parent's objects where they are: fewer pages copied
            opened = reads()
            if opened is None:
                payload = pickle.dumps(("failed", "the store cannot be read from a child"))
            else:
                with opened:
                    payload = pickle.dumps(("ok", work()), protocol=pickle.HIGHEST_PROTOCOL)
                status = 0
        except BaseException as exc:  # noqa: BLE001 - whatever it is, the parent does the work
            payload = pickle.dumps(("failed", type(exc).__name__))
        try:
            with os.fdopen(write, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(status)
    os.close(write)
    return Child(pid, pipe=read)
