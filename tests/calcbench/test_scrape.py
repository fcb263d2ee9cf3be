from __future__ import annotations

import itertools

from prometheus_client import generate_latest

from calcbench.core.buckets import BUCKETS
from calcbench.core.telemetry import ServiceMetrics
from calcbench.orchestration.scrape import bucket_rows, parse_metrics


def test_parse_what_service_metrics_expose() -> None:
    metrics = ServiceMetrics("division", "division-0", ports=())
    for outcome, seconds in [("ok", 0.0004), ("ok", 0.002), ("invalid_argument", 0.0001)]:
        metrics.observe(outcome, seconds)
    scrape = parse_metrics(generate_latest(metrics.registry).decode())
    assert scrape.requests["ok"] == 2
    assert scrape.requests["invalid_argument"] == 1
    assert scrape.requests["timeout"] == 0
    assert scrape.count == 3
    assert abs(scrape.sum_seconds - 0.0025) < 1e-9
    assert scrape.buckets["+Inf"] == 3
    rows = bucket_rows(scrape.buckets)
    assert [r[0] for r in rows[:-1]] == list(BUCKETS) and rows[-1] == ("+Inf", 3)
    assert scrape.tcp_conn == 0


def test_minus_gives_the_window() -> None:
    metrics = ServiceMetrics("addition", "addition-0", ports=())
    metrics.observe("ok", 0.001)
    before = parse_metrics(generate_latest(metrics.registry).decode())
    metrics.observe("ok", 0.003)
    metrics.observe("server_error", 0.003)
    window = parse_metrics(generate_latest(metrics.registry).decode()).minus(before)
    assert window.requests["ok"] == 1 and window.requests["server_error"] == 1
    assert window.count == 2
    assert window.buckets["+Inf"] == 2


def test_buckets_are_log_spaced_from_50us_to_10s() -> None:
    assert BUCKETS[0] == 10e-6 and BUCKETS[-1] == 10.0 and len(BUCKETS) >= 20
    ratios = [b / a for a, b in itertools.pairwise(BUCKETS)]
    assert all(1.1 < r < 1.4 for r in ratios[:-1])
