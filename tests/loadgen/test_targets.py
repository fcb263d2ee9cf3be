"""Each target turns what its protocol said into one outcome scheme, failures included: real
sockets answering with chosen statuses, staying silent, or refusing connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest

from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands, Result
from calcbench.core.rpc import METHOD_NAMES, SERVICE_NAMES
from loadgen.grpc_target import GrpcTarget
from loadgen.outcomes import Reply
from loadgen.rest_target import RestTarget
from tests.sockets import closed_port


@asynccontextmanager
async def http_server(status: int, body: bytes) -> AsyncIterator[int]:
    """A raw HTTP/1.1 server answering every request with `status` and `body`."""
    head = f"HTTP/1.1 {status} X\r\ncontent-length: {len(body)}\r\nx-calc-replica: raw-0\r\n\r\n"

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(head.encode() + body)
        await writer.drain()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]
        for writer in held:
            writer.close()


async def rest_call(port: int, timeout: float = 1.0) -> Reply:
    target = RestTarget({"addition": [f"127.0.0.1:{port}"]}, timeout, connections=1)
    await target.connect()
    try:
        return await target.call("addition", 1.0, 2.0)
    finally:
        await target.close()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b'{"result": 3.0}', Reply("ok", "200", 3.0, "raw-0")),
        (200, b'{"result": 3}', Reply("ok", "200", 3.0, "raw-0")),
        (200, b"not json", Reply("ok", "200", None, "raw-0")),  # judged wrong_result
        (400, b'{"detail": "x"}', Reply("invalid_argument", "400", None, "raw-0")),
        (500, b"", Reply("server_error", "500", None, "raw-0")),
        (503, b"", Reply("unavailable", "503", None, "raw-0")),
        (504, b"", Reply("timeout", "504", None, "raw-0")),
        (422, b"", Reply("server_error", "422", None, "raw-0")),
    ],
)
def test_rest_statuses(status: int, body: bytes, expected: Reply) -> None:
    async def scenario() -> Reply:
        async with http_server(status, body) as port:
            return await rest_call(port)

    assert asyncio.run(scenario()) == expected


def test_rest_silence_is_a_timeout_and_refusal_unavailable() -> None:
    async def silent() -> Reply:
        async with silent_server() as port:
            return await rest_call(port, timeout=0.2)

    assert asyncio.run(silent()) == Reply("timeout", "timeout")
    with closed_port() as port:
        refused = asyncio.run(rest_call(port))
    assert refused.outcome == "unavailable" and refused.code == "ConnectionRefusedError"


Behaviour = Callable[[Operands, Any], Awaitable[Result]]


@asynccontextmanager
async def grpc_server(behaviour: Behaviour) -> AsyncIterator[int]:
    """A grpc.aio server whose addition method runs `behaviour`."""
    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(
        behaviour,
        request_deserializer=Operands.FromString,
        response_serializer=Result.SerializeToString,
    )
    generic = grpc.method_handlers_generic_handler(
        SERVICE_NAMES["addition"], {METHOD_NAMES["addition"]: handler}
    )
    server.add_generic_rpc_handlers((generic,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield port
    finally:
        await server.stop(0)


async def grpc_call(port: int, timeout: float = 1.0) -> Reply:
    target = GrpcTarget({"addition": [f"127.0.0.1:{port}"]}, timeout, channels=1)
    await target.connect()
    try:
        return await target.call("addition", 1.0, 2.0)
    finally:
        await target.close()


def failing(code: grpc.StatusCode) -> Behaviour:
    async def behaviour(request: Operands, context: Any) -> Result:
        await context.send_initial_metadata((("x-calc-replica", "raw-0"),))
        if code != grpc.StatusCode.OK:
            await context.abort(code, "as asked")
        return Result(result=request.op1 + request.op2)

    return behaviour


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (grpc.StatusCode.OK, Reply("ok", "OK", 3.0, "raw-0")),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            Reply("invalid_argument", "INVALID_ARGUMENT", None, "raw-0"),
        ),
        (grpc.StatusCode.INTERNAL, Reply("server_error", "INTERNAL", None, "raw-0")),
        (grpc.StatusCode.UNAVAILABLE, Reply("unavailable", "UNAVAILABLE", None, "raw-0")),
        (grpc.StatusCode.UNIMPLEMENTED, Reply("server_error", "UNIMPLEMENTED", None, "raw-0")),
    ],
)
def test_grpc_statuses(code: grpc.StatusCode, expected: Reply) -> None:
    async def scenario() -> Reply:
        async with grpc_server(failing(code)) as port:
            return await grpc_call(port)

    assert asyncio.run(scenario()) == expected


def test_grpc_deadline_is_a_timeout_and_refusal_unavailable() -> None:
    async def slow(request: Operands, context: Any) -> Result:
        await asyncio.sleep(5)
        return Result(result=0.0)

    async def scenario() -> Reply:
        async with grpc_server(slow) as port:
            return await grpc_call(port, timeout=0.2)

    assert asyncio.run(scenario()).outcome == "timeout"
    with closed_port() as port:
        refused = asyncio.run(grpc_call(port))
    assert (refused.outcome, refused.code) == ("unavailable", "UNAVAILABLE")
