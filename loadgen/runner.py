"""`run_load`: one load run from settings and endpoints to a complete run directory.

The caller's process runs the single worker itself (`--workers 1`) or supervises worker
processes. Either way, SIGINT/SIGTERM during the run stop the sending, in-flight calls finish
(bounded by the call timeout) and everything measured is written, marked `interrupted`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Final

from calcbench.core.endpoints import Endpoints
from calcbench.core.environment import utc_now
from calcbench.core.rundir import CONNECTION_COLUMNS, CONNECTIONS, TIMESERIES, TIMESERIES_COLUMNS
from loadgen.collector import Collector, Progress
from loadgen.connections import ConnectionSampler
from loadgen.eventloop import new_event_loop
from loadgen.percentiles import prepare
from loadgen.processes import WorkerPool
from loadgen.report import LoadResult, ReportInput, write_results
from loadgen.rundir import CsvAppender
from loadgen.settings import LoadSettings
from loadgen.targets import all_addresses, client_tls
from loadgen.worker import WorkerResult, run_worker

#: Between the start decision and request 0: room for the workers to see the start signal.
START_DELAY: Final = 0.05
SWITCH_INTERVAL: Final = 0.0005


def run_load(
    settings: LoadSettings,
    endpoints: Endpoints,
    out_dir: Path,
    progress: Callable[[Progress], None] | None = None,
) -> LoadResult:
    """Run `settings` against `endpoints`, write the run directory `out_dir`, return totals.

    Blocking. Raises ValueError (one line) when the endpoints do not fit the settings, OSError
    when `out_dir` cannot be written, RuntimeError when every worker process failed.

    `progress` is called once per completed second (warm-up seconds too), from the thread that
    called `run_load`; with one worker that is the event loop's thread, so keep it quick.

    Called from the main thread, SIGINT and SIGTERM stop the sending instead of raising: the
    result says `interrupted=True`, the files hold everything measured, and the previous
    handlers are back when `run_load` returns. With `workers > 1` the worker processes are
    spawned, so a script calling `run_load` needs the usual `if __name__ == "__main__":` guard.
    """
    check_endpoints(settings, endpoints)
    out_dir.mkdir(parents=True, exist_ok=True)
    session = _Session(settings, endpoints, out_dir, progress)
    with _stop_on_signals() as stop:
        try:
            if settings.workers == 1:
                results = _in_process(session, stop)
            else:
                results = _in_workers(session, stop)
        finally:
            session.close()
    result = write_results(session.report_input(results, stop.is_set()))
    return replace(result, stop_signal=stop.signum)


def check_endpoints(settings: LoadSettings, endpoints: Endpoints) -> None:
    if endpoints.protocol != settings.protocol:
        raise ValueError(
            f"the endpoints are for {endpoints.protocol}, the run is for {settings.protocol}"
        )
    missing = [s for s in settings.services if s not in endpoints.services]
    if missing:
        raise ValueError(f"no endpoint for {', '.join(missing)}")
    client_tls(settings, endpoints)


class _Session:
    """The parent's side of one run: files written as it goes, merged seconds, sampler."""

    def __init__(
        self,
        settings: LoadSettings,
        endpoints: Endpoints,
        out_dir: Path,
        progress: Callable[[Progress], None] | None,
    ) -> None:
        self.settings = settings
        self.endpoints = endpoints
        self.out_dir = out_dir
        self.addresses = all_addresses(settings, endpoints)
        self.started_at = utc_now()
        self.timeseries = CsvAppender(out_dir / TIMESERIES, TIMESERIES_COLUMNS)
        self.connections = CsvAppender(out_dir / CONNECTIONS, CONNECTION_COLUMNS)
        total = settings.warmup + settings.duration
        self.collector = Collector(
            settings.protocol, settings.workers, self.timeseries, total, settings.warmup, progress
        )
        self.sampler: ConnectionSampler | None = None
        self.failures: list[str] = []
        prepare()

    def begin(self, t0: float, pids: list[int]) -> None:
        """The run starts at `t0`: sample the connections of `pids` from the measured start."""
        self.sampler = ConnectionSampler(
            self.settings.protocol,
            pids,
            self.addresses,
            t0 + self.settings.warmup,
            self.settings.duration,
            self.connections.write,
        )
        self.sampler.start()

    def close(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        self.collector.close()
        if self.collector.progress_error:
            self.failures.append(self.collector.progress_error)
        self.timeseries.close()
        self.connections.close()

    def report_input(self, results: list[WorkerResult], interrupted: bool) -> ReportInput:
        maximum = dict(self.sampler.maximum) if self.sampler else {}
        return ReportInput(
            self.settings,
            self.endpoints,
            self.addresses,
            self.out_dir,
            self.started_at,
            results,
            interrupted,
            maximum,
            self.failures,
        )


def _in_process(session: _Session, stop: threading.Event) -> list[WorkerResult]:
    async def wait_start() -> float:
        t0 = time.monotonic() + START_DELAY
        session.begin(t0, [os.getpid()])
        return t0

    loop = new_event_loop(session.settings.realtime)
    # The connection sampler's thread parses /proc for ~20 ms each second; with the default
    # 5 ms switch interval the event loop could wait that long for the GIL, and requests would
    # leave late. 0.5 ms bounds that wait; 0.05 ms measured no better (the loop then hands the
    # GIL over as often: lag p99 at 2,000 requests/s 0.19-0.23 ms against 0.15-0.16 ms).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        coroutine = run_worker(
            session.settings, session.endpoints, 0, session.collector.add, wait_start, stop.is_set
        )
        return [loop.run_until_complete(coroutine)]
    finally:
        sys.setswitchinterval(interval)
        loop.close()


def _in_workers(session: _Session, stop: threading.Event) -> list[WorkerResult]:
    pool = WorkerPool(session.settings, session.endpoints)
    try:
        pool.spawn()
        if pool.wait_ready(stop.is_set):
            t0 = time.monotonic() + START_DELAY
            session.begin(t0, pool.pids)
            pool.start(t0)
            pool.collect(session.collector.add, stop.is_set)
    finally:
        pool.close()
    session.failures += pool.failures
    if pool.failures and not pool.results:
        raise RuntimeError(f"load generator failed: {pool.failures[0]}")
    return pool.results


class _Stop(threading.Event):
    """Set by the first SIGINT or SIGTERM, whose number it keeps."""

    signum: int | None = None

    def stop(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
        self.set()


@contextmanager
def _stop_on_signals() -> Iterator[_Stop]:
    """An event set by SIGINT or SIGTERM while the block runs; the previous handlers are put
    back after it. Signals can only be handled in the main thread: elsewhere, nothing is set."""
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, lambda signum, _frame: stop.stop(signum))
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
