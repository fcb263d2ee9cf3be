"""Quantiles from Prometheus buckets, checked against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from analysis.prom import add_buckets, histogram_quantile

# 10 observations <= 0.1 s, 10 more <= 0.2 s, 0 more <= 0.4 s, 5 above.
BUCKETS: list[tuple[float | str, float]] = [(0.1, 10), (0.2, 20), (0.4, 20), ("+Inf", 25)]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.0, 0.0),  # the first bucket starts at zero
        (0.2, 0.05),  # rank 5 of 10 inside [0, 0.1]
        (0.4, 0.1),  # rank 10: the top of the first bucket
        (0.6, 0.15),  # rank 15: half way through [0.1, 0.2]
        (0.8, 0.2),  # rank 20 reached at the end of (0.1, 0.2]
        (0.9, 0.4),  # rank 22.5 falls in +Inf: the highest finite bound
        (1.0, 0.4),
    ],
)
def test_linear_interpolation_inside_the_bucket(q: float, expected: float) -> None:
    assert histogram_quantile(q, BUCKETS) == pytest.approx(expected)


def test_bucket_order_and_string_bounds_do_not_matter() -> None:
    shuffled: list[tuple[float | str, float]] = [("+Inf", 25), (0.4, 20), ("0.1", 10), (0.2, 20)]
    assert histogram_quantile(0.6, shuffled) == pytest.approx(0.15)


@pytest.mark.parametrize(
    "buckets",
    [
        [],  # nothing scraped
        [(0.1, 0.0), ("+Inf", 0.0)],  # no observations in the window
        [(0.1, 3.0), (0.2, 5.0)],  # no +Inf bucket: Prometheus answers NaN
    ],
)
def test_undefined_quantiles_are_nan(buckets: list[tuple[float | str, float]]) -> None:
    assert math.isnan(histogram_quantile(0.5, buckets))


def test_out_of_range_q_follows_prometheus() -> None:
    assert histogram_quantile(-0.1, BUCKETS) == -math.inf
    assert histogram_quantile(1.1, BUCKETS) == math.inf


def test_counts_that_go_down_are_made_monotonic() -> None:
    # A counter reset between scrapes can leave a later bucket lower than an earlier one.
    broken: list[tuple[float | str, float]] = [(0.1, 10), (0.2, 8), ("+Inf", 10)]
    assert histogram_quantile(0.5, broken) == pytest.approx(0.05)


def test_bucket_deltas_of_rounds_add_up_by_bound() -> None:
    total: dict[float, float] = {}
    add_buckets(total, [(0.1, 1), ("+Inf", 2)])
    add_buckets(total, [(0.1, 3), ("+Inf", 5)])
    assert total == {0.1: 4, math.inf: 7}
