"""One worker: its own event loop, connections, share of the schedule and statistics.

`run_worker` is the same coroutine whether the worker runs in the caller's process
(`--workers 1`) or in a worker process (`worker_process`, talking to the parent over a queue).
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from calcbench.core.endpoints import Endpoints
from loadgen.health import WorkerUsage
from loadgen.pacing import Pacer
from loadgen.recorder import Recorder, SecondStats
from loadgen.settings import LoadSettings
from loadgen.stats import Histogram, Tally, decode, encode
from loadgen.targets import make_target
from loadgen.workload import requests


@dataclass
class WorkerResult:
    worker: int
    measured: Tally
    warmup: Tally
    lag: Histogram
    usage: WorkerUsage
    stop_offset: float
    stopped: bool

    def to_wire(self) -> dict[str, Any]:
        return {
            "worker": self.worker,
            "measured": self.measured.to_wire(),
            "warmup": self.warmup.to_wire(),
            "lag": encode(self.lag),
            "usage": (self.usage.cpu_seconds, self.usage.wall_seconds),
            "stop_offset": self.stop_offset,
            "stopped": self.stopped,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> WorkerResult:
        return cls(
            worker=data["worker"],
            measured=Tally.from_wire(data["measured"]),
            warmup=Tally.from_wire(data["warmup"]),
            lag=decode(data["lag"]),
            usage=WorkerUsage(*data["usage"]),
            stop_offset=data["stop_offset"],
            stopped=data["stopped"],
        )


def callers_of(settings: LoadSettings, worker: int) -> int:
    """This worker's share of the closed loop's callers (0 for an open loop)."""
    if settings.concurrency is None:
        return 0
    share, extra = divmod(settings.concurrency, settings.workers)
    return share + (1 if worker < extra else 0)


async def run_worker(
    settings: LoadSettings,
    endpoints: Endpoints,
    worker: int,
    emit: Callable[[SecondStats], None],
    wait_start: Callable[[], Awaitable[float]],
    should_stop: Callable[[], bool],
) -> WorkerResult:
    """Connect, wait for the common start time `t0`, run the schedule, return the tallies."""
    target = make_target(settings, endpoints)
    try:
        await target.connect()
        with frozen_heap():
            t0 = await wait_start()
            recorder = Recorder(settings.warmup, settings.duration, emit)
            pacer = Pacer(target, recorder, settings, t0, should_stop)
            mine = requests(settings, worker, settings.workers)
            stop_offset = await pacer.run(mine, callers_of(settings, worker))
    finally:
        await target.close()
    return WorkerResult(
        worker,
        recorder.measured,
        recorder.warmup,
        recorder.lag,
        _usage(pacer.measure_marks),
        stop_offset,
        pacer.stopped,
    )


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Objects alive when the block starts are left out of garbage collections until it ends.

    A full collection walks every tracked object (~60,000 once grpc, aiohttp (the REST client
    when this was measured) and numpy are imported): 12-16 ms with the loop stopped, which sent
    some 30 requests late at a time at 2,000 requests/s. Collected first, so no garbage is kept
    for the block's duration.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _usage(marks: list[tuple[float, float]]) -> WorkerUsage:
    if len(marks) < 2:
        return WorkerUsage(0.0, 0.0)
    (wall0, cpu0), (wall1, cpu1) = marks[0], marks[-1]
    return WorkerUsage(cpu1 - cpu0, wall1 - wall0)
