"""The workers' event loop: its selector waits as told, its thread's timer slack is 1 ns while
it runs. Durations are only checked from below (never early): how late a wake-up is belongs to
benchmarks/pacing_lag.py."""

from __future__ import annotations

import asyncio
import select
import selectors
import socket
import sys
import time
from collections.abc import Iterator

import pytest

from loadgen import eventloop
from loadgen.eventloop import MicrosecondEpollSelector, OnTimeEventLoop, new_event_loop
from loadgen.wakeups import TIMER_SLACK_NS, time_slice, timer_slack

linux = pytest.mark.skipif(sys.platform != "linux", reason="epoll and timer slack are Linux's")


@pytest.fixture
def selector() -> Iterator[MicrosecondEpollSelector]:
    chosen = MicrosecondEpollSelector()
    yield chosen
    chosen.close()


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    yield left, right
    left.close()
    right.close()


@linux
def test_the_workers_loop_is_on_time_with_the_microsecond_selector() -> None:
    loop = new_event_loop()
    try:
        assert isinstance(loop, OnTimeEventLoop)
        assert isinstance(loop._selector, MicrosecondEpollSelector)  # type: ignore[attr-defined]
    finally:
        loop.close()


@linux
@pytest.mark.parametrize("timeout", [None, 0.0, 0.0003, 5.0])
def test_select_returns_what_is_ready(
    selector: MicrosecondEpollSelector, pair: tuple[socket.socket, socket.socket], timeout: float
) -> None:
    left, right = pair
    key = selector.register(right, selectors.EVENT_READ, "data")
    left.send(b"x")
    assert selector.select(timeout) == [(key, selectors.EVENT_READ)]


@linux
@pytest.mark.parametrize("timeout", [0.0, 0.0003, 0.002])
def test_select_waits_at_least_its_timeout_when_nothing_is_ready(
    selector: MicrosecondEpollSelector, pair: tuple[socket.socket, socket.socket], timeout: float
) -> None:
    selector.register(pair[1], selectors.EVENT_READ)
    start = time.monotonic()
    assert selector.select(timeout) == []
    assert time.monotonic() - start >= timeout


@linux
def test_above_fd_setsize_it_waits_as_epoll_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eventloop, "FD_SETSIZE", 0)
    chosen = MicrosecondEpollSelector()
    monkeypatch.setattr(select, "select", None)  # would raise if called
    try:
        assert chosen.select(0.0003) == []
    finally:
        chosen.close()


@linux
def test_the_thread_wakes_promptly_while_the_loop_runs_and_as_before_after() -> None:
    before = (timer_slack(), time_slice())
    loop = new_event_loop()

    async def slack_inside() -> int | None:
        return timer_slack()

    try:
        assert loop.run_until_complete(slack_inside()) == TIMER_SLACK_NS
    finally:
        loop.close()
    assert (timer_slack(), time_slice()) == before


def test_a_sleep_on_the_loop_is_never_early() -> None:
    loop = new_event_loop()

    async def slept(delay: float) -> float:
        start = loop.time()
        await asyncio.sleep(delay)
        return loop.time() - start

    try:
        assert all(loop.run_until_complete(slept(d)) >= d for d in (0.0002, 0.0007, 0.003))
    finally:
        loop.close()
