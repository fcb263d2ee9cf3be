"""Worker processes (`--workers W > 1`): each runs `run_worker` on its own event loop and sends
its seconds and final tallies to the parent over one queue.

Processes are spawned, not forked: the parent may hold gRPC or server threads, which do not
survive a fork. They start together at a `t0` the parent sets once every worker has connected.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from typing import Any, Final

from calcbench.core.endpoints import Endpoints
from loadgen.eventloop import new_event_loop
from loadgen.recorder import SecondStats
from loadgen.settings import LoadSettings
from loadgen.worker import WorkerResult, run_worker

READY_SECONDS: Final = 30.0
_CONTEXT: Final = multiprocessing.get_context("spawn")


def worker_process(
    settings: LoadSettings,
    endpoints: Endpoints,
    worker: int,
    channel: Any,
    start: Any,
    t0: Any,
    stop: Any,
) -> None:
    """Entry point of a worker process (arguments are multiprocessing primitives)."""
    asked = [False]

    def ask_stop(_signum: int, _frame: object) -> None:
        asked[0] = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, ask_stop)

    async def wait_start() -> float:
        channel.put(("ready", worker, None))
        while not start.is_set():
            await asyncio.sleep(0.002)
        return float(t0.value)

    def emit(stats: SecondStats) -> None:
        channel.put(("second", worker, stats.to_wire()))

    loop = new_event_loop(settings.realtime)
    try:
        coroutine = run_worker(
            settings, endpoints, worker, emit, wait_start, lambda: asked[0] or stop.is_set()
        )
        result = loop.run_until_complete(coroutine)
        channel.put(("done", worker, result.to_wire()))
    except Exception as exc:
        channel.put(("failed", worker, f"{type(exc).__name__}: {exc}"))
    finally:
        loop.close()


@dataclass
class WorkerPool:
    """The parent's handle on the worker processes."""

    settings: LoadSettings
    endpoints: Endpoints
    processes: list[SpawnProcess] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    results: list[WorkerResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.channel = _CONTEXT.Queue()
        self.start_event = _CONTEXT.Event()
        self.stop_event = _CONTEXT.Event()
        self.t0 = _CONTEXT.Value("d", 0.0)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    def spawn(self) -> None:
        for worker in range(self.settings.workers):
            args = (
                self.settings,
                self.endpoints,
                worker,
                self.channel,
                self.start_event,
                self.t0,
                self.stop_event,
            )
            process = _CONTEXT.Process(target=worker_process, args=args, daemon=True)
            process.start()
            self.processes.append(process)

    def wait_ready(self, should_stop: Callable[[], bool]) -> bool:
        """Wait until every worker has connected; False if one failed or a stop was asked."""
        ready = 0
        deadline = time.monotonic() + READY_SECONDS
        while ready < len(self.processes) and not self.failures:
            if should_stop():
                return False
            if time.monotonic() > deadline:
                self.failures.append(f"workers not ready within {READY_SECONDS:g} s")
            message = self._next(0.1)
            if message is None:
                dead = [(i, p) for i, p in enumerate(self.processes) if not p.is_alive()]
                self.failures += [f"worker {i} exited early (code {p.exitcode})" for i, p in dead]
                continue
            kind, worker, payload = message
            ready += kind == "ready"
            if kind == "failed":
                self.failures.append(f"worker {worker} failed: {payload}")
        return not self.failures

    def start(self, t0: float) -> None:
        self.t0.value = t0
        self.start_event.set()

    def collect(
        self, on_second: Callable[[SecondStats], None], should_stop: Callable[[], bool]
    ) -> None:
        """Pass on seconds until every worker has reported its end (or died)."""
        done: set[int] = set()
        while len(done) < len(self.processes):
            if should_stop():
                self.stop_event.set()
            message = self._next(0.1)
            if message is not None:
                self._handle(message, on_second, done)
                continue
            dead = {i for i, p in enumerate(self.processes) if not p.is_alive()} - done
            if dead:
                # A dead worker's last messages may still be in the pipe: read them first.
                while (message := self._next(0.2)) is not None:
                    self._handle(message, on_second, done)
                for worker in dead - done:
                    self.failures.append(f"worker {worker} exited without a result")
                done |= dead

    def _handle(
        self,
        message: tuple[str, int, Any],
        on_second: Callable[[SecondStats], None],
        done: set[int],
    ) -> None:
        kind, worker, payload = message
        if kind == "second":
            on_second(SecondStats.from_wire(payload))
        elif kind == "done":
            self.results.append(WorkerResult.from_wire(payload))
            done.add(worker)
        elif kind == "failed":
            self.failures.append(f"worker {worker} failed: {payload}")
            done.add(worker)

    def _next(self, timeout: float) -> tuple[str, int, Any] | None:
        try:
            message: tuple[str, int, Any] = self.channel.get(timeout=timeout)
        except queue.Empty:
            return None
        return message

    def close(self) -> None:
        self.stop_event.set()
        if not self.start_event.is_set():
            self.start(time.monotonic())
        for process in self.processes:
            process.join(timeout=5.0)
            if process.is_alive():
                process.terminate()
                process.join(timeout=2.0)
