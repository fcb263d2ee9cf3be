"""Per-thread wake-up settings: set inside `prompt_wakeups`, put back after, nothing else
changed. Each test runs in a thread of its own, so pytest's thread keeps its settings."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

from loadgen.wakeups import (
    SLICE_NS,
    TIMER_SLACK_NS,
    prompt_wakeups,
    realtime_permitted,
    realtime_thread,
    set_time_slice,
    time_slice,
    timer_slack,
)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="per-thread settings of Linux")


def in_thread(function: Callable[[], Any]) -> Any:
    """`function()` in a new thread; its result, or its exception raised here."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("ok", function()))
        except BaseException as exc:
            outcome.append(("raised", exc))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    kind, value = outcome[0]
    if kind == "raised":
        raise value
    return value


def settings() -> tuple[int | None, int | None]:
    return timer_slack(), time_slice()


def test_prompt_wakeups_sets_both_and_puts_them_back() -> None:
    def around() -> tuple[tuple[int | None, ...], ...]:
        before = settings()
        with prompt_wakeups():
            inside = settings()
        return before, inside, settings()

    before, inside, after = in_thread(around)
    assert inside[0] == TIMER_SLACK_NS
    if before[1] is None:  # not a fair policy, or not readable here: nothing to check
        return
    assert after == before  # the thread had the default slice, as every new thread
    if inside[1] != before[1]:  # kernels before 6.12 keep their slice
        assert inside[1] == SLICE_NS


def test_the_slice_keeps_the_thread_nice_value() -> None:
    def niced() -> tuple[bool, int]:
        os.nice(1)  # this thread only, on Linux
        return set_time_slice(SLICE_NS), os.getpriority(os.PRIO_PROCESS, 0)

    was_set, nice = in_thread(niced)
    if was_set:
        assert nice == 1


def test_a_realtime_thread_is_fifo_inside_fair_after_and_its_threads_stay_fair() -> None:
    def around() -> tuple[int, int, int]:
        with realtime_thread(True):
            inside = os.sched_getscheduler(0)
            started: list[int] = []
            child = threading.Thread(target=lambda: started.append(os.sched_getscheduler(0)))
            child.start()
            child.join()
        return inside, started[0], os.sched_getscheduler(0)

    if not in_thread(realtime_permitted):  # an unprivileged run: refused, and says why
        with pytest.raises(PermissionError, match="CAP_SYS_NICE"):
            in_thread(around)
        return
    inside, child, after = in_thread(around)
    assert inside & ~os.SCHED_RESET_ON_FORK == os.SCHED_FIFO
    assert child == os.SCHED_OTHER and after == os.SCHED_OTHER


def test_realtime_off_changes_nothing() -> None:
    def around() -> int:
        with realtime_thread(False):
            return os.sched_getscheduler(0)

    assert in_thread(around) == os.SCHED_OTHER
