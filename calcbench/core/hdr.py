"""hdrh's reading rules on bucket counts, in numpy: the one definition of a percentile and a mean.

The load generator reads its live histograms with these (hdrh's own readers walk every bucket
in Python: ~10 ms a percentile, ~0.5 s a mean), and the analysis reads the histograms of a run
directory with them. Both give what hdrh's `get_value_at_percentile` and `get_mean_value` give
(the tests compare them), so a p99 of summary.csv and the same p99 recomputed by
`calcbench report` agree to the microsecond.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def target_counts(percentile: float, totals: npt.ArrayLike) -> FloatArray:
    """How many values lie at or below `percentile` (0-100) of `totals` values: hdrh's rank,
    rounded half up, at least 1."""
    # hdrh's order of operations: 99.99 * 5000 / 100 is 4999.5, 0.9999 * 5000 is not.
    ranks = np.floor(min(percentile, 100.0) * np.asarray(totals, dtype=float) / 100 + 0.5)
    return np.maximum(ranks, 1.0)


def percentiles_of_counts(
    highs: npt.ArrayLike, counts: npt.ArrayLike, percentiles: Sequence[float]
) -> list[FloatArray]:
    """The values at `percentiles` (0-100) of each row of `counts` (..., buckets): the highest
    equivalent value (`highs`, per bucket) of the first bucket whose running count reaches the
    target. NaN for an empty row."""
    high = np.asarray(highs, dtype=float)
    counts_array = np.asarray(counts, dtype=float)
    if not high.size:
        return [np.full(counts_array.shape[:-1], np.nan) for _ in percentiles]
    cumulative = np.cumsum(counts_array, axis=-1)
    total = cumulative[..., -1]
    out = []
    for percentile in percentiles:
        target = target_counts(percentile, total)
        index = np.minimum((cumulative < target[..., None]).sum(axis=-1), high.size - 1)
        out.append(np.where(total > 0, high[index], np.nan))
    return out


def middles(lows: npt.ArrayLike, highs: npt.ArrayLike) -> FloatArray:
    """Each bucket's value for the mean: hdrh's median equivalent value."""
    low, high = np.asarray(lows, dtype=float), np.asarray(highs, dtype=float)
    mids: FloatArray = low + np.floor((high + 1 - low) / 2)
    return mids


def means_of_counts(mids: npt.ArrayLike, counts: npt.ArrayLike) -> FloatArray:
    """The mean of each row of `counts` (..., buckets), valued at `mids`; NaN for an empty row."""
    counts_array = np.asarray(counts, dtype=float)
    total = counts_array.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (counts_array @ np.asarray(mids, dtype=float)) / np.where(total > 0, total, 1)
    return np.where(total > 0, means, np.nan)
