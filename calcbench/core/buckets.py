"""The bounds of the services' latency histogram (`calc_request_duration_seconds`).

Apart from the metrics code, so that analysis can name the first bucket without importing
prometheus_client or psutil.
"""

from __future__ import annotations

from typing import Final


def log_buckets(low: float = 50e-6, high: float = 10.0, per_decade: int = 10) -> tuple[float, ...]:
    """Log-spaced histogram bounds from `low` to `high` seconds, both included."""
    bounds: list[float] = []
    value = low
    step = 10 ** (1 / per_decade)
    while value < high * (1 - 1e-9):
        bounds.append(float(f"{value:.3g}"))
        value *= step
    return (*bounds, high)


BUCKETS: Final = log_buckets()
