"""hdrh's reading rules on bucket counts give what hdrh gives, row by row."""

from __future__ import annotations

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from calcbench.core.hdr import means_of_counts, middles, percentiles_of_counts, target_counts

PERCENTILES = [0.1, 1, 50, 90, 99, 99.9, 99.99, 100]


def _histogram(seed: int, n: int) -> HdrHistogram:
    histogram = HdrHistogram(1, 60_000_000, 3)
    for value in np.random.default_rng(seed).lognormal(7, 1.2, n).astype(int) + 1:
        histogram.record_value(int(value))
    return histogram


def _buckets(histogram: HdrHistogram) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lows, highs, counts) of every bucket."""
    lows = np.array([histogram.get_value_from_index(i) for i in range(histogram.counts_len)])
    highs = np.array([histogram.get_highest_equivalent_value(int(v)) for v in lows])
    counts = np.ctypeslib.as_array(histogram.counts)[: histogram.counts_len]
    return lows, highs, counts


@pytest.mark.parametrize("n", [1, 9, 5000])
def test_percentiles_and_mean_equal_hdrh(n: int) -> None:
    histogram = _histogram(n, n)
    lows, highs, counts = _buckets(histogram)
    values = percentiles_of_counts(highs, counts, PERCENTILES)
    assert [float(v) for v in values] == [histogram.get_value_at_percentile(p) for p in PERCENTILES]
    mean = float(means_of_counts(middles(lows, highs), counts))
    assert mean == pytest.approx(histogram.get_mean_value(), rel=1e-12)


def test_rows_are_read_one_by_one_and_empty_rows_are_nan() -> None:
    first, second = _histogram(1, 3000), _histogram(2, 20)
    lows, highs, counts = _buckets(first)
    matrix = np.stack([counts, _buckets(second)[2], np.zeros_like(counts)])
    [p99] = percentiles_of_counts(highs, matrix, [99])
    assert p99[:2].tolist() == [
        first.get_value_at_percentile(99),
        second.get_value_at_percentile(99),
    ]
    assert np.isnan(p99[2])
    assert np.isnan(means_of_counts(middles(lows, highs), matrix)[2])


def test_target_counts_round_half_up_in_hdrhs_order() -> None:
    # 99.99 * 5000 / 100 is exactly 4999.5 and rounds up; 0.9999 * 5000 would not.
    assert target_counts(99.99, 5000) == 5000
    assert target_counts(0.0, 10) == 1
    assert target_counts(150.0, 10) == 10
