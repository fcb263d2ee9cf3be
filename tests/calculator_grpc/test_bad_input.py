"""Bad input against a real replica of each server model: every case gets a precise status
(never UNKNOWN from an unhandled exception) and the replica keeps answering.

Every call that reaches the calculator method with its message is counted once in
`calc_requests_total`: bytes that are not an `Operands` as `malformed`, a deadline that passes
inside the handler as `timeout`. What grpc itself refuses never reaches the method and is not
counted: unknown methods (UNIMPLEMENTED), a message over 4 MiB or metadata over 16 KiB
(RESOURCE_EXHAUSTED), calls whose message never comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands, Result
from calcbench.core.rpc import METHOD_PATHS, SERVICE_NAMES, unary_method
from calculator_grpc.server import GrpcService
from calculator_grpc.sync_model import DEFAULT_WORKERS
from tests.calculator_grpc import raw_h2
from tests.calculator_grpc.conftest import StartService, call, requests_total

Channel = Callable[..., Any]
MAX_MESSAGE = 4 * 1024 * 1024  # grpc's default max_receive_message_length

NOT_OPERANDS = {
    "truncated tag": b"\xff",
    "field number 0": b"\x00",
    "op1 cut short": b"\x09\x00\x00",
    "length past the end": b"\x1a\x05ab",
    "invalid wire type": b"\x0f",
    "end group without start": b"\x0c",
}


def raw_call(channel: Any, path: str, data: bytes, timeout: float = 10.0) -> Any:
    """`(bytes, grpc.Call)` of a call sending `data` as the request, unserialized."""
    return channel.unary_unary(path).with_call(data, timeout=timeout)


def raw_error(channel: Any, path: str, data: bytes, timeout: float = 10.0) -> Any:
    with pytest.raises(grpc.RpcError) as caught:
        raw_call(channel, path, data, timeout)
    return caught.value


def calls_counted(replica: GrpcService) -> dict[str, float]:
    """calc_requests_total by outcome, outcomes never seen left out, from the replica's
    registry: the fuzz tests read the metrics port, whose connection gauge (a scan of the
    process's sockets) would cost more here than the calls under test."""
    counter = replica.metrics.registry.restricted_registry(["calc_requests_total"])
    return {
        sample.labels["outcome"]: sample.value
        for family in counter.collect()
        for sample in family.samples
        if sample.name == "calc_requests_total" and sample.value
    }


def wait_for_counted(replica: GrpcService, expected: dict[str, float]) -> dict[str, float]:
    """`calls_counted` once it is `expected`, or as it is after 10 s (a handler may still be
    finishing when its caller has its answer or has given up)."""
    deadline = time.monotonic() + 10.0
    while (counted := calls_counted(replica)) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return counted


def assert_still_answers(channel: Any, service: str = "addition") -> None:
    result, _ = call(channel, service, 6, 3, timeout=10.0)
    assert result.result == {"addition": 9.0, "percentage": 0.18}[service]


def test_bytes_that_are_not_operands_are_invalid_argument_counted_malformed(
    serve: StartService, channel: Channel
) -> None:
    replica = serve("addition", replica_id="addition-bad")
    client = channel(replica.port)
    for case, data in NOT_OPERANDS.items():
        error = raw_error(client, METHOD_PATHS["addition"], data)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, case
        assert error.details() == "request is not a calculator.v1.Operands message"
        assert ("x-calc-replica", "addition-bad") in tuple(error.initial_metadata())
    assert calls_counted(replica) == {"malformed": len(NOT_OPERANDS)}
    assert_still_answers(client)


def test_percentage_reads_its_request_the_same_way(serve: StartService, channel: Channel) -> None:
    multiplication, division = serve("multiplication"), serve("division")
    downstream = {
        "multiplication": (f"127.0.0.1:{multiplication.port}",),
        "division": (f"127.0.0.1:{division.port}",),
    }
    replica = serve("percentage", downstream=downstream)
    client = channel(replica.port)
    error = raw_error(client, METHOD_PATHS["percentage"], NOT_OPERANDS["truncated tag"])
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert requests_total(replica.metrics_port, "malformed") == 1
    assert requests_total(multiplication.metrics_port, "ok") == 0  # never called downstream
    assert_still_answers(client, "percentage")


@pytest.mark.parametrize(
    ("data", "service", "answer"),
    [
        (b"", "addition", 0.0),  # every field absent: 0 + 0
        (b"\x18\x05", "addition", 0.0),  # an unknown field 3, skipped
        (b"\x08\x01", "addition", 0.0),  # op1 as a varint: wrong wire type, kept as unknown
        (b"", "division", None),  # 0 / 0
    ],
    ids=["empty", "unknown field", "wrong wire type", "empty division"],
)
def test_bytes_protobuf_reads_as_defaults_are_ordinary_calls(
    serve: StartService, channel: Channel, data: bytes, service: str, answer: float | None
) -> None:
    # Proto3 has no required fields, so these are valid Operands (op1 = op2 = 0), answered as
    # such; not malformed. A client sending them gets what 0 and 0 give.
    replica = serve(service)
    if answer is None:
        error = raw_error(channel(replica.port), METHOD_PATHS[service], data)
        assert (error.code(), error.details()) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "division by zero",
        )
        assert calls_counted(replica) == {"invalid_argument": 1}
    else:
        reply, _ = raw_call(channel(replica.port), METHOD_PATHS[service], data)
        assert Result.FromString(reply).result == answer
        assert calls_counted(replica) == {"ok": 1}


UNKNOWN_METHODS = [
    "/calculator.v1.Addition/Subtract",
    METHOD_PATHS["subtraction"],
    "/calculator.v1.Addition/Add/extra",
    "/no.such.Service/Method",
    "/" + SERVICE_NAMES["addition"],
]


def test_unknown_methods_are_unimplemented_and_not_counted(
    serve: StartService, channel: Channel
) -> None:
    replica = serve("addition")
    client = channel(replica.port)
    for path in UNKNOWN_METHODS:
        assert raw_error(client, path, b"").code() == grpc.StatusCode.UNIMPLEMENTED, path
    assert calls_counted(replica) == {}
    assert_still_answers(client)


def test_a_message_over_4_mib_is_resource_exhausted_and_not_counted(
    serve: StartService, channel: Channel
) -> None:
    replica = serve("addition")
    client = channel(replica.port)
    # An unknown bytes field makes it a valid Operands but for its size.
    field = b"\x1a" + _varint(MAX_MESSAGE)
    error = raw_error(client, METHOD_PATHS["addition"], field + b"x" * MAX_MESSAGE)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in error.details()
    assert calls_counted(replica) == {}
    assert_still_answers(client)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes((*out, value))


def test_metadata_over_16_kib_is_resource_exhausted_and_not_counted(
    serve: StartService, channel: Channel
) -> None:
    # REST's long-header case: grpc core has a hard limit where httptools has none.
    replica = serve("addition")
    client = channel(replica.port)
    with pytest.raises(grpc.RpcError) as caught:
        unary_method(client, "addition")(
            Operands(op1=6, op2=3), metadata=(("x-padding", "p" * (1 << 16)),), timeout=10
        )
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "metadata size exceeds hard limit" in caught.value.details()
    assert calls_counted(replica) == {}
    assert_still_answers(client)


def test_no_deadline_is_answered_and_a_past_one_fails_at_the_client(
    serve: StartService, channel: Channel
) -> None:
    replica = serve("addition")
    client = channel(replica.port)
    result, _ = call(client, "addition", 1, 2, timeout=None)
    assert result.result == 3.0
    with pytest.raises(grpc.RpcError) as caught:
        call(client, "addition", 1, 2, timeout=-1.0)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert_still_answers(client)


def test_a_deadline_passing_in_the_handler_is_counted_as_a_timeout(
    serve: StartService, channel: Channel
) -> None:
    # --delay: the handler outlives the deadline, which leaves the call time to reach it.
    replica = serve("addition", delay=0.4)
    with pytest.raises(grpc.RpcError) as caught:
        call(channel(replica.port), "addition", 1, 2, timeout=0.2)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert wait_for_counted(replica, {"timeout": 1}) == {"timeout": 1}


def test_a_call_that_ends_without_its_message_is_not_counted(
    serve: StartService, channel: Channel, model: str
) -> None:
    replica = serve("addition")
    client = channel(replica.port)
    empty_stream = client.stream_unary(METHOD_PATHS["addition"])
    with pytest.raises(grpc.RpcError) as caught:
        empty_stream(iter(()), timeout=0.3)
    # sync: grpc's own cardinality check. aio: grpc.aio never answers such a call (it takes
    # the missing message for a cancel), so the caller's deadline ends it.
    expected = {"sync": grpc.StatusCode.UNIMPLEMENTED, "aio": grpc.StatusCode.DEADLINE_EXCEEDED}
    assert caught.value.code() == expected[model]
    assert calls_counted(replica) == {}
    assert_still_answers(client)


def test_a_client_that_never_reads_does_not_stop_others(
    serve: StartService, channel: Channel
) -> None:
    replica = serve("addition")
    message = Operands(op1=6, op2=1).SerializeToString()
    hog = raw_h2.connect(replica.port, window=0)  # and its socket is never read
    try:
        raw_h2.open_calls(hog, METHOD_PATHS["addition"], 200, message)
        assert_still_answers(channel(replica.port))
        assert wait_for_counted(replica, {"ok": 201}) == {"ok": 201}
    finally:
        hog.close()
    assert_still_answers(channel(replica.port))


HELD = 2 * DEFAULT_WORKERS


def test_half_requests_do_not_stop_others(
    serve: StartService, channel: Channel, model: str, request: pytest.FixtureRequest
) -> None:
    if model == "sync":
        # grpcio's sync server waits for a unary request's message on a pool thread, with no
        # timeout but the caller's deadline (none here): as many half requests as workers
        # (8) leave no thread for anyone else until their client goes.
        request.applymarker(pytest.mark.xfail(reason="sync pool starved", strict=True))
    replica = serve("addition")
    holder = raw_h2.connect(replica.port)
    try:
        raw_h2.open_calls(holder, METHOD_PATHS["addition"], HELD, message=None)
        raw_h2.ping(holder)  # they are in before the call below
        # The sync model is expected to fail: waiting 0.5 s for that is enough.
        timeout = 0.5 if model == "sync" else 10.0
        result, _ = call(channel(replica.port), "addition", 6, 3, timeout=timeout)
        assert result.result == 9.0
    finally:
        holder.close()


def test_half_requests_go_when_their_client_does(serve: StartService, channel: Channel) -> None:
    replica = serve("addition")
    holder = raw_h2.connect(replica.port)
    raw_h2.open_calls(holder, METHOD_PATHS["addition"], HELD, message=None)
    holder.close()
    assert_still_answers(channel(replica.port))
    assert calls_counted(replica) == {"ok": 1}
