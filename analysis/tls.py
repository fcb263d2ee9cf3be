"""TLS against plaintext, per protocol (`calcbench run --tls both`): what a mesh's mTLS on every
hop would cost each stack, as ratios with 95% bootstrap intervals over the paired rounds.

Plaintext and TLS phases of a protocol ran in the same rounds, so each resample draws the same
rounds for both sides. Latency replicates come from the rounds' merged histograms, CPU from the
per-phase totals (as `comparison` does for gRPC/REST).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis import bootstrap, client, server
from analysis.compute import phase_table
from analysis.hdr import Dist, merge
from analysis.rundir import Run
from analysis.tables import Table
from calcbench.core.rundir import TLS_COLUMNS, TLS_WIRE, TRUE_WORDS

#: Latency metrics (ms, all operations, from the intended send time).
LATENCY_METRICS = ("p50_ms", "p99_ms", "mean_ms")
#: metric -> (CPU column, requests column) of `compute.phase_table`.
CPU_METRICS = {
    "client_cpu_us_per_request": ("client_cpu_us", "requests"),
    "server_cpu_us_per_request": ("server_cpu_us", "all_requests"),
}


@dataclasses.dataclass(frozen=True)
class _Side:
    """One side (plaintext or TLS) of the run: its phases' numbers and latency histograms."""

    phases: pd.DataFrame
    dists: Mapping[tuple[str, str], Dist]

    @classmethod
    def of(cls, run: Run) -> _Side:
        counts = client.phase_counts(run)
        scrapes = server.scrape_frame(server.read_scrapes(run))
        return cls(phase_table(run, counts, scrapes), client.load_dists(run))

    def rows(self, protocol: str, balancing: str) -> pd.DataFrame:
        frame = self.phases
        chosen = frame[(frame["protocol"] == protocol) & (frame["balancing"] == balancing)]
        return chosen.set_index("round")


def tls_ratios(run: Run) -> pd.DataFrame:
    """tls.csv: one row per metric x protocol x balancing mode; empty without TLS phases."""
    if not run.tls_phases:
        return pd.DataFrame(columns=list(TLS_COLUMNS))
    plain = _Side.of(run)
    tls = _Side.of(dataclasses.replace(run, phases=run.tls_phases))
    rows: list[dict[str, object]] = []
    for protocol, balancing in _groups(tls.phases):
        pair = (plain.rows(protocol, balancing), tls.rows(protocol, balancing))
        rounds = sorted(set(pair[0].index) & set(pair[1].index))
        if not rounds:
            continue
        rng = np.random.default_rng([run.seed, len(rows)])
        weights = bootstrap.round_weights(rng, len(rounds))
        sides = (plain, tls)
        found = _latency(rng, weights, sides, pair, rounds) | _cpu(weights, pair, rounds)
        for metric, (values, replicates) in found.items():
            rows.append(_row(metric, protocol, balancing, values, replicates, len(rounds)))
    rows += _wire_rows(run)
    return pd.DataFrame(rows, columns=list(TLS_COLUMNS))


#: tls.csv metric -> tls_wire.csv column.
WIRE_METRICS = {
    "sent_bytes_per_request": "sent_bytes_per_request",
    "received_bytes_per_request": "received_bytes_per_request",
}


def _wire_rows(run: Run) -> list[dict[str, object]]:
    """Bytes per request (one closed loop per stack through a counting relay; no interval)."""
    path = run.path / TLS_WIRE
    if not path.is_file():
        return []
    wire = pd.read_csv(path, dtype={"protocol": str, "balancing": str, "tls": str})
    wire["tls"] = wire["tls"].str.lower().isin(TRUE_WORDS)
    rows = []
    for protocol, balancing in _groups(wire):
        same = wire[(wire["protocol"] == protocol) & (wire["balancing"] == balancing)]
        plain, tls = same[~same["tls"]], same[same["tls"]]
        if plain.empty or tls.empty:
            continue
        for metric, column in WIRE_METRICS.items():
            values = (float(plain[column].iloc[0]), float(tls[column].iloc[0]))
            rows.append(_row(metric, protocol, balancing, values, None, 0))
    return rows


def _groups(phases: pd.DataFrame) -> list[tuple[str, str]]:
    pairs = phases[["protocol", "balancing"]].drop_duplicates()
    return [(str(p), str(b)) for p, b in pairs.itertuples(index=False)]


Found = dict[str, tuple[tuple[float, float], tuple[np.ndarray, np.ndarray] | None]]


def _latency(
    rng: np.random.Generator,
    weights: np.ndarray,
    sides: tuple[_Side, _Side],
    pair: tuple[pd.DataFrame, pd.DataFrame],
    rounds: list[int],
) -> Found:
    per_side = []
    for side, rows in zip(sides, pair, strict=True):
        dists = [side.dists.get((str(rows.loc[r, "phase"]), "all")) for r in rounds]
        if any(d is None for d in dists):
            return {}
        present = [d for d in dists if d is not None]
        per_side.append((client.latency_columns(merge(present)), present))
    boot = [bootstrap.latency_samples(rng, weights, dists) for _, dists in per_side]
    return {
        metric: (
            (per_side[0][0][metric], per_side[1][0][metric]),
            (boot[0][metric], boot[1][metric]),
        )
        for metric in LATENCY_METRICS
    }


def _cpu(weights: np.ndarray, pair: tuple[pd.DataFrame, pd.DataFrame], rounds: list[int]) -> Found:
    found: Found = {}
    for metric, (column, per) in CPU_METRICS.items():
        values = [rows.loc[rounds, [column, per]].to_numpy(dtype=float) for rows in pair]
        if any(np.isnan(v).any() for v in values):
            continue
        totals = tuple(float(v[:, 0].sum() / v[:, 1].sum()) for v in values)
        sums = [weights @ v for v in values]
        replicates = (sums[0][:, 0] / sums[0][:, 1], sums[1][:, 0] / sums[1][:, 1])
        # One value per phase: an interval needs two rounds or more.
        found[metric] = ((totals[0], totals[1]), replicates if len(rounds) > 1 else None)
    return found


def _row(
    metric: str,
    protocol: str,
    balancing: str,
    values: tuple[float, float],
    replicates: tuple[np.ndarray, np.ndarray] | None,
    rounds: int,
) -> dict[str, object]:
    plain, tls = values
    low, high = (np.nan, np.nan)
    if replicates is not None:
        low, high = bootstrap.ratio_interval(replicates[1], replicates[0])
    return {
        "metric": metric,
        "protocol": protocol,
        "balancing": balancing,
        "plaintext": plain,
        "tls": tls,
        "ratio": tls / plain if plain else np.nan,
        "ci_low": low,
        "ci_high": high,
        "verdict": _verdict(low, high),
        "rounds": rounds,
    }


def _verdict(low: float, high: float) -> str:
    said = bootstrap.verdict(low, high)
    return said.replace("gRPC", "TLS")


TABLE_HEADER = ("PROTOCOL", "BALANCING", "METRIC", "PLAINTEXT", "TLS", "TLS/PLAIN", "95% CI")


def tls_table(ratios: pd.DataFrame) -> Table:
    """The TLS/plaintext table of the report and the console: one row per tls.csv row."""
    rows = tuple(tls_table_rows(ratios))
    return Table("TLS against plaintext", (*TABLE_HEADER, "VERDICT"), rows, 3)


def tls_table_rows(ratios: pd.DataFrame) -> list[tuple[str, ...]]:
    """The rows of `tls_table`: one per protocol x balancing x metric."""
    return [
        (
            str(r["protocol"]),
            str(r["balancing"]),
            str(r["metric"]),
            f"{r['plaintext']:.4g}",
            f"{r['tls']:.4g}",
            f"{r['ratio']:.2f}x",
            _interval(r["ci_low"], r["ci_high"]),
            str(r["verdict"]),
        )
        for r in ratios.to_dict("records")
    ]


def _interval(low: float, high: float) -> str:
    return "" if np.isnan(low) else f"{low:.2f}-{high:.2f}"
