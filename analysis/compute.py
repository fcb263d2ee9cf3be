"""Everything the report shows, computed once from a run directory into one `Analysis` value.

Reads the run directory (through `rundir`) and never writes; `report` writes the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from analysis import breakdown, client, comparison, hdr, replicas, server
from analysis.client import DistKey
from analysis.hdr import Dist
from analysis.rundir import Run, load_run, read_run_table, read_table
from calcbench.core.rundir import (
    CALIBRATION,
    CALIBRATION_COLUMNS,
    CONNECTIONS,
    ERRORS,
    PHASES,
    REPLICAS,
    RUN_JSON,
    TIMESERIES,
    WIRE,
    WIRE_COLUMNS,
)

SpectrumKey = tuple[str, str, str]
"""(protocol, balancing, "intended" | "actual")."""


@dataclass(frozen=True)
class Analysis:
    run: Run
    summary: pd.DataFrame
    summary_actual: pd.DataFrame
    errors: pd.DataFrame
    timeseries: pd.DataFrame
    replicas: pd.DataFrame
    services: pd.DataFrame
    comparison: pd.DataFrame
    balancing: pd.DataFrame
    balancing_rounds: pd.DataFrame
    phases: pd.DataFrame
    connections: pd.DataFrame
    spectra: Mapping[SpectrumKey, Dist]
    calibration: pd.DataFrame
    breakdown: pd.DataFrame

    @property
    def multi_replica(self) -> bool:
        return self.run.replicas > 1 or bool((self.services["replica"] == "all").any())


def phase_table(run: Run, counts: pd.DataFrame, scrapes: pd.DataFrame) -> pd.DataFrame:
    """One row per completed phase: requests, CPU on both sides, generator health."""
    cpu_client = client.client_cpu(run, counts).set_index("phase")["cpu_us"]
    totals = counts[counts["operation"] == "all"].set_index("phase")["requests"]
    cpu_server = server.server_cpu(scrapes).set_index("phase")["cpu_us"]
    partial = server.partial_replicas(scrapes)
    rows = []
    for phase in run.phases:
        requests = float(totals.get(phase.name, float("nan")))
        generator = phase.generator
        lag = generator.get("lag_ms") or {}
        rows.append(
            {
                "phase": phase.name,
                "protocol": phase.protocol,
                "balancing": phase.balancing,
                "round": phase.round,
                "requests": requests,
                "all_requests": requests
                + float((phase.meta.get("warmup") or {}).get("requests", 0)),
                "seconds": phase.measured_seconds,
                "client_cpu_us": float(cpu_client.get(phase.name, float("nan"))),
                "server_cpu_us": float(cpu_server.get(phase.name, float("nan"))),
                "server_partial": partial.get(phase.name, ""),
                "lag_p50_ms": float(lag.get("p50", float("nan"))),
                "lag_p99_ms": float(lag.get("p99", float("nan"))),
                "bound": bool(generator.get("bound", False)),
                "interrupted": bool(phase.meta.get("interrupted", False)),
            }
        )
    return pd.DataFrame(rows)


def client_connections(run: Run) -> pd.DataFrame:
    """Mean and max client TCP connections per protocol x balancing x service."""
    table = read_table(run, CONNECTIONS)
    columns = ["protocol", "balancing", "service", "connections_mean", "connections_max"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    grouped = table.groupby(["protocol", "balancing", "service"], as_index=False, sort=False)
    return grouped.agg(
        connections_mean=("connections", "mean"), connections_max=("connections", "max")
    )


def _spectra(run: Run, dists: Mapping[str, Mapping[DistKey, Dist]]) -> dict[SpectrumKey, Dist]:
    out: dict[SpectrumKey, Dist] = {}
    for kind, by_phase in dists.items():
        for phase in run.phases:
            key = (phase.protocol, phase.balancing, kind)
            found = by_phase.get((phase.name, "all"))
            if found is not None:
                out[key] = hdr.merge([out[key], found]) if key in out else found
    return out


def analyse(run: Run) -> Analysis:
    """Compute every table of the report from a loaded run."""
    counts = client.phase_counts(run)
    dists = {kind: client.load_dists(run, kind) for kind in ("intended", "actual")}
    scrapes = server.read_scrapes(run)
    scrape_rows = server.scrape_frame(scrapes)
    timeseries = client.timeseries(read_table(run, TIMESERIES))
    summary = client.summarize(counts, dists["intended"])
    phases = phase_table(run, counts, scrape_rows)
    inputs = comparison.Inputs(summary, phases, dists["intended"], timeseries, run.seed)
    replica_rows = replicas.replica_table(read_table(run, REPLICAS), scrape_rows)
    per_round = replicas.balancing_rounds(replica_rows, run.replicas_of)
    services = server.summarize_services(scrapes)
    calibration = read_run_table(run, CALIBRATION, CALIBRATION_COLUMNS)
    wire = read_run_table(run, WIRE, WIRE_COLUMNS)
    return Analysis(
        run=run,
        summary=summary,
        summary_actual=client.summarize(counts, dists["actual"]),
        errors=client.summarize_errors(read_table(run, ERRORS)),
        timeseries=timeseries,
        replicas=replica_rows,
        services=services,
        comparison=comparison.compare(inputs),
        balancing=replicas.summarize_balancing(per_round),
        balancing_rounds=per_round,
        phases=phases,
        connections=client_connections(run),
        spectra=_spectra(run, dists),
        calibration=calibration,
        breakdown=breakdown.breakdown(breakdown.Inputs(calibration, wire, services, phases)),
    )


Fingerprint = tuple[tuple[str, int, int], ...]


def _fingerprint(run_dir: Path) -> Fingerprint:
    """Names, sizes and times of the files the analysis reads: equal means same input."""
    own = (RUN_JSON, CALIBRATION, WIRE)
    files = [*(run_dir / name for name in own), *sorted(run_dir.glob(f"{PHASES}/*/*"))]
    return tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file())


@lru_cache(maxsize=2)
def _cached(run_dir: Path, fingerprint: Fingerprint) -> Analysis:
    return analyse(load_run(run_dir))


def analyse_dir(run_dir: Path) -> Analysis:
    """`analyse(load_run(run_dir))`, computed once for unchanged input.

    `calcbench run` builds the report and then prints the summary of the same directory; the
    bootstrap need not run twice. The result is shared: treat its tables as read-only.
    """
    if not (run_dir / RUN_JSON).is_file():
        return analyse(load_run(run_dir))  # raises the right RunDirError
    return _cached(run_dir.resolve(), _fingerprint(run_dir))


KEY_METRICS = ["requests", "rps", "success_rate", "p50_ms", "p95_ms", "p99_ms", "mean_ms"]


def key_metrics(run: Run) -> pd.DataFrame:
    """Per protocol x balancing: the headline client figures and CPU per request, no bootstrap."""
    counts = client.phase_counts(run)
    summary = client.summarize(counts, client.load_dists(run, "intended"))
    rows = summary[summary["operation"] == "all"][["protocol", "balancing", *KEY_METRICS]]
    phases = phase_table(run, counts, server.scrape_frame(server.read_scrapes(run)))
    cpu = phases.groupby(["protocol", "balancing"], as_index=False, sort=False).agg(
        client_cpu_us=("client_cpu_us", lambda s: s.sum(min_count=1)),
        server_cpu_us=("server_cpu_us", lambda s: s.sum(min_count=1)),
        phase_requests=("requests", "sum"),
        all_requests=("all_requests", "sum"),
    )
    cpu["client_cpu_us_per_request"] = cpu["client_cpu_us"] / cpu["phase_requests"]
    cpu["server_cpu_us_per_request"] = cpu["server_cpu_us"] / cpu["all_requests"]
    columns = ["protocol", "balancing", "client_cpu_us_per_request", "server_cpu_us_per_request"]
    return rows.merge(cpu[columns], on=["protocol", "balancing"], how="left")
