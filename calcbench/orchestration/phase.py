"""One phase of `calcbench run`: server counters and CPU before, the load, the same after.

The services' own metrics are scraped around the load (warm-up included, so the server's
count equals every request the client sent in the phase), plus one scrape of the open TCP
connections halfway through the measured window, while the client's connections are up. A
replica restarted in the phase is added up over its processes (`served`).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from calcbench.core.endpoints import Endpoints
from calcbench.core.rundir import SERVER
from calcbench.orchestration.chaos import PhaseFaults
from calcbench.orchestration.scrape import Reading, bucket_rows, read, scrape
from calcbench.orchestration.served import Restart, served
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


def _snapshot(group: list[Member], client: httpx.Client) -> dict[str, Reading]:
    return {m.replica: read(m.metrics, m.pid, client) for m in group}


def _now(group: list[Member], restarts: Sequence[Restart]) -> list[Member]:
    """`group` with each restarted replica's latest process."""
    pids = {restart.replica: restart.pid for restart in restarts}
    return [replace(m, pid=pids.get(m.replica, m.pid)) for m in group]


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
    before: Mapping[str, Reading],
    after: Mapping[str, Reading],
    connections: Mapping[str, float],
    seconds: float,
    restarts: Sequence[Restart] = (),
) -> dict[str, Any]:
    """The phase's `server.json`: what each replica served between the two snapshots, over
    every process it had in between (`restarts`); `partial` when some of it was lost."""
    rows = []
    for m in group:
        own = [restart for restart in restarts if restart.replica == m.replica]
        window = served(before[m.replica], after[m.replica], own)
        rows.append(
            {
                "service": m.service,
                "replica": m.replica,
                "requests": window.scrape.requests,
                "buckets": bucket_rows(window.scrape.buckets),
                "sum_seconds": window.scrape.sum_seconds,
                "count": window.scrape.count,
                "tcp_conn": connections.get(m.replica, window.scrape.tcp_conn),
                "cpu_seconds": window.cpu_seconds,
                "restarts": len(own),
                "partial": window.partial,
            }
        )
    return {"seconds": seconds, "replicas": rows}


def run_phase(
    load: LoadSettings,
    endpoints: Endpoints,
    phase_dir: Path,
    progress: Callable[[Progress], None] | None = None,
    faults: PhaseFaults | None = None,
) -> LoadResult:
    """Run the load of one phase into `phase_dir` and write its `server.json` beside it.

    `faults` is entered as the load starts and left before the closing scrape, so that its
    restarted replicas are back to be scraped; their restarts join up the figures. Should one
    not start again (`faults.error`), the phase ends without its closing scrape."""
    group = members(endpoints)
    settings = replace(load, protocol=endpoints.protocol)
    midpoint = settings.warmup + settings.duration / 2
    with httpx.Client(timeout=5.0) as client:
        before = _snapshot(group, client)
        started = time.monotonic()
        with _MidpointConnections(group, midpoint) as sampler, faults or contextlib.nullcontext():
            result = run_load(settings, endpoints, phase_dir, progress)
        elapsed = time.monotonic() - started
        if faults is not None and faults.error is not None:
            # A replica could not start again: it cannot be read, and the run stops with
            # `faults.error` (the load's own files are written; no server.json).
            return result
        restarts = faults.restarts if faults is not None else []
        after = _snapshot(_now(group, restarts), client)
    report = server_report(group, before, after, sampler.counts, elapsed, restarts)
    (phase_dir / SERVER).write_text(json.dumps(report, indent=1) + "\n")
    return result
