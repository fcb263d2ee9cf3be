"""HDR histograms and tallies: exact merges across workers, lossless trips between processes."""

from __future__ import annotations

import random

import pytest

from loadgen.percentiles import latency_ms, mean_us, values_at
from loadgen.stats import HIGHEST_US, Tally, decode, encode, merged, new_histogram, to_us


def test_merge_across_workers_is_exact() -> None:
    """Values recorded by 4 'workers' and merged give bucket-for-bucket the histogram of one
    worker recording them all, so every percentile is the same."""
    rng = random.Random(1)
    values = [int(rng.lognormvariate(7, 1.2)) + 1 for _ in range(20_000)]
    single = new_histogram()
    workers = [new_histogram() for _ in range(4)]
    for i, value in enumerate(values):
        single.record_value(value)
        workers[i % 4].record_value(value)
    # Through the wire encoding, as worker processes send them.
    total = merged(decode(encode(h)) for h in workers)
    assert total.get_total_count() == single.get_total_count() == len(values)
    assert total.equals(single)
    assert latency_ms(total) == latency_ms(single)


@pytest.mark.parametrize("n", [1, 7, 5000])
def test_fast_readers_agree_with_hdrh(n: int) -> None:
    rng = random.Random(n)
    histogram = new_histogram()
    for _ in range(n):
        histogram.record_value(int(rng.expovariate(1 / 3000)) + 1)
    percentiles = [0.1, 1, 25, 50, 90, 99, 99.9, 99.99, 100]
    expected = [histogram.get_value_at_percentile(p) for p in percentiles]
    assert values_at(histogram, percentiles) == expected
    assert mean_us(histogram) == pytest.approx(histogram.get_mean_value(), rel=1e-12)


def test_latency_summary_in_milliseconds() -> None:
    histogram = new_histogram()
    for us in range(1, 1001):  # 1 us .. 1 ms
        histogram.record_value(us)
    summary = latency_ms(histogram)
    assert summary["p50_ms"] == 0.5
    assert summary["p99_ms"] == 0.99
    assert summary["max_ms"] == 1.0
    assert summary["mean_ms"] is not None and abs(summary["mean_ms"] - 0.5005) < 0.001
    assert set(latency_ms(new_histogram()).values()) == {None}


def test_to_us_clamps_into_the_histogram() -> None:
    assert to_us(0.0012345) == 1234
    assert to_us(-0.001) == 0
    assert to_us(1e9) == HIGHEST_US


def test_tally_adds_and_survives_the_wire() -> None:
    a, b = Tally(), Tally()
    a.histogram("intended", "addition").record_value(100)
    a.histogram("actual", "addition").record_value(90)
    a.outcomes[("addition", "ok", "200", False)] += 3
    b.outcomes[("division", "invalid_argument", "400", True)] += 2
    b.outcomes[("addition", "ok", "200", False)] += 1
    b.replicas[("addition", "addition-1")] += 4
    total = Tally.from_wire(a.to_wire())
    total.add(Tally.from_wire(b.to_wire()))
    assert total.requests() == 6 and total.ok() == 4
    assert total.requests("division") == 2 and total.ok("division") == 0
    assert total.replicas == {("addition", "addition-1"): 4}
    assert total.intended["addition"].get_total_count() == 1
    assert total.actual["addition"].get_max_value() == 90
