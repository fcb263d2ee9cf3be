"""The bounds of the services' latency histogram (`calc_request_duration_seconds`).

From 10 us: the calculator handlers answer in tens of microseconds, so a first bucket of 50 us
(as before) held every answer and their percentiles were only "< 0.05 ms". Ten bounds a decade
(about 26% apart) to 10 s.

Apart from the metrics code, so that analysis can name the first bucket without importing
prometheus_client or psutil.
"""

from __future__ import annotations

from typing import Final


def log_buckets(low: float = 10e-6, high: float = 10.0, per_decade: int = 10) -> tuple[float, ...]:
    """Log-spaced histogram bounds from `low` to `high` seconds, both included."""
    bounds: list[float] = []
    value = low
    step = 10 ** (1 / per_decade)
    while value < high * (1 - 1e-9):
        bounds.append(float(f"{value:.3g}"))
        value *= step
    return (*bounds, high)


BUCKETS: Final = log_buckets()
