"""Reading the generator's live HDR histograms fast, by the rules of `calcbench.core.hdr`.

hdrh's own readers walk every bucket in Python (`get_mean_value` ~0.5 s, a percentile ~10 ms
per histogram); the time series reads a dozen each second, inside the generator's process.
These read the bucket counts with numpy in well under a millisecond, to the same values.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from calcbench.core.hdr import means_of_counts, middles, percentiles_of_counts
from calcbench.core.rundir import LATENCY_COLUMNS, PERCENTILES
from loadgen.stats import Histogram, new_histogram

_Array = np.ndarray[Any, np.dtype[Any]]


@functools.cache
def _bucket_values() -> tuple[_Array, _Array]:
    """(highest value, middle value) of each bucket by counts index, for our histograms."""
    histogram = new_histogram()
    lows = [histogram.get_value_from_index(i) for i in range(histogram.counts_len)]
    highs = np.array([histogram.get_highest_equivalent_value(v) for v in lows], dtype=np.int64)
    return highs, middles(lows, highs)


def prepare() -> None:
    """Build the cached bucket tables now (~50 ms), not inside a measured second."""
    _bucket_values()


def _counts(histogram: Histogram) -> _Array:
    return np.ctypeslib.as_array(histogram.counts)


def values_at(histogram: Histogram, percentiles: Sequence[float]) -> list[int]:
    """The values at `percentiles` (0-100], in us, as `get_value_at_percentile` gives them."""
    highs, _ = _bucket_values()
    return [int(v) for v in percentiles_of_counts(highs, _counts(histogram), percentiles)]


def mean_us(histogram: Histogram) -> float:
    """The mean of the recorded values, as `get_mean_value` computes it."""
    _, mids = _bucket_values()
    return float(means_of_counts(mids, _counts(histogram)))


def percentile_ms(histogram: Histogram, percentile: float) -> float | None:
    if not histogram.get_total_count():
        return None
    return values_at(histogram, [percentile])[0] / 1000


def latency_ms(histogram: Histogram) -> dict[str, float | None]:
    """The latency columns (`LATENCY_COLUMNS`: p50_ms ... p999_ms, max_ms, mean_ms) of a
    histogram of microseconds; None when it is empty."""
    if not histogram.get_total_count():
        return dict.fromkeys(LATENCY_COLUMNS)
    values = values_at(histogram, list(PERCENTILES.values()))
    row: dict[str, float | None] = {
        key: v / 1000 for key, v in zip(PERCENTILES, values, strict=True)
    }
    row["max_ms"] = histogram.get_max_value() / 1000
    row["mean_ms"] = mean_us(histogram) / 1000
    return row
