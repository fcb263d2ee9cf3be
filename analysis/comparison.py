"""comparison.csv: gRPC/REST ratios of the key metrics with 95% bootstrap intervals.

Headline values are those of summary.csv (all completed rounds); the intervals resample the
rounds both protocols completed, paired by round. CPU has one value per round, so its interval
needs at least two rounds.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from analysis import bootstrap
from analysis.client import DistKey
from analysis.hdr import EMPTY, Dist
from analysis.style import OPERATIONS, ordered
from calcbench.core.hdr import FloatArray
from calcbench.core.rundir import PERCENTILES

COMPARISON_COLUMNS = [
    "metric",
    "operation",
    "rest",
    "grpc",
    "ratio",
    "ci_low",
    "ci_high",
    "balancing",
    "verdict",
    "rounds",
]
LATENCY_METRICS = (*PERCENTILES, "mean_ms")
#: metric -> (CPU column, requests column) of the phase table. The servers' CPU is read
#: between scrapes around the whole phase, warm-up included, so it is divided by all requests.
CPU_METRICS = {
    "client_cpu_us_per_request": ("client_cpu_us", "requests"),
    "server_cpu_us_per_request": ("server_cpu_us", "all_requests"),
}
Samples = dict[str, dict[str, FloatArray]]
"""metric -> protocol -> bootstrap replicates."""


@dataclass(frozen=True)
class Inputs:
    """What the comparison needs, all from the run directory.

    `phases` has one row per phase: phase, protocol, balancing, round, requests (measured,
    all operations), all_requests (warm-up included), client_cpu_us and server_cpu_us (NaN
    when not measured).
    """

    summary: pd.DataFrame
    phases: pd.DataFrame
    dists: Mapping[DistKey, Dist]
    timeseries: pd.DataFrame
    seed: int


def _rng(seed: int, *labels: str) -> np.random.Generator:
    """A generator per (mode, operation): reports are reproducible and independent of order."""
    return np.random.default_rng([seed, zlib.crc32("/".join(labels).encode())])


SecondsKey = tuple[str, int, str]
"""(protocol, round, operation)."""


def per_second(timeseries: pd.DataFrame) -> dict[SecondsKey, FloatArray]:
    """(requests, ok) per second, by protocol x round x operation, from one balancing mode."""
    out: dict[SecondsKey, FloatArray] = {}
    if timeseries.empty:
        return out
    for key, rows in timeseries.groupby(["protocol", "round", "operation"]):
        protocol, rnd, operation = cast(tuple[str, int, str], key)
        requests = rows["requests"].to_numpy(dtype=float)
        ok = requests - rows["errors"].to_numpy(dtype=float)
        out[(str(protocol), int(rnd), str(operation))] = np.column_stack([requests, ok])
    return out


@dataclass(frozen=True)
class _Mode:
    """One balancing mode's phases, the rounds both protocols completed, per-second samples."""

    balancing: str
    phases: pd.DataFrame
    rounds: list[int]
    seconds: dict[SecondsKey, FloatArray]

    def phase(self, protocol: str, rnd: int) -> str:
        rows = self.phases[(self.phases["protocol"] == protocol) & (self.phases["round"] == rnd)]
        return str(rows["phase"].iloc[0])


def _samples(inputs: Inputs, mode: _Mode, operation: str) -> Samples:
    rng = _rng(inputs.seed, mode.balancing, operation)
    weights = bootstrap.round_weights(rng, len(mode.rounds))
    out: Samples = {}
    for protocol in ("rest", "grpc"):
        dists = [inputs.dists.get((mode.phase(protocol, r), operation), EMPTY) for r in mode.rounds]
        for metric, values in bootstrap.latency_samples(rng, weights, dists).items():
            out.setdefault(metric, {})[protocol] = values
        seconds = [mode.seconds.get((protocol, r, operation)) for r in mode.rounds]
        if any(s is None or not s.size for s in seconds):
            continue
        sums, count = bootstrap.second_sums(rng, weights, [s for s in seconds if s is not None])
        with np.errstate(invalid="ignore", divide="ignore"):
            out.setdefault("rps", {})[protocol] = sums[:, 0] / count
            out.setdefault("success_rate", {})[protocol] = sums[:, 1] / sums[:, 0]
    return out


def _cpu_samples(inputs: Inputs, mode: _Mode) -> Samples:
    """CPU has one value per phase: only the rounds are resampled (needs two or more)."""
    if len(mode.rounds) < 2:
        return {}
    weights = bootstrap.round_weights(_rng(inputs.seed, mode.balancing, "cpu"), len(mode.rounds))
    out: Samples = {}
    for metric, (column, per) in CPU_METRICS.items():
        for protocol in ("rest", "grpc"):
            rows = mode.phases[mode.phases["protocol"] == protocol].set_index("round")
            values = rows.loc[mode.rounds, [column, per]].to_numpy(dtype=float)
            if not np.isnan(values).any():
                sums = weights @ values
                out.setdefault(metric, {})[protocol] = sums[:, 0] / sums[:, 1]
    return out


def _headline(inputs: Inputs, mode: _Mode, operation: str) -> dict[str, dict[str, float]]:
    summary = inputs.summary
    rows = summary[(summary["balancing"] == mode.balancing) & (summary["operation"] == operation)]
    values: dict[str, dict[str, float]] = {}
    for row in rows.to_dict("records"):
        for metric in (*LATENCY_METRICS, "success_rate", "rps"):
            values.setdefault(metric, {})[str(row["protocol"])] = float(row[metric])
    if operation == "all":
        for metric, (column, per) in CPU_METRICS.items():
            for protocol, group in mode.phases.groupby("protocol"):
                cpu, requests = group[column].sum(min_count=1), group[per].sum()
                values.setdefault(metric, {})[str(protocol)] = float(cpu / requests)
    return values


def _rows(headline: dict[str, dict[str, float]], samples: Samples) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for metric, by_protocol in headline.items():
        rest, grpc = by_protocol.get("rest", np.nan), by_protocol.get("grpc", np.nan)
        boot = samples.get(metric, {})
        low, high = (np.nan, np.nan)
        if "rest" in boot and "grpc" in boot:
            low, high = bootstrap.ratio_interval(boot["grpc"], boot["rest"])
        ratio = grpc / rest if rest else np.nan
        rows.append(
            {
                "metric": metric,
                "rest": rest,
                "grpc": grpc,
                "ratio": ratio,
                "ci_low": low,
                "ci_high": high,
                "verdict": bootstrap.verdict(low, high),
            }
        )
    return rows


def _modes(inputs: Inputs) -> list[_Mode]:
    modes = []
    for balancing, phases in inputs.phases.groupby("balancing", sort=False):
        rest, grpc = (set(phases[phases["protocol"] == p]["round"]) for p in ("rest", "grpc"))
        ts = inputs.timeseries
        seconds = per_second(ts[ts["balancing"] == balancing]) if not ts.empty else {}
        modes.append(_Mode(str(balancing), phases, sorted(rest & grpc), seconds))
    return modes


def compare(inputs: Inputs) -> pd.DataFrame:
    """comparison.csv rows for every balancing mode x operation (incl. `all`) x metric."""
    rows: list[dict[str, object]] = []
    for mode in _modes(inputs):
        summary = inputs.summary
        operations = summary[summary["balancing"] == mode.balancing]["operation"]
        for operation in ordered((str(o) for o in operations), (*OPERATIONS, "all")):
            samples = _samples(inputs, mode, operation) if mode.rounds else {}
            if operation == "all":
                samples |= _cpu_samples(inputs, mode)
            tags = {"operation": operation, "balancing": mode.balancing, "rounds": len(mode.rounds)}
            rows += [{**row, **tags} for row in _rows(_headline(inputs, mode, operation), samples)]
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
