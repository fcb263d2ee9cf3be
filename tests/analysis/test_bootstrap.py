"""Bootstrap intervals on known data: no difference contains 1, a clear 2x excludes it."""

from __future__ import annotations

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from analysis import bootstrap, hdr
from analysis.hdr import Dist


def _rounds(rng: np.random.Generator, median_us: float, rounds: int, n: int) -> list[Dist]:
    dists = []
    for _ in range(rounds):
        histogram = HdrHistogram(1, 60_000_000, 3)
        for value in rng.lognormal(np.log(median_us), 0.5, n):
            histogram.record_value(max(1, int(value)))
        dists.append(hdr.decode(histogram.encode()))
    return dists


def _latency_interval(rest: list[Dist], grpc: list[Dist], metric: str) -> tuple[float, float]:
    rng = np.random.default_rng(11)
    weights = bootstrap.round_weights(rng, len(rest))
    samples_rest = bootstrap.latency_samples(rng, weights, rest)[metric]
    samples_grpc = bootstrap.latency_samples(rng, weights, grpc)[metric]
    return bootstrap.ratio_interval(samples_grpc, samples_rest)


@pytest.mark.parametrize("metric", ["p50_ms", "p99_ms", "mean_ms"])
def test_same_distribution_interval_contains_one(metric: str) -> None:
    # Two independent samples of one distribution: the seeded interval must contain 1.
    rng = np.random.default_rng(5)
    rest, grpc = _rounds(rng, 2000, 3, 1500), _rounds(rng, 2000, 3, 1500)
    low, high = _latency_interval(rest, grpc, metric)
    assert low < 1 < high
    assert bootstrap.verdict(low, high) == "within noise"


@pytest.mark.parametrize("metric", ["p50_ms", "p95_ms", "mean_ms"])
def test_clear_two_fold_difference_excludes_one(metric: str) -> None:
    rng = np.random.default_rng(6)
    rest, grpc = _rounds(rng, 2000, 3, 1500), _rounds(rng, 4000, 3, 1500)
    low, high = _latency_interval(rest, grpc, metric)
    assert 1.6 < low <= high < 2.5  # around 2, and far from 1
    assert bootstrap.verdict(low, high) == "gRPC higher"


def test_intervals_are_reproducible() -> None:
    rng = np.random.default_rng(5)
    rest, grpc = _rounds(rng, 2000, 2, 500), _rounds(rng, 1000, 2, 500)
    assert _latency_interval(rest, grpc, "p99_ms") == _latency_interval(rest, grpc, "p99_ms")


def test_per_second_sums_resample_seconds_within_rounds() -> None:
    # 100 requests every second, 90 ok: every resample has the same rate and success ratio.
    rounds = [np.tile([100.0, 90.0], (n, 1)) for n in (10, 12)]
    weights = bootstrap.round_weights(np.random.default_rng(1), 2, 200)
    sums, seconds = bootstrap.second_sums(np.random.default_rng(2), weights, rounds)
    assert np.allclose(sums[:, 0] / seconds, 100.0)
    assert np.allclose(sums[:, 1] / sums[:, 0], 0.9)
    assert seconds.std() > 0  # the seconds really are resampled


def test_round_weights_draw_each_resample_from_all_rounds() -> None:
    weights = bootstrap.round_weights(np.random.default_rng(0), 3, 500)
    assert weights.shape == (500, 3)
    assert np.all(weights.sum(axis=1) == 3)
    assert np.all(weights.mean(axis=0) == pytest.approx(1.0, abs=0.15))


def test_interval_is_nan_when_most_replicates_are_undefined() -> None:
    rest = np.zeros(100)  # a ratio over zero is undefined
    low, high = bootstrap.ratio_interval(np.ones(100), rest)
    assert np.isnan(low) and np.isnan(high)
    assert bootstrap.verdict(low, high) == "no interval"


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [(0.9, 1.1, "within noise"), (1.0, 1.2, "within noise"), (1.1, 1.3, "gRPC higher"),
     (0.5, 0.8, "gRPC lower")],
)  # fmt: skip
def test_verdicts(low: float, high: float, verdict: str) -> None:
    assert bootstrap.verdict(low, high) == verdict
