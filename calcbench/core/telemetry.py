"""Prometheus metrics every calculator service exposes, the same for both stacks.

Served on a separate port (`--metrics-port`) so that scraping never mixes with measured traffic.
Names and labels are a contract (issue 2): `calc_requests_total{service,replica,outcome}`,
`calc_request_duration_seconds{service,replica}` and `calc_tcp_open_connections{service,replica}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import psutil
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from calcbench.core.buckets import BUCKETS
from calcbench.core.metrics_http import MetricsServer
from calcbench.core.vocabulary import SERVER_OUTCOMES


def established_connections(ports: Iterable[int]) -> int:
    """This process's established TCP connections whose local port is one of `ports`.

    Counted from the process's own sockets, so replicas sharing a port (SO_REUSEPORT) each
    count only theirs. The same function serves both stacks.
    """
    wanted = set(ports)
    return sum(
        1
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.status == psutil.CONN_ESTABLISHED and conn.laddr and conn.laddr.port in wanted
    )


class _ConnectionCollector(Collector):
    def __init__(self, service: str, replica: str, ports: tuple[int, ...]) -> None:
        self._labels = [service, replica]
        self.ports = ports

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "calc_tcp_open_connections",
            "Established TCP connections on the serving port(s), counted at scrape time.",
            labels=["service", "replica"],
        )
        gauge.add_metric(self._labels, established_connections(self.ports))
        yield gauge


class ServiceMetrics:
    """The metrics of one replica; `observe` is the only call on the request path."""

    def __init__(self, service: str, replica: str, ports: tuple[int, ...] = ()) -> None:
        self.registry = CollectorRegistry()
        requests = Counter(
            "calc_requests",
            "Requests served, by outcome.",
            ["service", "replica", "outcome"],
            registry=self.registry,
        )
        duration = Histogram(
            "calc_request_duration_seconds",
            "Time from request received to response ready, in seconds.",
            ["service", "replica"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        # Children bound once: a labels() lookup per request would cost more than the arithmetic.
        self._counters = {o: requests.labels(service, replica, o) for o in SERVER_OUTCOMES}
        self._duration = duration.labels(service, replica)
        self._connections = _ConnectionCollector(service, replica, ports)
        self.registry.register(self._connections)

    def set_ports(self, ports: tuple[int, ...]) -> None:
        """Set the serving ports counted by `calc_tcp_open_connections` (known after bind)."""
        self._connections.ports = ports

    def observe(self, outcome: str, seconds: float) -> None:
        self._counters[outcome].inc()
        self._duration.observe(seconds)

    def serve(self, host: str, port: int) -> MetricsServer:
        """Serve /metrics on `host:port` (0: any free port) until the returned server's stop()."""
        return MetricsServer(self.registry, host, port)
