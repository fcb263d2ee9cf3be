"""The open loop against a target that only notes when it was called: every request leaves,
in order, never before it is due; the end of the schedule, a stop and an error end it. Times
are only checked from below: how late requests leave belongs to benchmarks/pacing_lag.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

from loadgen.eventloop import new_event_loop
from loadgen.outcomes import Reply
from loadgen.pacing import MAX_BURST, Pacer
from loadgen.recorder import Recorder
from loadgen.settings import LoadSettings
from loadgen.workload import Request


class NotingTarget:
    """Answers every addition at once; `calls` holds (request number, time.monotonic())."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, float]] = []

    async def connect(self) -> None:
        pass

    async def call(self, service: str, op1: float, op2: float) -> Reply:
        self.calls.append((int(op1), time.monotonic()))
        return Reply("ok", "200", op1 + op2)

    async def close(self) -> None:
        pass


def schedule(count: int, spacing: float) -> list[Request]:
    return [Request(i, i * spacing, "addition", float(i), 0.0) for i in range(count)]


def run_open_loop(
    requests: Iterator[Request],
    duration: float = 1.0,
    start_in: float = 0.01,
    target: NotingTarget | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    during: Callable[[Pacer], None] = lambda _pacer: None,
) -> tuple[Pacer, NotingTarget]:
    """Run the pacer from `start_in` seconds from now (negative: already behind); `during` is
    called in the loop just before the pacer starts."""
    target = target or NotingTarget()
    settings = LoadSettings(protocol="rest", rate=100, duration=duration, warmup=0)
    recorder = Recorder(settings.warmup, settings.duration, lambda _stats: None)
    loop = new_event_loop()

    async def scenario() -> Pacer:
        pacer = Pacer(target, recorder, settings, time.monotonic() + start_in, should_stop)
        during(pacer)
        await pacer.run(requests)
        return pacer

    try:
        return loop.run_until_complete(scenario()), target
    finally:
        loop.close()


def test_every_request_leaves_in_order_and_never_before_it_is_due() -> None:
    requests = schedule(50, 0.002)
    pacer, target = run_open_loop(iter(requests))
    assert [number for number, _ in target.calls] == list(range(50))
    for number, called in target.calls:
        assert called >= pacer.t0 + requests[number].offset
    assert pacer.recorder.lag.get_total_count() == 50


def test_requests_due_at_or_after_the_end_stay_unsent() -> None:
    _, target = run_open_loop(iter(schedule(10, 0.02)), duration=0.1)
    assert [number for number, _ in target.calls] == [0, 1, 2, 3, 4]


def test_a_stop_asked_before_the_start_sends_nothing() -> None:
    pacer, target = run_open_loop(iter(schedule(10, 0.01)), should_stop=lambda: True)
    assert pacer.stopped
    assert target.calls == []


def test_a_stop_during_the_run_ends_it() -> None:
    target = NotingTarget()
    pacer, _ = run_open_loop(
        iter(schedule(600, 0.005)),
        duration=3.0,
        target=target,
        should_stop=lambda: len(target.calls) >= 5,
    )
    assert pacer.stopped
    assert 5 <= len(target.calls) < 600


def test_behind_schedule_it_sends_at_most_max_burst_per_loop_iteration() -> None:
    sent_per_iteration: list[int] = []

    def count_iterations(pacer: Pacer) -> None:
        loop = asyncio.get_running_loop()
        last = [0]

        def note() -> None:
            sent = pacer.recorder.lag.get_total_count()
            sent_per_iteration.append(sent - last[0])
            last[0] = sent
            if sent < 40:
                loop.call_soon(note)

        loop.call_soon(note)

    _, target = run_open_loop(iter(schedule(40, 0.001)), start_in=-1.0, during=count_iterations)
    assert len(target.calls) == 40
    assert max(sent_per_iteration) <= MAX_BURST


def test_an_error_in_the_schedule_is_raised_by_run() -> None:
    def broken() -> Iterator[Request]:
        yield from schedule(3, 0.001)
        raise ValueError("no more")

    with pytest.raises(ValueError, match="no more"):
        run_open_loop(broken())
