"""Issue 5 on one machine: one HTTP/2 connection pins to one replica behind connection-level
(kernel, SO_REUSEPORT) balancing; per-request round robin spreads it. The run is
`balancing_run` (conftest), shared with the fault module."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from tests.bounds import round_robin_share

# Starts whole stacks: one xdist worker runs every such module, one after the other.
pytestmark = pytest.mark.xdist_group("stacks")
SERVICES = ("addition", "subtraction", "multiplication", "division", "percentage")


def _per_replica(run: Path, protocol: str, mode: str) -> dict[str, dict[str, tuple[int, int]]]:
    """service -> replica -> (client requests, server requests)."""
    table: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    with (run / "replicas.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["protocol"] == protocol and row["balancing"] == mode:
                counts = (int(float(row["requests"])), int(float(row["server_requests"])))
                table[row["service"]][row["replica"]] = counts
    return table


def test_one_grpc_channel_pins_every_request_to_one_replica(balancing_run: Path) -> None:
    table = _per_replica(balancing_run, "grpc", "shared")
    for service in SERVICES:
        client = sorted(counts[0] for counts in table[service].values())
        assert len(client) == 2 and client[0] == 0 and client[1] > 50, (service, table[service])


def test_round_robin_spreads_requests_evenly(balancing_run: Path) -> None:
    for protocol in ("grpc", "rest"):
        table = _per_replica(balancing_run, protocol, "round-robin")
        for service in SERVICES:
            client = [counts[0] for counts in table[service].values()]
            # Per-request rotation over two replicas (~120 requests a service in 3 s).
            shares = [c / sum(client) for c in client]
            assert len(client) == 2 and all(map(round_robin_share, shares)), (
                protocol,
                service,
                table[service],
            )


def test_server_and_client_counts_agree(balancing_run: Path) -> None:
    for protocol in ("grpc", "rest"):
        for mode in ("shared", "round-robin"):
            table = _per_replica(balancing_run, protocol, mode)
            # Only the services the client alone calls: the others also serve percentage.
            for service in ("addition", "subtraction", "percentage"):
                for replica, (client, server) in table[service].items():
                    assert client == server, (protocol, mode, replica)


def test_balancing_outputs(balancing_run: Path) -> None:
    header = (balancing_run / "balancing.csv").read_text().splitlines()[0]
    assert header.startswith("protocol,balancing,service,replicas,requests,max_share_over_fair,cv")
    for chart in ("replica_requests.png", "replica_connections.png"):
        assert (balancing_run / "charts" / chart).read_bytes()[:4] == b"\x89PNG"
    report = (balancing_run / "report.md").read_text()
    assert "idle replica" in report
