"""The end of a run: merge the workers' tallies, judge the generator, write the final files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calcbench import __version__
from calcbench.core.endpoints import Endpoints
from calcbench.core.environment import host, utc_now, versions
from calcbench.core.rundir import (
    ERROR_COLUMNS,
    ERRORS,
    HISTOGRAMS,
    LOAD_KIND,
    REPLICA_COLUMNS,
    REPLICAS,
    RUN_JSON,
    SUMMARY,
    SUMMARY_ACTUAL,
    SUMMARY_COLUMNS,
)
from loadgen.health import GeneratorHealth, assess
from loadgen.percentiles import latency_ms
from loadgen.results import error_rows, histograms_document, replica_rows, summary_rows, totals
from loadgen.rundir import write_csv, write_json
from loadgen.settings import LoadSettings
from loadgen.stats import Tally, merged, new_histogram
from loadgen.worker import WorkerResult


@dataclass(frozen=True)
class LoadResult:
    """What `run_load` returns; the run directory `out_dir` holds the rest."""

    out_dir: Path
    protocol: str
    requests: int
    ok: int
    errors: int
    rps: float
    p99_ms: float | None
    interrupted: bool
    measured_seconds: float
    cpu_seconds: float
    cpu_us_per_request: float | None
    bound: bool
    warnings: tuple[str, ...]
    #: The signal that stopped the sending (SIGINT or SIGTERM), if one did.
    stop_signal: int | None = None


@dataclass(frozen=True)
class ReportInput:
    settings: LoadSettings
    endpoints: Endpoints
    addresses: Mapping[str, tuple[str, ...]]
    out_dir: Path
    started_at: str
    results: list[WorkerResult]
    interrupted: bool
    connections: dict[str, int]
    failures: list[str]


def measured_seconds(settings: LoadSettings, results: list[WorkerResult], stopped: bool) -> float:
    """The nominal duration, or the part of it that ran before a stop."""
    if not stopped:
        return settings.duration
    ran = (min(max(r.stop_offset - settings.warmup, 0.0), settings.duration) for r in results)
    return max(ran, default=0.0)


def write_results(run: ReportInput) -> LoadResult:
    settings, protocol = run.settings, run.settings.protocol
    measured, warmup = Tally(), Tally()
    for result in run.results:
        measured.add(result.measured)
        warmup.add(result.warmup)
    interrupted = run.interrupted or any(r.stopped for r in run.results)
    seconds = measured_seconds(settings, run.results, interrupted)
    lag = merged(r.lag for r in run.results) if run.results else new_histogram()
    health = assess(settings.open_loop, lag, [r.usage for r in run.results], measured.requests())
    health.warnings.extend(run.failures)
    out = run.out_dir
    for name, kind in ((SUMMARY, "intended"), (SUMMARY_ACTUAL, "actual")):
        rows = summary_rows(protocol, settings.services, measured, seconds, kind)
        write_csv(out / name, SUMMARY_COLUMNS, rows)
    write_csv(out / ERRORS, ERROR_COLUMNS, error_rows(protocol, measured))
    write_csv(out / REPLICAS, REPLICA_COLUMNS, replica_rows(protocol, measured))
    write_json(out / HISTOGRAMS, histograms_document(protocol, measured))
    write_json(out / RUN_JSON, _run_json(run, measured, warmup, seconds, interrupted, health))
    return _result(run, measured, seconds, interrupted, health)


def _run_json(
    run: ReportInput,
    measured: Tally,
    warmup: Tally,
    seconds: float,
    interrupted: bool,
    health: GeneratorHealth,
) -> dict[str, Any]:
    endpoints = run.endpoints.to_dict()
    endpoints["services"] = {
        service: {**endpoints["services"][service], "targets": list(targets)}
        for service, targets in run.addresses.items()
    }
    return {
        "kind": LOAD_KIND,
        "calcbench_version": __version__,
        "protocol": run.settings.protocol,
        "balancing": run.settings.balancing,
        "loop": "open" if run.settings.open_loop else "closed",
        "settings": run.settings.to_dict(),
        "endpoints": endpoints,
        "host": host(),
        "versions": versions(),
        "started_at": run.started_at,
        "ended_at": utc_now(),
        "measured_seconds": seconds,
        "interrupted": interrupted,
        "totals": totals(measured),
        "warmup": totals(warmup),
        "generator": health.to_dict(),
        "client_connections": run.connections,
    }


def _result(
    run: ReportInput, measured: Tally, seconds: float, interrupted: bool, health: GeneratorHealth
) -> LoadResult:
    counts = totals(measured)
    latency = latency_ms(merged(measured.intended.values()))
    return LoadResult(
        out_dir=run.out_dir,
        protocol=run.settings.protocol,
        requests=counts["requests"],
        ok=counts["ok"],
        errors=counts["errors"],
        rps=counts["requests"] / seconds if seconds > 0 else 0.0,
        p99_ms=latency["p99_ms"],
        interrupted=interrupted,
        measured_seconds=seconds,
        cpu_seconds=health.cpu_seconds,
        cpu_us_per_request=health.cpu_us_per_request,
        bound=health.bound,
        warnings=tuple(health.warnings),
    )
