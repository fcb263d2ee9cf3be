"""/metrics on the separate port: requests by outcome, latency histogram, open connections."""

from __future__ import annotations

import time

import httpx

from tests.calculator_rest.conftest import StartService, scrape, url


def test_requests_are_counted_by_outcome_with_a_latency_histogram(
    serve: StartService, client: httpx.Client
) -> None:
    replica = serve("division", replica_id="division-3")
    for body in (b'{"op1": 1, "op2": 2}', b'{"op1": 4, "op2": 2}', b'{"op1": 1, "op2": 0}'):
        client.post(url(replica, "/division"), content=body)
    client.post(url(replica, "/division"), content=b"{")
    client.get(url(replica, "/healthz"))  # not a calculator request: not counted
    samples = scrape(replica.metrics_port)
    counts = {labels["outcome"]: value for labels, value in samples["calc_requests_total"]}
    assert counts["ok"] == 2
    assert counts["invalid_argument"] == 1
    assert counts["malformed"] == 1
    assert sum(counts.values()) == 4
    labels = {(lb["service"], lb["replica"]) for lb, _ in samples["calc_requests_total"]}
    assert labels == {("division", "division-3")}
    buckets = [float(lb["le"]) for lb, _ in samples["calc_request_duration_seconds_bucket"]]
    finite = [b for b in buckets if b != float("inf")]
    assert min(finite) == 10e-6 and max(finite) == 10.0 and len(finite) >= 20
    [(_, observed)] = samples["calc_request_duration_seconds_count"]
    assert observed == 4


def open_connections(metrics_port: int) -> float:
    [(_, value)] = scrape(metrics_port)["calc_tcp_open_connections"]
    return value


def wait_for_connections(metrics_port: int, expected: float, timeout: float = 5.0) -> float:
    """Poll until the gauge shows `expected` (a closed socket takes a moment to go)."""
    deadline = time.monotonic() + timeout
    while (value := open_connections(metrics_port)) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


def test_open_connections_are_the_keep_alive_connections_clients_hold(
    serve: StartService,
) -> None:
    replica = serve("addition", own_port=0)
    assert open_connections(replica.metrics_port) == 0
    assert replica.own_port is not None
    clients = [httpx.Client(), httpx.Client(), httpx.Client()]
    try:
        # Two connections to the shared port, one to the replica's own port.
        for http, port in zip(clients, (replica.port, replica.port, replica.own_port), strict=True):
            reply = http.post(f"http://127.0.0.1:{port}/addition", json={"op1": 1, "op2": 1})
            assert reply.status_code == 200
        assert wait_for_connections(replica.metrics_port, 3) == 3
        clients.pop().close()
        assert wait_for_connections(replica.metrics_port, 2) == 2
    finally:
        for http in clients:
            http.close()
    assert wait_for_connections(replica.metrics_port, 0) == 0


def test_metrics_port_is_separate_and_resolved(serve: StartService) -> None:
    replica = serve("subtraction")
    assert replica.metrics_port not in (0, replica.port)
    reply = httpx.get(f"http://127.0.0.1:{replica.metrics_port}/metrics")
    assert "calc_tcp_open_connections" in reply.text
