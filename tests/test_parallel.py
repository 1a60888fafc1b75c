"""Work on another core: when a child process is used, and what a failing child leaves."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest

from provisioning.adapters.memory import MemoryStore
from provisioning.adapters.sql import SqliteStore
from provisioning.engine import _parallel
from provisioning.ports import Store


class _Plain:
    """A store that does not say whether a child may read it."""

    def unit_of_work(self) -> object:
        raise NotImplementedError

    def snapshot(self) -> object:
        raise NotImplementedError


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "forked.db")
    yield store
    store.close()


def test_a_child_is_used_only_where_forking_is_safe(sqlite_file: SqliteStore) -> None:
    memory = MemoryStore()
    assert _parallel.cores(memory, 2, tasks=8) == 2
    assert _parallel.cores(sqlite_file, 3, tasks=8) == 3
    assert _parallel.cores(memory, 4, tasks=2) == 2  # no more processes than pieces of work
    assert _parallel.cores(memory, 1, tasks=8) == 1
    assert _parallel.cores(memory, 2, tasks=1) == 1
    in_memory = SqliteStore(":memory:")  # one connection, which a child cannot share
    try:
        assert _parallel.cores(in_memory, 2, tasks=8) == 1
    finally:
        in_memory.close()
    plain: Store = _Plain()  # type: ignore[assignment]
    assert _parallel.cores(plain, 2, tasks=8) == 1
    assert _parallel.cores(memory, None, tasks=64) == min(len(os.sched_getaffinity(0)), 64)


def test_no_child_while_another_thread_runs() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _parallel.cores(MemoryStore(), 2, tasks=8) == 1
    finally:
        stop.set()
        other.join()


def test_a_child_sends_its_value_back() -> None:
    child = _parallel.start(lambda: {"pid": os.getpid(), "sum": sum(range(10))}, nullcontext)
    assert child is not None
    value = child.result()
    assert value is not None
    assert value["sum"] == 45
    assert value["pid"] != os.getpid()
    child.stop()  # after its value: nothing left to do


def test_a_child_that_fails_or_dies_sends_nothing(caplog: pytest.LogCaptureFixture) -> None:
    def fails() -> int:
        raise ValueError

    failing = _parallel.start(fails, nullcontext)
    assert failing is not None
    assert failing.result() is None
    assert "failed: ValueError" in caplog.text

    def dies() -> int:
        os.kill(os.getpid(), signal.SIGKILL)
        return 1

    dying = _parallel.start(dies, nullcontext)
    assert dying is not None
    assert dying.result() is None
    assert "sent nothing usable" in caplog.text

    refused = _parallel.start(lambda: 1, lambda: None)  # a store no child can read
    assert refused is not None
    assert refused.result() is None


def test_a_child_given_up_on_is_ended() -> None:
    child = _parallel.start(lambda: threading.Event().wait(60), nullcontext)
    assert child is not None
    child.stop()
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)  # reaped already
