"""Percentage as a real network client of multiplication and division."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands, Result
from calculator_grpc.server import GrpcService
from tests.calculator_grpc.conftest import (
    StartService,
    call,
    requests_total,
    rpc_error,
)

Channel = Callable[..., Any]
FakeDownstream = Callable[[str, Callable[[Operands, Any], Result]], int]


def _address(replica: GrpcService) -> str:
    return f"127.0.0.1:{replica.port}"


def _percentage(serve: StartService, multiplication: list[str], division: list[str]) -> Any:
    return serve(
        "percentage",
        downstream={"multiplication": tuple(multiplication), "division": tuple(division)},
    )


@pytest.fixture
def dead_address() -> Iterator[str]:
    """An address that refuses connections: bound (so nobody else takes it) but not listening."""
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{reserved.getsockname()[1]}"


def test_percentage_goes_through_multiplication_and_division(
    serve: StartService, channel: Channel
) -> None:
    multiplication, division = serve("multiplication"), serve("division")
    percentage = _percentage(serve, [_address(multiplication)], [_address(division)])
    result, answer = call(channel(percentage.port), "percentage", 50, 30)
    assert result.result == 15.0
    assert ("x-calc-replica", "percentage-test") in tuple(answer.initial_metadata())
    assert requests_total(multiplication.metrics_port) == 1
    assert requests_total(division.metrics_port) == 1


def test_percentage_without_a_caller_deadline_calls_downstream_without_one(
    serve: StartService, channel: Channel
) -> None:
    multiplication, division = serve("multiplication"), serve("division")
    percentage = _percentage(serve, [_address(multiplication)], [_address(division)])
    result, _ = call(channel(percentage.port), "percentage", -200, 0.5, timeout=None)
    assert result.result == -1.0


def test_round_robin_spreads_requests_over_downstream_replicas(
    serve: StartService, channel: Channel
) -> None:
    replicas = [serve("multiplication", replica_id=f"multiplication-{i}") for i in range(2)]
    division = serve("division")
    percentage = _percentage(serve, [_address(r) for r in replicas], [_address(division)])
    client = channel(percentage.port)
    # Round robin only picks connected replicas: call until both have answered once ...
    deadline = time.monotonic() + 10
    while min(requests_total(r.metrics_port) for r in replicas) == 0:
        assert time.monotonic() < deadline, "one multiplication replica never got a request"
        call(client, "percentage", 1, 2)
    before = [requests_total(r.metrics_port) for r in replicas]
    # ... then round robin alternates strictly between the two connected replicas.
    for _ in range(40):
        call(client, "percentage", 1, 2)
    counts = [requests_total(r.metrics_port) - b for r, b in zip(replicas, before, strict=True)]
    assert sum(counts) == 40
    assert abs(counts[0] - counts[1]) <= 2, counts


@pytest.mark.parametrize(
    ("op1", "op2", "message"),
    [
        (1e200, 1e200, "result is not a finite number"),  # the product overflows downstream
        (float("inf"), 2, "operands must be finite numbers"),
    ],
)
def test_invalid_arguments_reach_the_caller(
    serve: StartService, channel: Channel, op1: float, op2: float, message: str
) -> None:
    multiplication, division = serve("multiplication"), serve("division")
    percentage = _percentage(serve, [_address(multiplication)], [_address(division)])
    error = rpc_error(channel(percentage.port), "percentage", op1, op2)
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, message)
    assert requests_total(percentage.metrics_port, "invalid_argument") == 1


@pytest.mark.parametrize("answer", [float("inf"), float("nan")])
def test_a_result_that_is_not_finite_is_an_invalid_argument(
    serve: StartService, channel: Channel, fake_downstream: FakeDownstream, answer: float
) -> None:
    # A double on the wire can be infinite (JSON cannot); percentage checks its result as the
    # REST service does (`calcbench.core.calculation`), whatever its downstream answered.
    multiplication = serve("multiplication")
    fake = (
        f"127.0.0.1:{fake_downstream('division', lambda request, context: Result(result=answer))}"
    )
    percentage = _percentage(serve, [_address(multiplication)], [fake])
    error = rpc_error(channel(percentage.port), "percentage", 1, 2)
    assert (error.code(), error.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "result is not a finite number",
    )
    assert requests_total(percentage.metrics_port, "invalid_argument") == 1


@pytest.mark.parametrize("dead", ["multiplication", "division"])
def test_unreachable_downstream_is_unavailable_and_named(
    serve: StartService, channel: Channel, dead_address: str, dead: str
) -> None:
    alive = {name: [_address(serve(name))] for name in ("multiplication", "division")}
    alive[dead] = [dead_address]
    percentage = _percentage(serve, alive["multiplication"], alive["division"])
    error = rpc_error(channel(percentage.port), "percentage", 1, 2)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error.details().startswith(f"{dead} unavailable: ")
    assert requests_total(percentage.metrics_port, "unavailable") == 1


def test_downstream_deadline_exceeded_is_named(
    serve: StartService, channel: Channel, fake_downstream: FakeDownstream
) -> None:
    def expired(request: Operands, context: Any) -> Result:
        context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
        raise AssertionError("abort returns only by raising")

    division = serve("division")
    fake = f"127.0.0.1:{fake_downstream('multiplication', expired)}"
    percentage = _percentage(serve, [fake], [_address(division)])
    error = rpc_error(channel(percentage.port), "percentage", 1, 2)
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error.details() == "multiplication deadline exceeded: Deadline Exceeded"


def test_callers_deadline_is_propagated_downstream(
    serve: StartService, channel: Channel, fake_downstream: FakeDownstream
) -> None:
    seen: list[float] = []
    release = threading.Event()

    def slow(request: Operands, context: Any) -> Result:
        seen.append(context.time_remaining())
        release.wait(5)
        return Result(result=request.op1 * request.op2)

    division = serve("division")
    fake = f"127.0.0.1:{fake_downstream('multiplication', slow)}"
    percentage = _percentage(serve, [fake], [_address(division)])
    try:
        error = rpc_error(channel(percentage.port), "percentage", 1, 2, timeout=0.3)
        assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        # What is left of the caller's 0.3 s (never more); above 0 unless forwarding one call
        # in-process took 0.3 s, far beyond a busy 2-core machine's scheduling delays.
        assert len(seen) == 1 and 0 < seen[0] <= 0.3
        # The server counts its own timeout once its downstream call has given up too.
        deadline = time.monotonic() + 5
        while requests_total(percentage.metrics_port, "timeout") < 1:
            assert time.monotonic() < deadline, "percentage never counted the timeout"
            time.sleep(0.02)
    finally:
        release.set()
