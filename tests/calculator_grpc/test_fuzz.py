"""Property-based fuzzing of one real replica per server model, bounded to stay fast.

Hypothesis sends operands (NaN, infinities and extremes included) and raw request bytes; the
oracles are `calcbench.core.arithmetic.compute` and protobuf's own parser. No call may end UNKNOWN
or INTERNAL; afterwards the replica still answers, and its metrics counted every call once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcbench.core.arithmetic import InvalidArgument, compute
from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands, Result
from calcbench.core.rpc import METHOD_PATHS, unary_method
from calculator_grpc.server import GrpcService
from tests.calculator_grpc.conftest import StartService, call, scrape

Channel = Callable[..., Any]
FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),  # bounded runs, judged by their asserts
)
MALFORMED = "request is not a calculator.v1.Operands message"

EXTREMES = st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, 1e-308, 2.0**1023])
NUMBERS = st.floats() | EXTREMES  # NaN and both infinities included

# Bytes near the wire format: field tags (numbers 0-3, every wire type, some invalid) and
# varint or fixed-width payloads, so that some parse, some do not, and some cut off midway.
TAGS = st.integers(min_value=0, max_value=3).flatmap(
    lambda number: st.integers(min_value=0, max_value=7).map(lambda wire: number << 3 | wire)
)
PIECES = st.one_of(
    TAGS.map(lambda tag: bytes((tag,))),
    st.binary(min_size=1, max_size=9),
    st.just(b"\x80"),  # a varint that never ends
)
NEAR_OPERANDS = st.lists(PIECES, max_size=6).map(b"".join)
RAW = st.one_of(
    NEAR_OPERANDS,
    st.binary(max_size=48),
    st.builds(Operands, op1=NUMBERS, op2=NUMBERS).map(Operands.SerializeToString),
)


def test_operands_get_the_arithmetic_or_invalid_argument(
    serve: StartService, channel: Channel
) -> None:
    replica = serve("division")
    divide = unary_method(channel(replica.port), "division")
    sent = 0

    @FUZZ
    @given(op1=NUMBERS, op2=NUMBERS)
    def run(op1: float, op2: float) -> None:
        nonlocal sent
        sent += 1
        try:
            expected = compute("division", op1, op2)
        except InvalidArgument as exc:
            error = _error(lambda: divide(Operands(op1=op1, op2=op2), timeout=10))
            assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        else:
            assert divide(Operands(op1=op1, op2=op2), timeout=10).result == expected

    run()
    assert_counted_and_answering(replica, channel, sent)


def test_raw_bytes_are_read_as_protobuf_reads_them(serve: StartService, channel: Channel) -> None:
    replica = serve("division")
    send = channel(replica.port).unary_unary(METHOD_PATHS["division"])
    sent = 0

    @FUZZ
    @given(data=RAW)
    def run(data: bytes) -> None:
        nonlocal sent
        sent += 1
        try:
            request = Operands.FromString(data)
            expected = compute("division", request.op1, request.op2)
        except DecodeError:
            error = _error(lambda: send(data, timeout=10))
            assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, MALFORMED)
        except InvalidArgument as exc:
            error = _error(lambda: send(data, timeout=10))
            assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        else:
            assert Result.FromString(send(data, timeout=10)).result == expected

    run()
    assert_counted_and_answering(replica, channel, sent)


def _error(attempt: Callable[[], Any]) -> Any:
    """The grpc.RpcError `attempt` raises (fails the test if it returns)."""
    try:
        attempt()
    except grpc.RpcError as error:
        return error
    raise AssertionError("the call succeeded")


def assert_counted_and_answering(replica: GrpcService, channel: Channel, sent: int) -> None:
    """Every fuzzed call counted once; then a valid call still answered and counted."""
    assert _counted(replica) == sent
    result, _ = call(channel(replica.port), "division", 6, 3, timeout=10)
    assert result.result == 2.0
    assert _counted(replica) == sent + 1


def _counted(replica: GrpcService) -> float:
    return sum(
        value
        for (name, _), value in scrape(replica.metrics_port).items()
        if name == "calc_requests_total"
    )
