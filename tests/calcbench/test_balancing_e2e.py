"""Issue 5 on one machine: one HTTP/2 connection pins to one replica behind connection-level
(kernel, SO_REUSEPORT) balancing; per-request round robin spreads it."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests.bounds import round_robin_share

CALCBENCH = [sys.executable, "-m", "calcbench.cli"]
SERVICES = ("addition", "subtraction", "multiplication", "division", "percentage")


@pytest.fixture(scope="module")
def balancing_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("balancing") / "r"
    command = [*CALCBENCH, "run", "--scenario", "balancing", "--rounds", "1", "--warmup", "0"]
    # A long call timeout: the tests compare exact client and server counts, and a call the
    # client gave up on a busy machine may not have reached its server.
    command += ["--timeout", "10"]
    done = subprocess.run(
        [*command, "--duration", "3", "--rate", "200", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "requests per replica" in done.stdout
    return out


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
