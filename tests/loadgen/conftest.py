"""Real calculator services for the load generator's tests: started in-process on 127.0.0.1
port 0 through each stack's `start(config)`, or as a subprocess when a test kills one.

Everything started here is stopped at teardown, also when the test fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from calcbench.core.endpoints import Endpoints, Replica, ServiceEndpoint
from calcbench.core.listening import PortShare
from calcbench.core.service_config import RunningService, ServiceConfig
from calcbench.orchestration.scrape import Scrape, scrape

FIVE = ("addition", "subtraction", "multiplication", "division", "percentage")
#: The call timeout of the tests that compare exact counts, and REST percentage's downstream
#: budget here: on a busy machine a call given up may never reach (or be counted by) its
#: server. (gRPC's percentage passes its caller's deadline on.)
LONG_TIMEOUT = 10.0


def start_replica(protocol: str, config: ServiceConfig) -> RunningService:
    if protocol == "rest":
        from calculator_rest.server import start as start_rest

        return start_rest(config)
    from calculator_grpc.server import start as start_grpc

    return start_grpc(config)


@dataclass
class LocalStack:
    """Replicas of some services of one stack, and the endpoints that reach them."""

    protocol: str
    replicas: list[RunningService] = field(default_factory=list)
    services: dict[str, ServiceEndpoint] = field(default_factory=dict)

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(self.protocol, dict(self.services))

    def add(
        self, service: str, count: int = 1, delays: Sequence[float] = (), **config: Any
    ) -> None:
        """`count` replicas of `service` sharing one port (SO_REUSEPORT), each with its own;
        replica `i` waits `delays[i]` seconds before each answer (0 when not given)."""
        port = 0
        replicas: list[Replica] = []
        for index in range(count):
            replica_id = f"{service}-{index}"
            delay = delays[index] if index < len(delays) else 0.0
            share = PortShare.ALONE if count == 1 else PortShare.JOIN if index else PortShare.OPEN
            settings = {"own_port": 0, "share": share, "delay": delay, **config}
            running = start_replica(
                self.protocol,
                ServiceConfig(service, port, 0, replica_id=replica_id, **settings),
            )
            self.replicas.append(running)
            port = running.port
            own = f"127.0.0.1:{running.own_port}"
            replicas.append(Replica(replica_id, own, f"127.0.0.1:{running.metrics_port}"))
        self.services[service] = ServiceEndpoint(f"127.0.0.1:{port}", tuple(replicas))

    def stop(self) -> None:
        for replica in reversed(self.replicas):
            replica.stop(0.5)

    def scrape(self, service: str) -> list[Scrape]:
        """Every replica's metrics of `service`, in replica order."""
        with httpx.Client(timeout=5.0) as client:
            return [scrape(r.metrics, client) for r in self.services[service].replicas]

    def served(self, service: str) -> float:
        return sum(sum(s.requests.values()) for s in self.scrape(service))


def five_services(protocol: str) -> LocalStack:
    stack = LocalStack(protocol)
    try:
        for service in FIVE[:4]:
            stack.add(service)
        downstream = {s: (stack.services[s].address,) for s in ("multiplication", "division")}
        stack.add("percentage", downstream=downstream, downstream_timeout=LONG_TIMEOUT)
    except BaseException:
        stack.stop()
        raise
    return stack


@pytest.fixture(scope="module", params=["rest", "grpc"])
def stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """The five services of one stack, one replica each (each test runs for both stacks)."""
    started = five_services(str(request.param))
    yield started
    started.stop()


@pytest.fixture(scope="module", params=["rest", "grpc"])
def pair(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """Two addition replicas sharing a port, each also on its own port."""
    started = LocalStack(str(request.param))
    try:
        started.add("addition", count=2)
        yield started
    finally:
        started.stop()


@dataclass
class ServiceProcess:
    """A replica in its own process (`python -m calculator_<protocol>`), to be killed."""

    process: subprocess.Popen[str]
    ready: dict[str, Any]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.ready['port']}"


@pytest.fixture
def service_process() -> Iterator[Any]:
    """`service_process(protocol, service)` starts one; all are killed at teardown."""
    started: list[subprocess.Popen[str]] = []

    def _start(protocol: str, service: str, args: Sequence[str] = ()) -> ServiceProcess:
        command = [
            sys.executable,
            "-m",
            f"calculator_{protocol}",
            service,
            "--port",
            "0",
            "--metrics-port",
            "0",
            "--replica-id",
            f"{service}-p",
            *args,
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()  # the ready line, or "" if it died
        assert line, f"calculator_{protocol} {service} did not start"
        return ServiceProcess(process, json.loads(line))

    yield _start
    for process in started:
        process.kill()
        process.wait(timeout=10)
