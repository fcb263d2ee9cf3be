"""Latency distributions from the load generator's encoded HdrHistograms, as numpy arrays.

A `Dist` keeps only the recorded bins of a histogram, so distributions merge across rounds and
resample in a bootstrap with vectorised numpy. Percentiles and the mean are read by the rules of
`calcbench.core.hdr`, the load generator's, so they equal what it wrote for the same histogram.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hdrh.histogram import HdrHistogram

from calcbench.core.hdr import FloatArray, means_of_counts, middles, percentiles_of_counts


@dataclass(frozen=True)
class Dist:
    """Recorded bins of a latency histogram, sorted by value (microseconds)."""

    low: FloatArray
    high: FloatArray
    mid: FloatArray
    counts: FloatArray

    @property
    def total(self) -> int:
        return int(self.counts.sum())


EMPTY = Dist(*(np.zeros(0) for _ in range(4)))


def from_histogram(histogram: HdrHistogram) -> Dist:
    counts = np.ctypeslib.as_array(histogram.counts)[: histogram.counts_len]
    indices = np.flatnonzero(counts)
    low = [histogram.get_value_from_index(int(i)) for i in indices]
    high = [histogram.get_highest_equivalent_value(v) for v in low]
    low_a, high_a = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    mid = middles(low_a, high_a)
    order = np.argsort(low_a, kind="stable")
    return Dist(low_a[order], high_a[order], mid[order], counts[indices][order].astype(float))


def decode(encoded: str | bytes) -> Dist:
    """A Dist from a base64 HdrHistogram (the `histograms.json` values)."""
    return from_histogram(HdrHistogram.decode(encoded))


def merge(dists: Sequence[Dist]) -> Dist:
    """Exact merge: bins with the same lower bound add their counts."""
    if not dists:
        return EMPTY
    low = np.concatenate([d.low for d in dists])
    keys, first, inverse = np.unique(low, return_index=True, return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([d.counts for d in dists])).astype(float)
    high = np.concatenate([d.high for d in dists])[first]
    mid = np.concatenate([d.mid for d in dists])[first]
    return Dist(keys, high, mid, counts)


def align(dists: Sequence[Dist]) -> tuple[Dist, FloatArray]:
    """The merged bins and a (len(dists), bins) matrix of each dist's counts on them."""
    merged = merge(dists)
    matrix = np.zeros((len(dists), merged.low.size))
    for row, dist in enumerate(dists):
        matrix[row, np.searchsorted(merged.low, dist.low)] = dist.counts
    return merged, matrix


def coarsen(dist: Dist, relative_width: float = 0.01) -> Dist:
    """Bins merged into log-spaced bins `relative_width` wide (a cheaper bootstrap grid)."""
    if not dist.low.size:
        return dist
    keys = np.floor(np.log(np.maximum(dist.low, 1.0)) / np.log1p(relative_width))
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    counts = np.bincount(inverse, weights=dist.counts).astype(float)
    weighted_mid = np.bincount(inverse, weights=dist.counts * dist.mid)
    last = np.r_[first[1:] - 1, dist.low.size - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        mid = np.where(counts > 0, weighted_mid / np.where(counts > 0, counts, 1), dist.mid[first])
    # The grid's own bounds as `low`, so coarsened rounds align bin for bin.
    grid_low = np.exp(keys[first] * np.log1p(relative_width))
    return Dist(grid_low, dist.high[last], mid, counts)


def percentile(dist: Dist, q: float) -> float:
    """Percentile `q` (0-100) in microseconds; NaN for an empty distribution."""
    return float(percentiles_of_counts(dist.high, dist.counts, [q])[0])


def mean(dist: Dist) -> float:
    return float(means_of_counts(dist.mid, dist.counts))


def maximum(dist: Dist) -> float:
    return float(dist.high[-1]) if dist.total else float("nan")


def spectrum(
    dist: Dist, max_nines: float = 4.0, points: int = 240
) -> tuple[FloatArray, FloatArray]:
    """(percentile, microseconds) pairs from 0 to 100 - 10**-(max_nines - 2), evenly in nines."""
    nines = np.linspace(0.0, max_nines, points)
    pct = 100.0 * (1.0 - 10.0**-nines)
    values = percentiles_of_counts(dist.high, dist.counts, [float(p) for p in pct])
    return pct, np.array(values, dtype=float)
