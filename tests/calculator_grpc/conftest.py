"""Fixtures: real gRPC replicas on 127.0.0.1 port 0, client channels, fake downstreams.

Everything started here is stopped at teardown, also when the test fails.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands, Result
from calcbench.core.rpc import channel_target, unary_method
from calcbench.core.service_config import ServiceConfig
from calcbench.core.vocabulary import GrpcServerModel
from calculator_grpc import wiring
from calculator_grpc.server import GrpcService, start

StartService = Callable[..., GrpcService]


@pytest.fixture(params=list(GrpcServerModel))
def model(request: pytest.FixtureRequest) -> str:
    """Each test taking it runs once per server model."""
    return str(request.param)


@pytest.fixture
def serve(model: str) -> Iterator[StartService]:
    """`serve(service, **config)` starts a replica of `model`; all stop at teardown."""
    started: list[GrpcService] = []

    def _start(service: str, **settings: Any) -> GrpcService:
        settings = {"port": 0, "metrics_port": 0, "replica_id": f"{service}-test", **settings}
        config = ServiceConfig(service, server_model=model, **settings)
        started.append(start(config))
        return started[-1]

    yield _start
    for service in reversed(started):
        service.stop(0)


@pytest.fixture
def channel() -> Iterator[Callable[..., Any]]:
    """`channel(port_or_addresses)` opens a sync client channel; all close at teardown."""
    opened: list[Any] = []

    def _open(where: int | list[str]) -> Any:
        addresses = [f"127.0.0.1:{where}"] if isinstance(where, int) else where
        target, options = channel_target(addresses)
        opened.append(grpc.insecure_channel(target, options=options))
        return opened[-1]

    yield _open
    for opened_channel in opened:
        opened_channel.close()


def call(channel: Any, service: str, op1: float, op2: float, timeout: float | None = 5.0) -> Any:
    """`(Result, grpc.Call)` of one call (`timeout` None: no deadline); raises grpc.RpcError
    on a status other than OK."""
    method = unary_method(channel, service)
    return method.with_call(Operands(op1=op1, op2=op2), timeout=timeout)


def rpc_error(channel: Any, service: str, op1: float, op2: float, timeout: float = 5.0) -> Any:
    """The grpc.RpcError a call ends with (fails the test if the call succeeds)."""
    with pytest.raises(grpc.RpcError) as caught:
        call(channel, service, op1, op2, timeout)
    return caught.value


def scrape(metrics_port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The replica's /metrics as {(sample name, sorted labels): value}."""
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def requests_total(metrics_port: int, outcome: str = "ok") -> float:
    """calc_requests_total for one outcome (any service/replica labels)."""
    return sum(
        value
        for (name, labels), value in scrape(metrics_port).items()
        if name == "calc_requests_total" and ("outcome", outcome) in labels
    )


FakeBehaviour = Callable[[Operands, Any], Result]


@pytest.fixture
def fake_downstream() -> Iterator[Callable[[str, FakeBehaviour], int]]:
    """`fake_downstream(service, behaviour) -> port`: a real gRPC server answering `service`
    with `behaviour` (a slow or failing downstream, which the real services never are)."""
    servers: list[Any] = []

    def _start(service: str, behaviour: FakeBehaviour) -> int:
        server = grpc.server(ThreadPoolExecutor(max_workers=4))
        wiring.register(server, service, wiring.unary_handler(behaviour))
        port = int(server.add_insecure_port("127.0.0.1:0"))
        server.start()
        servers.append(server)
        return port

    yield _start
    for server in servers:
        server.stop(0)
