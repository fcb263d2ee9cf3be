"""Read the services' own Prometheus metrics: parse (pure) and fetch (httpx, control plane).

`calcbench run` scrapes every replica before and after each phase; the difference is what the
replica served in that phase, the way `linkerd viz stat` computes its columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
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


def _subtract(after: Mapping[str, float], before: Mapping[str, float]) -> dict[str, float]:
    return {key: value - before.get(key, 0.0) for key, value in after.items()}


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
