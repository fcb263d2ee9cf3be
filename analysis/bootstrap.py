"""Bootstrap confidence intervals for gRPC/REST ratios, over rounds and within rounds.

Two levels, so that both drift between rounds and noise within a round count:
1. rounds are resampled with replacement, *paired* (round k of REST goes with round k of gRPC,
   which ran just after it), as multinomial weights (n_boot x rounds);
2. inside each chosen round, its samples (histogram bins, or seconds) are resampled by the
   Poisson bootstrap: each sample gets a Poisson(weight) count. Poisson counts of independent
   copies add up, so a round chosen twice is one Poisson(2) draw, and everything vectorises.
Intervals are percentile intervals of the bootstrap ratios.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis import hdr
from analysis.hdr import Dist
from calcbench.core.hdr import FloatArray, means_of_counts, percentiles_of_counts
from calcbench.core.rundir import PERCENTILES

N_BOOT = 1000


def round_weights(rng: np.random.Generator, rounds: int, n_boot: int = N_BOOT) -> FloatArray:
    """(n_boot, rounds) multinomial counts: how often each round is drawn per resample."""
    return rng.multinomial(rounds, np.full(rounds, 1.0 / rounds), size=n_boot).astype(float)


def latency_samples(
    rng: np.random.Generator, weights: FloatArray, rounds: Sequence[Dist]
) -> dict[str, FloatArray]:
    """Bootstrap replicates (ms) of the latency percentiles and mean of the merged rounds.

    Resampled on 1%-wide bins: the replicates move by at most 1%, far less than their spread,
    for a grid a few times smaller than the HdrHistogram's.
    """
    merged, matrix = hdr.align([hdr.coarsen(d) for d in rounds])
    draws = rng.poisson(weights @ matrix).astype(float)
    values = percentiles_of_counts(merged.high, draws, list(PERCENTILES.values()))
    samples = {name: v / 1000 for name, v in zip(PERCENTILES, values, strict=True)}
    samples["mean_ms"] = means_of_counts(merged.mid, draws) / 1000
    return samples


def second_sums(
    rng: np.random.Generator, weights: FloatArray, rounds: Sequence[FloatArray]
) -> tuple[FloatArray, FloatArray]:
    """Bootstrap replicates of column sums over resampled seconds, and of the seconds drawn.

    `rounds[r]` is a (seconds, columns) array of per-second values of round r.
    """
    n_boot = weights.shape[0]
    columns = rounds[0].shape[1] if rounds else 0
    sums, seconds = np.zeros((n_boot, columns)), np.zeros(n_boot)
    for r, values in enumerate(rounds):
        counts = rng.poisson(weights[:, r : r + 1], size=(n_boot, values.shape[0]))
        sums += counts @ values
        seconds += counts.sum(axis=1)
    return sums, seconds


def ratio_interval(grpc: FloatArray, rest: FloatArray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of grpc/rest over paired replicates; NaN when too few are defined."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = grpc / rest
    finite = ratios[np.isfinite(ratios)]
    if finite.size < 0.9 * ratios.size or finite.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def verdict(low: float, high: float) -> str:
    """How to read an interval: "within noise" when it contains 1.

    Not "n/a" for a missing interval: pandas would read that back as NaN.
    """
    if np.isnan(low) or np.isnan(high):
        return "no interval"
    if low <= 1 <= high:
        return "within noise"
    return "gRPC higher" if low > 1 else "gRPC lower"
