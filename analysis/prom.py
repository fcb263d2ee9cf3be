"""Quantiles from Prometheus histogram buckets, computed the way `histogram_quantile` does.

Linkerd's `viz stat` latency columns are `histogram_quantile` over bucket rates: find the bucket
holding the rank, interpolate linearly inside it (the first bucket starts at 0), and answer the
highest finite bound when the rank falls in the `+Inf` bucket.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

Bucket = tuple[float, float]
"""(upper bound in seconds, cumulative count); the last bound is +Inf."""


def parse_bound(bound: float | str) -> float:
    """A bucket bound from server.json: a number or the string "+Inf"."""
    return float(bound)


def _monotonic(buckets: Sequence[Bucket]) -> list[Bucket]:
    """Prometheus's fix for counts that go down (a replica restart between scrapes)."""
    fixed: list[Bucket] = []
    highest = 0.0
    for bound, count in buckets:
        highest = max(highest, count)
        fixed.append((bound, highest))
    return fixed


def histogram_quantile(q: float, buckets: Iterable[tuple[float | str, float]]) -> float:
    """The `q` quantile (0-1) of cumulative `buckets`; NaN when there are no observations."""
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = _monotonic(sorted((parse_bound(b), float(c)) for b, c in buckets))
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return math.nan
    observations = ordered[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    index = next(i for i, (_, count) in enumerate(ordered) if count >= rank)
    if index == len(ordered) - 1:
        return ordered[-2][0]
    if index == 0 and ordered[0][0] <= 0:
        return ordered[0][0]
    start, below = (0.0, 0.0) if index == 0 else ordered[index - 1]
    end, count = ordered[index]
    in_bucket = count - below
    if in_bucket <= 0:
        return start
    return start + (end - start) * (rank - below) / in_bucket


def add_buckets(total: dict[float, float], buckets: Iterable[tuple[float | str, float]]) -> None:
    """Accumulate bucket counts by bound (bucket deltas of rounds and replicas add up)."""
    for bound, count in buckets:
        key = parse_bound(bound)
        total[key] = total.get(key, 0.0) + float(count)
