"""The documented generator-bound rule."""

from __future__ import annotations

from loadgen.health import CPU_BOUND_FRACTION, LAG_P99_BOUND_MS, WorkerUsage, assess
from loadgen.stats import new_histogram


def lag_of(ms: float, n: int = 100) -> object:
    histogram = new_histogram()
    for _ in range(n):
        histogram.record_value(int(ms * 1000))
    return histogram


def test_a_healthy_run_is_not_bound() -> None:
    health = assess(True, lag_of(0.5), [WorkerUsage(0.5, 10.0)], requests=2500)
    assert not health.bound and health.warnings == []
    assert health.lag_ms["p50"] == 0.5
    assert health.cpu_us_per_request == 200.0


def test_late_requests_mark_an_open_loop_bound() -> None:
    health = assess(True, lag_of(LAG_P99_BOUND_MS * 2), [WorkerUsage(1, 10)], requests=10)
    assert health.bound
    assert "late at p99" in health.warnings[0]


def test_a_saturated_worker_marks_any_loop_bound() -> None:
    busy = WorkerUsage(cpu_seconds=CPU_BOUND_FRACTION * 10 + 0.5, wall_seconds=10)
    health = assess(False, new_histogram(), [WorkerUsage(1, 10), busy], requests=1000)
    assert health.bound and "CPU core" in health.warnings[0]
    assert health.lag_ms == {"p50": None, "p99": None, "max": None}
    assert health.to_dict()["bound"] is True


def test_no_requests_no_cost_figure() -> None:
    assert assess(True, new_histogram(), [], requests=0).cpu_us_per_request is None
