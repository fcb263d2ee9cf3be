"""Read the services' own Prometheus metrics: parse (pure) and fetch (httpx, control plane).

`calcbench run` reads every replica (its metrics and its process's CPU) before and after each
phase; the difference is what the replica served in that phase, the way `linkerd viz stat`
computes its columns (`calcbench.orchestration.served` adds up a replica that restarted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    """One replica's counters at one moment."""

    requests: dict[str, float] = field(default_factory=dict)
    buckets: dict[str, float] = field(default_factory=dict)
    sum_seconds: float = 0.0
    count: float = 0.0
    tcp_conn: float = 0.0

    def minus(self, before: Scrape) -> Scrape:
        """What happened between `before` and this scrape (tcp_conn stays the later value)."""
        return Scrape(
            requests=_subtract(self.requests, before.requests),
            buckets=_subtract(self.buckets, before.buckets),
            sum_seconds=self.sum_seconds - before.sum_seconds,
            count=self.count - before.count,
            tcp_conn=self.tcp_conn,
        )

    def plus(self, other: Scrape) -> Scrape:
        """Two windows one after the other (tcp_conn stays `other`'s, the later value)."""
        return Scrape(
            requests=_add(self.requests, other.requests),
            buckets=_add(self.buckets, other.buckets),
            sum_seconds=self.sum_seconds + other.sum_seconds,
            count=self.count + other.count,
            tcp_conn=other.tcp_conn,
        )

    def fell_below(self, before: Scrape) -> bool:
        """True when a counter is lower than in `before`: the process started again from 0."""
        pairs = [(self.sum_seconds, before.sum_seconds), (self.count, before.count)]
        for now, then in [(self.requests, before.requests), (self.buckets, before.buckets)]:
            pairs += [(now.get(key, 0.0), value) for key, value in then.items()]
        return any(now < then for now, then in pairs)


def _subtract(after: Mapping[str, float], before: Mapping[str, float]) -> dict[str, float]:
    return {key: value - before.get(key, 0.0) for key, value in after.items()}


def _add(first: Mapping[str, float], second: Mapping[str, float]) -> dict[str, float]:
    return {key: first.get(key, 0.0) + second.get(key, 0.0) for key in {**first, **second}}


@dataclass(frozen=True)
class Reading:
    """One replica process at one moment: its counters and its CPU seconds so far."""

    scrape: Scrape
    cpu_seconds: float


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process (0 when it is gone or unknown)."""
    if pid is None:
        return 0.0
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def read(address: str, pid: int | None, client: httpx.Client) -> Reading:
    """The replica's metrics at `address` and its process's CPU; httpx.HTTPError when
    unreachable."""
    return Reading(scrape(address, client), cpu_seconds(pid))


def parse_metrics(text: str) -> Scrape:
    """The calc_* metrics of one replica from Prometheus text exposition."""
    requests: dict[str, float] = {}
    buckets: dict[str, float] = {}
    totals = {"sum": 0.0, "count": 0.0, "tcp": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "calc_requests_total":
                requests[sample.labels["outcome"]] = sample.value
            elif sample.name == "calc_request_duration_seconds_bucket":
                buckets[sample.labels["le"]] = sample.value
            elif sample.name == "calc_request_duration_seconds_sum":
                totals["sum"] = sample.value
            elif sample.name == "calc_request_duration_seconds_count":
                totals["count"] = sample.value
            elif sample.name == "calc_tcp_open_connections":
                totals["tcp"] = sample.value
    return Scrape(requests, buckets, totals["sum"], totals["count"], totals["tcp"])


def scrape(address: str, client: httpx.Client) -> Scrape:
    """Fetch and parse `http://address/metrics`; raises httpx.HTTPError when unreachable."""
    response = client.get(f"http://{address}/metrics")
    response.raise_for_status()
    return parse_metrics(response.text)


def bucket_rows(buckets: Mapping[str, float]) -> list[tuple[float | str, float]]:
    """Cumulative buckets as `[upper_bound_seconds | "+Inf", count]`, sorted by bound."""
    finite = sorted((float(le), n) for le, n in buckets.items() if le != "+Inf")
    rows: list[tuple[float | str, float]] = list(finite)
    if "+Inf" in buckets:
        rows.append(("+Inf", buckets["+Inf"]))
    return rows
