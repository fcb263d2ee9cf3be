"""The /metrics every replica exposes on its own port (names and labels are a contract)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from calcbench.core.vocabulary import SERVER_OUTCOMES
from tests.calculator_grpc.conftest import StartService, call, rpc_error, scrape

Channel = Callable[..., Any]
LABELS = (("replica", "division-3"), ("service", "division"))


def _connections(metrics_port: int) -> float:
    return scrape(metrics_port)[("calc_tcp_open_connections", LABELS)]


def test_requests_are_counted_by_outcome(serve: StartService, channel: Channel) -> None:
    replica = serve("division", replica_id="division-3")
    client = channel(replica.port)
    for _ in range(3):
        call(client, "division", 1, 2)
    for _ in range(2):
        rpc_error(client, "division", 1, 0)
    samples = scrape(replica.metrics_port)
    counts = {
        o: samples[("calc_requests_total", (("outcome", o), *LABELS))] for o in SERVER_OUTCOMES
    }
    assert counts == {o: {"ok": 3, "invalid_argument": 2}.get(o, 0) for o in SERVER_OUTCOMES}
    assert samples[("calc_request_duration_seconds_count", LABELS)] == 5


def test_duration_buckets_are_log_spaced_from_50us_to_10s(
    serve: StartService, channel: Channel
) -> None:
    replica = serve("division", replica_id="division-3")
    call(channel(replica.port), "division", 1, 2)
    bounds = sorted(
        float(dict(labels)["le"])
        for (name, labels), _ in scrape(replica.metrics_port).items()
        if name == "calc_request_duration_seconds_bucket"
    )
    finite = bounds[:-1]
    assert bounds[-1] == float("inf")
    assert finite[0] == 10e-6 and finite[-1] == 10.0 and len(finite) >= 20
    ratios = [b / a for a, b in itertools.pairwise(finite[:-1])]
    assert max(ratios) / min(ratios) < 1.1  # log-spaced: a constant ratio, give or take rounding


def test_open_connections_count_each_connected_channel(
    serve: StartService, channel: Channel
) -> None:
    replica = serve("division", replica_id="division-3", own_port=0)
    assert _connections(replica.metrics_port) == 0
    clients = [channel(replica.port), channel(replica.port)]
    assert replica.own_port is not None
    clients.append(channel(replica.own_port))
    for client in clients:
        call(client, "division", 1, 2)
    assert _connections(replica.metrics_port) == 3
    for client in clients:
        client.close()
    deadline = time.monotonic() + 5
    while _connections(replica.metrics_port) != 0:
        assert time.monotonic() < deadline, "closed channels still counted"
        time.sleep(0.02)
