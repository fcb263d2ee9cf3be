"""The services' calculations: the local arithmetic, percentage over a downstream, `--delay`.

Both twins (async and sync) run the same table, so the servers built on them agree.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

import pytest

from calcbench.core.arithmetic import InvalidArgument, compute
from calcbench.core.calculation import (
    InjectedError,
    calculation,
    delayed,
    failing,
    local,
    sync_calculation,
    sync_delayed,
    sync_failing,
)
from calcbench.core.vocabulary import SERVICES

INF = math.inf
Answer = float | str  # a result, or the message of an InvalidArgument


def _network(answers: dict[str, float] | None = None) -> tuple[Callable[..., float], list[Any]]:
    """A downstream `call` computing locally (or answering from `answers`), and its log."""
    log: list[Any] = []

    def call(service: str, op1: float, op2: float, context: Any) -> float:
        log.append((service, op1, op2, context))
        if answers and service in answers:
            return answers[service]
        return compute(service, op1, op2)

    return call, log


def _both(service: str, op1: float, op2: float, call: Callable[..., float] | None) -> set[Answer]:
    """The answers of the async and the sync calculation (one element when they agree)."""

    async def async_call(*args: Any) -> float:
        assert call is not None
        return call(*args)

    async def calculate_async() -> float:
        return await calculation(service, async_call if call else None)(op1, op2)

    def run_async() -> float:
        return asyncio.run(calculate_async())

    def run_sync() -> float:
        return sync_calculation(service, call)(op1, op2)

    answers: set[Answer] = set()
    for run in (run_async, run_sync):
        try:
            answers.add(run())
        except InvalidArgument as exc:
            answers.add(str(exc))
    return answers


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "percentage"])
@pytest.mark.parametrize(
    ("op1", "op2"), [(7, 2), (-1.5, 4), (1, 0), (INF, 1), (1, math.nan), (1e200, 1e200)]
)
def test_the_local_arithmetic_is_compute(service: str, op1: float, op2: float) -> None:
    try:
        expected: Answer = compute(service, op1, op2)
    except InvalidArgument as exc:
        expected = str(exc)
    assert _both(service, op1, op2, None) == {expected}


@pytest.mark.parametrize(
    ("op1", "op2", "answers", "expected"),
    [
        (200, 15, None, 30.0),
        (-8, 12.5, None, -1.0),
        (INF, 2, None, "operands must be finite numbers"),
        (1e200, 1e200, None, "result is not a finite number"),  # multiplication refuses it
        # A downstream answering a number that is not finite: checked here, the same in both.
        (1, 2, {"division": INF}, "result is not a finite number"),
        (1, 2, {"division": math.nan}, "result is not a finite number"),
    ],
)
def test_percentage_over_its_downstreams(
    op1: float, op2: float, answers: dict[str, float] | None, expected: Answer
) -> None:
    call, _ = _network(answers)
    assert _both("percentage", op1, op2, call) == {expected}


def test_percentage_multiplies_then_divides_by_100_passing_the_context_on() -> None:
    call, log = _network()
    assert sync_calculation("percentage", call)(50, 30, "ctx") == 15.0
    assert log == [("multiplication", 50, 30, "ctx"), ("division", 1500.0, 100.0, "ctx")]


def test_invalid_operands_never_reach_a_downstream() -> None:
    call, log = _network()
    with pytest.raises(InvalidArgument):
        sync_calculation("percentage", call)(INF, 1)
    assert log == []


def test_percentage_needs_a_call() -> None:
    for build in (calculation, sync_calculation):
        with pytest.raises(ValueError, match="percentage needs a call"):
            build("percentage")


def _add(op1: float, op2: float, context: Any = None, /) -> float:
    return op1 + op2


async def _add_async(op1: float, op2: float, context: Any = None, /) -> float:
    return op1 + op2


def test_no_delay_leaves_the_calculation_untouched() -> None:
    assert sync_delayed(_add, 0.0) is _add
    assert delayed(_add_async, 0.0) is _add_async


def test_a_delay_is_waited_before_the_calculation() -> None:
    seconds = 0.01
    slow, slow_async = sync_delayed(_add, seconds), delayed(_add_async, seconds)

    async def run_async() -> float:
        return await slow_async(1, 2)

    def run_sync() -> float:
        return slow(1, 2)

    for run in (run_sync, lambda: asyncio.run(run_async())):
        started = time.perf_counter()
        # A lower bound by construction (time.sleep and sleep_at_least never end early by
        # perf_counter); a busy machine only makes the wait longer.
        assert run() == 3 and time.perf_counter() - started >= seconds


def test_a_delayed_invalid_argument_waits_too() -> None:
    slow = sync_calculation("division", delay=0.01)
    started = time.perf_counter()
    with pytest.raises(InvalidArgument, match="division by zero"):
        slow(1, 0)
    assert time.perf_counter() - started >= 0.01


def test_the_local_calculation_is_bound_once() -> None:
    with pytest.raises(KeyError, match="unknown service 'modulo'"):
        local("modulo")


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_no_error_rate_leaves_the_calculation_untouched(rate: float) -> None:
    calculate = local("addition")
    assert sync_failing(calculate, rate, "addition-0") is calculate
    steps = calculation("addition")
    assert failing(steps, rate, "addition-0") is steps


def _sync_pattern(rate: float, seed: str, calls: int = 50) -> list[bool]:
    calculate = sync_calculation("addition", error_rate=rate, seed=seed)
    pattern = []
    for _ in range(calls):
        try:
            calculate(1.0, 2.0)
            pattern.append(False)
        except InjectedError:
            pattern.append(True)
    return pattern


async def _async_pattern(rate: float, seed: str, calls: int = 50) -> list[bool]:
    calculate = calculation("addition", error_rate=rate, seed=seed)
    pattern = []
    for _ in range(calls):
        try:
            await calculate(1.0, 2.0)
            pattern.append(False)
        except InjectedError:
            pattern.append(True)
    return pattern


def test_both_twins_fail_the_same_seeded_calls() -> None:
    pattern = _sync_pattern(0.3, "addition-0")
    assert pattern == asyncio.run(_async_pattern(0.3, "addition-0"))
    assert pattern == _sync_pattern(0.3, "addition-0")  # the same again: seeded, not random
    assert True in pattern and False in pattern
    assert all(_sync_pattern(1.0, "x")) and not any(_sync_pattern(0.0, "x"))
