"""Client-side summaries: what the load generator measured, merged over the rounds.

Latency percentiles come from the merged HdrHistograms (never from averaging the per-round
percentiles), counts and seconds add up, so `rps` is requests over measured seconds.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis import hdr
from analysis.frames import as_bool, sort_rows, with_columns
from analysis.hdr import Dist
from analysis.rundir import Run, RunDirError, read_phase_json, read_table
from calcbench.core.rundir import (
    HISTOGRAMS,
    PERCENTILES,
    RUN_ERROR_COLUMNS,
    RUN_SUMMARY_COLUMNS,
    RUN_TIMESERIES_COLUMNS,
    SUMMARY,
)

DistKey = tuple[str, str]
"""(phase name, operation)."""


def load_dists(run: Run, kind: str = "intended") -> dict[DistKey, Dist]:
    """Every phase's latency histograms of `kind` ("intended" or "actual"), decoded."""
    dists: dict[DistKey, Dist] = {}
    for phase in run.phases:
        data = read_phase_json(phase, HISTOGRAMS) or {}
        for operation, encoded in (data.get(kind) or {}).items():
            dists[(phase.name, str(operation))] = hdr.decode(encoded)
    return dists


def phase_counts(run: Run) -> pd.DataFrame:
    """The phases' summary rows (requests, ok, errors) with each phase's measured seconds.

    Raises RunDirError when no completed phase measured anything: there is nothing to report.
    """
    table = read_table(run, SUMMARY)
    missing = {"operation", "requests", "ok", "errors"} - set(table.columns)
    if table.empty or missing:
        why = f"lacks {', '.join(sorted(missing))}" if missing else "is empty"
        raise RunDirError(f"{run.path}: no measurements to report ({SUMMARY} {why})")
    seconds = {p.name: p.measured_seconds for p in run.phases}
    return table.assign(seconds=table["phase"].map(seconds))


def latency_columns(dist: Dist) -> dict[str, float]:
    """The summary's latency columns (ms) of one distribution."""
    columns = {name: hdr.percentile(dist, q) / 1000 for name, q in PERCENTILES.items()}
    columns["max_ms"] = hdr.maximum(dist) / 1000
    columns["mean_ms"] = hdr.mean(dist) / 1000
    return columns


def summarize(counts: pd.DataFrame, dists: Mapping[DistKey, Dist]) -> pd.DataFrame:
    """summary.csv: one row per protocol x balancing x operation, histograms merged over rounds."""
    rows = []
    for (protocol, balancing, operation), group in counts.groupby(
        ["protocol", "balancing", "operation"], sort=False
    ):
        phases = [str(p) for p in group["phase"]]
        merged = hdr.merge([dists[(p, str(operation))] for p in phases if (p, operation) in dists])
        requests, ok = int(group["requests"].sum()), int(group["ok"].sum())
        seconds = float(group["seconds"].sum())
        rows.append(
            {
                "protocol": protocol,
                "operation": operation,
                "requests": requests,
                "ok": ok,
                "errors": int(group["errors"].sum()),
                "success_rate": ok / requests if requests else float("nan"),
                "rps": requests / seconds if seconds else float("nan"),
                "balancing": balancing,
                **latency_columns(merged),
            }
        )
    frame = with_columns(pd.DataFrame(rows), RUN_SUMMARY_COLUMNS)
    return sort_rows(frame, ["protocol", "balancing", "operation"])


def summarize_errors(errors: pd.DataFrame) -> pd.DataFrame:
    """errors.csv: error counts summed over the rounds."""
    if errors.empty:
        return pd.DataFrame(columns=RUN_ERROR_COLUMNS)
    frame = errors.assign(
        code=errors["code"].fillna("").astype(str),
        expected=as_bool(errors["expected"]) if "expected" in errors else False,
    )
    keys = ["protocol", "operation", "outcome", "code", "expected", "balancing"]
    summed = frame.groupby(keys, sort=False, as_index=False).agg(count=("count", "sum"))
    return sort_rows(
        with_columns(summed, RUN_ERROR_COLUMNS), ["protocol", "balancing", "operation"]
    )


def timeseries(table: pd.DataFrame) -> pd.DataFrame:
    """timeseries.csv: every phase's per-second rows, tagged with round and balancing."""
    if table.empty:
        return pd.DataFrame(columns=RUN_TIMESERIES_COLUMNS)
    frame = with_columns(table, RUN_TIMESERIES_COLUMNS)
    return sort_rows(frame, ["protocol", "balancing", "round", "operation", "second"])


def client_cpu(run: Run, counts: pd.DataFrame) -> pd.DataFrame:
    """Per phase: the generator's CPU microseconds over the measured requests."""
    totals = counts[counts["operation"] == "all"].set_index("phase")["requests"]
    rows = []
    for phase in run.phases:
        requests = float(totals.get(phase.name, 0.0))
        generator = phase.generator
        if generator.get("cpu_us_per_request") is not None:
            cpu_us = float(generator["cpu_us_per_request"]) * requests
        elif generator.get("cpu_seconds") is not None:
            cpu_us = float(generator["cpu_seconds"]) * 1e6
        else:
            continue
        rows.append((phase.name, requests, cpu_us))
    return pd.DataFrame(rows, columns=["phase", "requests", "cpu_us"])
