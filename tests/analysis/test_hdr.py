"""Distributions from encoded HdrHistograms agree with hdrh itself."""

from __future__ import annotations

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from analysis import hdr


def _histogram(values: np.ndarray) -> HdrHistogram:
    histogram = HdrHistogram(1, 60_000_000, 3)
    for value in values:
        histogram.record_value(int(value))
    return histogram


@pytest.fixture(scope="module")
def pair() -> tuple[HdrHistogram, HdrHistogram]:
    rng = np.random.default_rng(3)
    return (
        _histogram(rng.lognormal(7, 1, 3000).astype(int) + 1),
        _histogram(rng.lognormal(8, 1.5, 2000).astype(int) + 1),
    )


@pytest.mark.parametrize("q", [0.1, 50, 90, 99, 99.9, 100])
def test_percentiles_equal_hdrh(pair: tuple[HdrHistogram, HdrHistogram], q: float) -> None:
    histogram = pair[0]
    dist = hdr.decode(histogram.encode())
    assert hdr.percentile(dist, q) == histogram.get_value_at_percentile(q)


def test_mean_max_and_total_equal_hdrh(pair: tuple[HdrHistogram, HdrHistogram]) -> None:
    histogram = pair[0]
    dist = hdr.decode(histogram.encode().decode())  # the str form found in histograms.json
    assert hdr.mean(dist) == pytest.approx(histogram.get_mean_value())
    assert hdr.maximum(dist) == histogram.get_max_value()
    assert dist.total == histogram.get_total_count()


def test_merge_equals_hdrh_add(pair: tuple[HdrHistogram, HdrHistogram]) -> None:
    first, second = pair
    merged = hdr.merge([hdr.decode(first.encode()), hdr.decode(second.encode())])
    combined = HdrHistogram(1, 60_000_000, 3)
    combined.add(first)
    combined.add(second)
    assert merged.total == combined.get_total_count()
    for q in (50, 99, 99.99):
        assert hdr.percentile(merged, q) == combined.get_value_at_percentile(q)


def test_spectrum_is_the_percentile_function(pair: tuple[HdrHistogram, HdrHistogram]) -> None:
    dist = hdr.decode(pair[0].encode())
    pct, values = hdr.spectrum(dist, max_nines=4, points=50)
    assert pct[0] == 0 and pct[-1] == pytest.approx(99.99)
    assert list(values) == [hdr.percentile(dist, float(p)) for p in pct]
    assert np.all(np.diff(values) >= 0)


def test_coarse_bins_move_percentiles_by_at_most_one_percent(
    pair: tuple[HdrHistogram, HdrHistogram],
) -> None:
    dist = hdr.decode(pair[1].encode())
    coarse = hdr.coarsen(dist, 0.01)
    assert coarse.total == dist.total
    assert coarse.low.size < dist.low.size
    for q in (50, 90, 99):
        assert hdr.percentile(coarse, q) == pytest.approx(hdr.percentile(dist, q), rel=0.011)


def test_empty_distribution_gives_nan() -> None:
    assert np.isnan(hdr.percentile(hdr.EMPTY, 50))
    assert np.isnan(hdr.mean(hdr.EMPTY))
