"""One replica per test, for real, in each server model: answers, errors, health, reflection."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from calcbench.core.listening import PortInUse, PortShare
from calcbench.core.rpc import SERVICE_NAMES
from calcbench.core.service_config import ServiceConfig
from calculator_grpc.server import start
from tests.calculator_grpc.conftest import StartService, call, rpc_error
from tests.sockets import is_released, taken_port

Channel = Callable[..., Any]


@pytest.mark.parametrize(
    ("service", "op1", "op2", "expected"),
    [
        ("addition", 2, 3.5, 5.5),
        ("subtraction", 2, 3.5, -1.5),
        ("multiplication", -2, 3.5, -7.0),
        ("division", 7, 2, 3.5),
    ],
)
def test_each_operation_answers(
    serve: StartService, channel: Channel, service: str, op1: float, op2: float, expected: float
) -> None:
    replica = serve(service)
    result, _ = call(channel(replica.port), service, op1, op2)
    assert result.result == expected


def test_every_response_names_its_replica(serve: StartService, channel: Channel) -> None:
    replica = serve("addition", replica_id="addition-7")
    _, answer = call(channel(replica.port), "addition", 1, 1)
    assert ("x-calc-replica", "addition-7") in tuple(answer.initial_metadata())
    error = rpc_error(channel(replica.port), "addition", math.inf, 1)
    assert ("x-calc-replica", "addition-7") in tuple(error.initial_metadata())


@pytest.mark.parametrize(
    ("service", "op1", "op2", "message"),
    [
        ("division", 1, 0, "division by zero"),
        ("division", 0, 0, "division by zero"),
        ("addition", math.inf, 1, "operands must be finite numbers"),
        ("subtraction", 1, math.nan, "operands must be finite numbers"),
        ("multiplication", 1e200, 1e200, "result is not a finite number"),
    ],
)
def test_invalid_arguments_are_invalid_argument(
    serve: StartService, channel: Channel, service: str, op1: float, op2: float, message: str
) -> None:
    replica = serve(service)
    error = rpc_error(channel(replica.port), service, op1, op2)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == message


def test_the_replica_serves_only_its_own_service(serve: StartService, channel: Channel) -> None:
    replica = serve("addition")
    error = rpc_error(channel(replica.port), "subtraction", 1, 1)
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize("name", ["", SERVICE_NAMES["division"]])
def test_health_is_serving(serve: StartService, channel: Channel, name: str) -> None:
    replica = serve("division")
    stub = health_pb2_grpc.HealthStub(channel(replica.port))
    reply = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_health_does_not_know_other_services(serve: StartService, channel: Channel) -> None:
    replica = serve("division")
    stub = health_pb2_grpc.HealthStub(channel(replica.port))
    with pytest.raises(grpc.RpcError) as caught:
        stub.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAMES["addition"]), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_the_service(serve: StartService, channel: Channel) -> None:
    replica = serve("subtraction")
    database = ProtoReflectionDescriptorDatabase(channel(replica.port))
    services = set(database.get_services())
    assert services == {
        "calculator.v1.Subtraction",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    described = database.FindFileContainingSymbol("calculator.v1.Subtraction")
    assert described.package == "calculator.v1"


def test_own_port_serves_too(serve: StartService, channel: Channel) -> None:
    replica = serve("addition", own_port=0)
    assert replica.own_port not in (None, 0, replica.port)
    assert replica.own_port is not None
    result, _ = call(channel(replica.own_port), "addition", 40, 2)
    assert result.result == 42


def test_replicas_share_a_port_only_when_the_first_opened_it(serve: StartService) -> None:
    first = serve("addition", share=PortShare.OPEN, replica_id="addition-0")
    second = serve("addition", share=PortShare.JOIN, port=first.port, replica_id="addition-1")
    assert second.port == first.port
    in_use = f"^port {first.port} on 127.0.0.1 is already in use$"
    with pytest.raises(PortInUse, match=in_use):  # a stale stack is not joined
        serve("addition", share=PortShare.OPEN, port=first.port)
    alone = serve("subtraction")
    with pytest.raises(PortInUse, match=f"^port {alone.port} on 127.0.0.1 is already in use$"):
        serve("subtraction", share=PortShare.JOIN, port=alone.port)


def test_a_port_another_program_holds_is_named(serve: StartService) -> None:
    with taken_port() as port:
        for settings in ({"port": port}, {"own_port": port}, {"metrics_port": port}):
            with pytest.raises(OSError, match=f"^port {port} on 127.0.0.1 is already in use$"):
                serve("addition", **settings)


def test_stop_releases_every_port(model: str) -> None:
    config = ServiceConfig("addition", port=0, metrics_port=0, own_port=0, server_model=model)
    replica = start(config)
    ports = (replica.port, replica.own_port, replica.metrics_port)
    replica.stop(0)
    for port in ports:
        assert port is not None
        assert is_released(port)
