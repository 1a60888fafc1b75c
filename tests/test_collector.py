"""Asked to, a large batch looks for reference cycles less often, and gives the thresholds back."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from conftest import OPERATOR
from provisioning import Context, CreateAccount, plan
from provisioning.engine import _collector as collector
from provisioning.engine._collector import LARGE, collecting_less, fewer_collections


@pytest.fixture(autouse=True)
def asked() -> Iterator[None]:
    """As the command line asks, around each of its commands."""
    with collecting_less():
        yield


def test_a_library_call_leaves_the_collector_alone_unless_asked(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(gc, "set_threshold", lambda *values: seen.append(values))
    commands = [CreateAccount(name=f"Tenant {n}") for n in range(LARGE)]
    with _collector_released():
        plan(ctx, OPERATOR, commands)
    assert seen == []  # the process's thresholds, untouched
    plan(ctx, OPERATOR, commands)  # inside `collecting_less` (the fixture): raised, given back
    assert seen[-1] == before
    assert len(seen) == 2


@contextmanager
def _collector_released() -> Iterator[None]:
    """Outside the fixture's `collecting_less`, as an application that did not ask."""
    collector._asked -= 1
    try:
        yield
    finally:
        collector._asked += 1


def test_a_small_batch_leaves_the_collector_alone() -> None:
    before = gc.get_threshold()
    with fewer_collections(LARGE - 1):
        assert gc.get_threshold() == before
    assert gc.get_threshold() == before


def test_a_large_batch_raises_the_first_threshold_and_restores_all_three() -> None:
    before = gc.get_threshold()
    with fewer_collections(LARGE):
        during = gc.get_threshold()
        assert during[0] > before[0]
        assert during[1:] == before[1:]
    assert gc.get_threshold() == before


def test_the_thresholds_come_back_after_an_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections(LARGE):
        raise RuntimeError
    assert gc.get_threshold() == before


def test_overlapping_batches_restore_only_when_the_last_one_ends() -> None:
    before = gc.get_threshold()
    first_in, second_done, raised = threading.Event(), threading.Event(), []

    def second() -> None:
        first_in.wait()
        with fewer_collections(LARGE):
            pass
        raised.append(gc.get_threshold())
        second_done.set()

    worker = threading.Thread(target=second)
    worker.start()
    with fewer_collections(LARGE):
        first_in.set()
        second_done.wait()
        assert raised == [gc.get_threshold()]  # the second's end kept the first's setting
        assert raised[0] != before
    worker.join()
    assert gc.get_threshold() == before
