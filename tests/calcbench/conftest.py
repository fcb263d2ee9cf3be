"""Fixtures of the calcbench tests: one `addition` replica per protocol, in-process; and the
one balancing run that the balancing and fault end-to-end modules both read.

`calcbench run --scenario balancing` with a slow addition replica measures all three modes
(shared, round-robin, ewma) for both protocols in one run: one boot of the 2-replica stacks
instead of two, for the pinning, spreading and latency-aware findings alike.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from calcbench.core.endpoints import Endpoints, ServiceEndpoint
from calcbench.core.service_config import RunningService, ServiceConfig

CALCBENCH = [sys.executable, "-m", "calcbench.cli"]
#: 100 ms: far above what scheduling on a busy 2-core machine adds to the fast replica's
#: answers, so that latency-aware balancing has a difference to see whatever the load.
SLOW_DELAY_MS = 100
SLOW_FAULT = f"slow-replica=addition:1:{SLOW_DELAY_MS / 1000}"


@pytest.fixture(scope="session")
def balancing_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Round robin sends the slow replica ~20 requests/s; one HTTP/1.1 connection carries at
    most 10 of 100 ms each, so REST gets 4 connections per service (with the run's default of
    1 the queue grows). No warm-up, so the client's counts are every request the servers saw."""
    out = tmp_path_factory.mktemp("balancing") / "r"
    command = [*CALCBENCH, "run", "--scenario", "balancing", "--rounds", "1", "--warmup", "0"]
    command += ["--no-calibrate"]  # test_run_e2e covers the calibration
    command += ["--fault", SLOW_FAULT, "--connections", "4"]
    # A long call timeout: the tests compare exact client and server counts, and a call the
    # client gave up on a busy machine may not have reached its server.
    command += ["--timeout", "10", "--duration", "3", "--rate", "200", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "requests per replica" in done.stdout
    assert "ewma: requests per replica" in done.stdout
    return out


def _start(protocol: str) -> RunningService:
    config = ServiceConfig("addition", port=0, metrics_port=0, replica_id="addition-0")
    if protocol == "rest":
        from calculator_rest.server import start as start_rest

        return start_rest(config)
    from calculator_grpc.server import start as start_grpc

    return start_grpc(config)


@pytest.fixture(params=["rest", "grpc"], scope="module")
def addition(request: pytest.FixtureRequest) -> Iterator[Endpoints]:
    replica = _start(str(request.param))
    address = f"127.0.0.1:{replica.port}"
    yield Endpoints(str(request.param), {"addition": ServiceEndpoint(address)})
    replica.stop(0.5)
