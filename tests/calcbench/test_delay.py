"""`sleep_at_least`: `--delay` is a lower bound even when the event loop's timers fire early."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextvars import Context
from typing import Any, TypeVarTuple

from calcbench.core.delay import sleep_at_least

DELAY = 0.2
Ts = TypeVarTuple("Ts")


class _EarlyTimerLoop(asyncio.SelectorEventLoop):
    """A loop whose timers fire after a tenth of their delay: uvloop's millisecond timers,
    which may fire up to ~1 ms early, made far worse."""

    def call_at(
        self,
        when: float,
        callback: Callable[[*Ts], object],
        *args: *Ts,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        now = self.time()
        return super().call_at(now + (when - now) / 10, callback, *args, context=context)


def _elapsed(seconds: float, wait: Any = sleep_at_least) -> float:
    async def timed() -> float:
        started = time.perf_counter()
        await wait(seconds)
        return time.perf_counter() - started

    with asyncio.Runner(loop_factory=_EarlyTimerLoop) as runner:
        return runner.run(timed())


def test_the_loop_fires_timers_early() -> None:
    # A plain sleep returns after ~20 ms: below DELAY unless the loop's thread waits 180 ms
    # for a core, far more than a busy 2-core machine makes a woken thread wait.
    assert _elapsed(DELAY, asyncio.sleep) < DELAY


def test_an_early_timer_is_slept_again_until_the_delay_has_passed() -> None:
    # A lower bound by construction, not by the scheduler: a busy machine only waits longer.
    for seconds in (DELAY, 0.003):
        assert _elapsed(seconds) >= seconds


def test_no_wait_for_nothing() -> None:
    asyncio.run(sleep_at_least(0.0))
    asyncio.run(sleep_at_least(-1.0))  # returns at once, without sleeping a negative time
