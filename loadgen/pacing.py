"""The pacing loop: sends requests on an absolute schedule (open loop) or as callers free up
(closed loop). It sees only a `Target` and a `Recorder`, never a protocol library.

Open loop: request `i` is due at `t0 + offset_i`; a timer armed for then sends it, never one
armed `1 / rate` after the previous send, so a late request does not delay the next ones
(wrk2's coordinated-omission correction: latency is counted from the due time). How late each
request left is the generator's schedule lag.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Final

from loadgen.outcomes import judge
from loadgen.recorder import Recorder
from loadgen.settings import LoadSettings
from loadgen.stats import to_us
from loadgen.target import Target
from loadgen.workload import Request

TICK_SECONDS: Final = 0.1
#: Sends without a pause before the loop yields, so a generator running behind schedule still
#: reads responses between bursts.
MAX_BURST: Final = 16
#: After the last send, how long in-flight calls may still finish (beyond the call timeout).
DRAIN_GRACE: Final = 1.0


class Pacer:
    """Runs one worker's requests against `target`, from `t0` (a `time.monotonic()` value)."""

    def __init__(
        self,
        target: Target,
        recorder: Recorder,
        settings: LoadSettings,
        t0: float,
        should_stop: Callable[[], bool],
    ) -> None:
        self.target = target
        self.recorder = recorder
        self.settings = settings
        self.t0 = t0
        self.end = settings.warmup + settings.duration
        self.should_stop = should_stop
        self.stopped = False
        self.measure_marks: list[tuple[float, float]] = []  # (monotonic, cpu) at start/end
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, requests: Iterator[Request], callers: int = 0) -> float:
        """Send until the schedule ends or a stop is asked; return the stop offset."""
        self.stopped = self.should_stop()
        if self.settings.warmup == 0:
            self._mark()
        ticker = asyncio.create_task(self._tick())
        try:
            if self.settings.open_loop:
                await self._open_loop(requests)
            else:
                await asyncio.gather(*(self._caller(requests) for _ in range(callers)))
            stop_offset = min(time.monotonic() - self.t0, self.end)
            await self._drain()
        finally:
            ticker.cancel()
        self._mark()
        self.recorder.finish(stop_offset)
        return stop_offset

    async def _open_loop(self, requests: Iterator[Request]) -> None:
        finished = asyncio.get_running_loop().create_future()
        timers = _Timers(self, requests, finished)
        timers.fire()
        try:
            await finished
        finally:
            timers.cancel()

    def send(self, request: Request, due: float) -> None:
        """Send `request`, due at `due` (a `time.monotonic()` value), now."""
        second = self.recorder.second_of(request.offset)
        self.recorder.begin(second)
        sent = time.monotonic()
        if second >= 0:
            self.recorder.lag.record_value(to_us(sent - due))
        task = asyncio.get_running_loop().create_task(self._one(request, second, due, sent))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _caller(self, requests: Iterator[Request]) -> None:
        for request in requests:
            sent = time.monotonic()
            if sent - self.t0 >= self.end or self.stopped:
                return
            second = self.recorder.second_of(sent - self.t0)
            self.recorder.begin(second)
            await self._one(request, second, sent, sent)

    async def _one(self, request: Request, second: int, due: float, sent: float) -> None:
        reply = await self.target.call(request.service, request.op1, request.op2)
        done = time.monotonic()
        outcome, expected = judge(reply, request.service, request.op1, request.op2)
        self.recorder.record(
            second,
            request.service,
            done - due,
            done - sent,
            outcome,
            reply.code,
            expected,
            reply.replica,
        )

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            offset = time.monotonic() - self.t0
            if not self.measure_marks and offset >= self.settings.warmup:
                self._mark()
            self.recorder.flush(offset)
            if self.should_stop():
                self.stopped = True

    async def _drain(self) -> None:
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=self.settings.timeout + DRAIN_GRACE)
            for task in late:
                task.cancel()

    def _mark(self) -> None:
        self.measure_marks.append((time.monotonic(), time.process_time()))


class _Timers:
    """The open loop as a chain of timer callbacks, each armed for the next due time.

    A request is sent by the callback its timer runs, in the loop iteration that woke up for
    it; a coroutine sleeping until the due time would need one more iteration (and a future)
    per request. `finished` gets the end of the schedule, a stop, or the first error.
    """

    def __init__(
        self, pacer: Pacer, requests: Iterator[Request], finished: asyncio.Future[None]
    ) -> None:
        self.pacer = pacer
        self.requests = requests
        self.upcoming = next(requests, None)
        self.finished = finished
        self.timer: asyncio.TimerHandle | None = None

    def fire(self) -> None:
        try:
            self._send_due()
        except Exception as exc:  # raised where the open loop is awaited
            if not self.finished.done():
                self.finished.set_exception(exc)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()

    def _send_due(self) -> None:
        """Send what is due, then arm the timer for the next request: at most `TICK_SECONDS`
        ahead (to notice a stop), and after `MAX_BURST` sends at once for the next iteration."""
        pacer, burst = self.pacer, 0
        while (request := self.upcoming) is not None and request.offset < pacer.end:
            due = pacer.t0 + request.offset
            now = time.monotonic()
            if pacer.stopped:
                break
            if due > now or burst == MAX_BURST:
                wake = min(due, now + TICK_SECONDS)
                self.timer = asyncio.get_running_loop().call_at(wake, self.fire)
                return
            pacer.send(request, due)
            burst += 1
            self.upcoming = next(self.requests, None)
        self.timer = None
        if not self.finished.done():
            self.finished.set_result(None)
