"""REST and gRPC give the same answer, or the same class of error, for the same operands."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calculator_grpc.server
import calculator_rest.server
from calcbench.core.protos.calculator.v1 import calculator_pb2
from calcbench.core.rpc import METHOD_PATHS
from calcbench.core.service_config import RunningService, ServiceConfig
from calcbench.core.vocabulary import SERVICES

Answer = tuple[str, float | str]  # ("ok", result) or ("invalid_argument", message)


@dataclass
class Stacks:
    rest: dict[str, str]
    channels: dict[str, grpc.Channel]
    client: httpx.Client


def _start_stack(start: object) -> tuple[dict[str, str], list[RunningService]]:
    running: list[RunningService] = []
    addresses: dict[str, str] = {}
    for service in SERVICES:
        downstream: dict[str, tuple[str, ...]] = {}
        if service == "percentage":
            downstream = {d: (addresses[d],) for d in ("multiplication", "division")}
        config = ServiceConfig(
            service, port=0, metrics_port=0, replica_id=f"{service}-0", downstream=downstream
        )
        replica = start(config)  # type: ignore[operator]
        running.append(replica)
        addresses[service] = f"127.0.0.1:{replica.port}"
    return addresses, running


@pytest.fixture(scope="module")
def stacks() -> Iterator[Stacks]:
    rest, rest_running = _start_stack(calculator_rest.server.start)
    try:
        grpc_addresses, grpc_running = _start_stack(calculator_grpc.server.start)
        try:
            channels = {s: grpc.insecure_channel(a) for s, a in grpc_addresses.items()}
            with httpx.Client() as client:
                yield Stacks(rest, channels, client)
            for channel in channels.values():
                channel.close()
        finally:
            for replica in grpc_running:
                replica.stop()
    finally:
        for replica in rest_running:
            replica.stop()


def _rest(client: httpx.Client, address: str, service: str, op1: float, op2: float) -> Answer:
    reply = client.post(f"http://{address}/{service}", json={"op1": op1, "op2": op2})
    if reply.status_code == 200:
        return ("ok", reply.json()["result"])
    assert reply.status_code == 400, reply.text
    return ("invalid_argument", reply.json()["detail"])


def _grpc(channel: grpc.Channel, service: str, op1: float, op2: float) -> Answer:
    call = channel.unary_unary(
        METHOD_PATHS[service],
        request_serializer=calculator_pb2.Operands.SerializeToString,
        response_deserializer=calculator_pb2.Result.FromString,
    )
    try:
        return ("ok", call(calculator_pb2.Operands(op1=op1, op2=op2), timeout=5).result)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, exc
        return ("invalid_argument", exc.details())


operands = st.one_of(
    st.just(0.0),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from([1e308, -1e308, 5e-324, -5e-324, 1e-300, 1e160]),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(op1=operands, op2=operands)
def test_same_answer_over_both_protocols(stacks: Stacks, op1: float, op2: float) -> None:
    for service in SERVICES:
        over_grpc = _grpc(stacks.channels[service], service, op1, op2)
        over_rest = _rest(stacks.client, stacks.rest[service], service, op1, op2)
        assert over_rest == over_grpc, service
