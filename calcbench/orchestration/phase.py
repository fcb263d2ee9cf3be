"""One phase of `calcbench run`: server counters and CPU before, the load, the same after.

The services' own metrics are scraped around the load (warm-up included, so the server's
count equals every request the client sent in the phase), plus one scrape of the open TCP
connections halfway through the measured window, while the client's connections are up.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import psutil

from calcbench.core.endpoints import Endpoints
from calcbench.core.rundir import SERVER
from calcbench.orchestration.scrape import Scrape, bucket_rows, scrape
from loadgen import LoadResult, Progress, run_load
from loadgen.settings import LoadSettings


@dataclass(frozen=True)
class Member:
    """A replica as the phase sees it: which service, where its metrics are, which process."""

    service: str
    replica: str
    metrics: str
    pid: int | None


def members(endpoints: Endpoints) -> list[Member]:
    return [
        Member(name, r.id, r.metrics, r.pid)
        for name, service in endpoints.services.items()
        for r in service.replicas
    ]


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process (0 when it is gone or unknown)."""
    if pid is None:
        return 0.0
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def _snapshot(group: list[Member], client: httpx.Client) -> dict[str, tuple[Scrape, float]]:
    return {m.replica: (scrape(m.metrics, client), cpu_seconds(m.pid)) for m in group}


class _MidpointConnections:
    """Scrapes calc_tcp_open_connections of every replica once, at a given delay."""

    def __init__(self, group: list[Member], delay: float) -> None:
        self.counts: dict[str, float] = {}
        self._group = group
        self._timer = threading.Timer(delay, self._sample)
        self._timer.daemon = True

    def _sample(self) -> None:
        with httpx.Client(timeout=2.0) as client:
            for member in self._group:
                try:
                    self.counts[member.replica] = scrape(member.metrics, client).tcp_conn
                except httpx.HTTPError:
                    self.counts[member.replica] = float("nan")

    def __enter__(self) -> _MidpointConnections:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        self._timer.join()


def server_report(
    group: list[Member],
    before: dict[str, tuple[Scrape, float]],
    after: dict[str, tuple[Scrape, float]],
    connections: dict[str, float],
    seconds: float,
) -> dict[str, Any]:
    """The phase's `server.json`: what each replica served between the two snapshots."""
    rows = []
    for m in group:
        window = after[m.replica][0].minus(before[m.replica][0])
        rows.append(
            {
                "service": m.service,
                "replica": m.replica,
                "requests": window.requests,
                "buckets": bucket_rows(window.buckets),
                "sum_seconds": window.sum_seconds,
                "count": window.count,
                "tcp_conn": connections.get(m.replica, window.tcp_conn),
                "cpu_seconds": after[m.replica][1] - before[m.replica][1],
            }
        )
    return {"seconds": seconds, "replicas": rows}


def run_phase(
    load: LoadSettings,
    endpoints: Endpoints,
    phase_dir: Path,
    progress: Callable[[Progress], None] | None = None,
    during: contextlib.AbstractContextManager[object] | None = None,
) -> LoadResult:
    """Run the load of one phase into `phase_dir` and write its `server.json` beside it.

    `during` is entered as the load starts and left before the closing scrape (the faults of
    the phase, whose restarted replicas must be back to be scraped)."""
    group = members(endpoints)
    settings = replace(load, protocol=endpoints.protocol)
    midpoint = settings.warmup + settings.duration / 2
    with httpx.Client(timeout=5.0) as client:
        before = _snapshot(group, client)
        started = time.monotonic()
        with _MidpointConnections(group, midpoint) as sampler, during or contextlib.nullcontext():
            result = run_load(settings, endpoints, phase_dir, progress)
        elapsed = time.monotonic() - started
        after = _snapshot(group, client)
    report = server_report(group, before, after, sampler.counts, elapsed)
    (phase_dir / SERVER).write_text(json.dumps(report, indent=1) + "\n")
    return result
