"""The lean HTTP/1.1 client against raw asyncio servers: answers, keep-alive and the pool's
bound, and every way a call fails before a whole answer (on asyncio's loop and on uvloop)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvloop

from calcbench.core import http1
from calcbench.core.http1 import Answer, ConnectionLost, Pool
from tests.sockets import HOST, closed_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def answer(status: int, body: bytes, extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status} X\r\ncontent-length: {len(body)}\r\nx-calc-replica: r-0\r\n"
    return (head + extra + "\r\n").encode() + body


class Server:
    """Counts the connections it accepts; answers request `n` with `respond(n)`, or closes the
    connection when that is None; with `close`, closes it after every answer too."""

    def __init__(self, respond: Callable[[int], bytes | None], close: bool = False) -> None:
        self.respond = respond
        self.close = close
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                self.requests.append(head + await reader.readexactly(length))
                reply = self.respond(len(self.requests))
                if reply is None:
                    writer.close()
                    return
                writer.write(reply)
                await writer.drain()
                if self.close:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(server: Server) -> AsyncIterator[str]:
    listener = await asyncio.start_server(server.handle, HOST, 0)
    async with listener:
        yield f"{HOST}:{listener.sockets[0].getsockname()[1]}"


LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture(params=sorted(LOOPS))
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    def on_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
        with asyncio.Runner(loop_factory=LOOPS[request.param]) as runner:
            return runner.run(coroutine)

    return on_loop


def test_answers_keep_one_connection_alive(run: Callable[..., Any]) -> None:
    server = Server(lambda n: answer(200 if n == 1 else 400, b'{"result": 3.0}'))

    async def scenario() -> list[Answer]:
        async with serving(server) as address:
            pool = Pool(address, size=4, timeout=2.0)
            try:
                return [await pool.post("/addition", b'{"op1": 1}') for _ in range(3)]
            finally:
                pool.close()

    first, *rest = run(scenario())
    assert first == Answer(200, b'{"result": 3.0}', "r-0")
    assert rest == [Answer(400, b'{"result": 3.0}', "r-0")] * 2
    assert server.connections == 1
    assert server.requests[0].startswith(b"POST /addition HTTP/1.1\r\nHost: 127.0.0.1:")
    assert server.requests[0].endswith(b'Content-Length: 10\r\n\r\n{"op1": 1}')


def test_chunked_answer(run: Callable[..., Any]) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    server = Server(lambda n: chunked)

    async def scenario() -> Answer:
        async with serving(server) as address:
            pool = Pool(address, size=1, timeout=2.0)
            try:
                return await pool.post("/x", b"{}")
            finally:
                pool.close()

    assert run(scenario()) == Answer(200, b"abcde", None)


def test_the_pool_bounds_concurrent_calls(run: Callable[..., Any]) -> None:
    server = Server(lambda n: answer(200, b"{}"))

    async def scenario() -> list[Answer]:
        async with serving(server) as address:
            pool = Pool(address, size=2, timeout=5.0)
            try:
                return await asyncio.gather(*(pool.post("/x", b"{}") for _ in range(10)))
            finally:
                pool.close()

    assert [a.status for a in run(scenario())] == [200] * 10
    assert server.connections == 2


@pytest.mark.parametrize(
    ("respond", "pool_options"),
    [
        (lambda n: answer(200, b"{}", "connection: close\r\n"), {}),  # the server says so
        (lambda n: answer(200, b"{}"), {"keepalive": False}),  # the client says so
    ],
)
def test_a_connection_per_call_when_not_kept_alive(
    run: Callable[..., Any], respond: Callable[[int], bytes], pool_options: dict[str, Any]
) -> None:
    server = Server(respond)

    async def scenario() -> None:
        async with serving(server) as address:
            pool = Pool(address, size=1, timeout=2.0, **pool_options)
            try:
                for _ in range(3):
                    assert (await pool.post("/x", b"{}")).status == 200
            finally:
                pool.close()

    run(scenario())
    assert server.connections == 3


def test_idle_connections_retire(run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http1, "IDLE_SECONDS", 0.0)
    server = Server(lambda n: answer(200, b"{}"))

    async def scenario() -> None:
        async with serving(server) as address:
            pool = Pool(address, size=1, timeout=2.0)
            try:
                await pool.post("/x", b"{}")
                await pool.post("/x", b"{}")
            finally:
                pool.close()

    run(scenario())
    assert server.connections == 2


def test_fill_opens_the_whole_pool(run: Callable[..., Any]) -> None:
    server = Server(lambda n: answer(200, b"{}"))

    async def scenario() -> None:
        async with serving(server) as address:
            pool = Pool(address, size=3, timeout=2.0)
            try:
                await pool.fill()
                await asyncio.gather(*(pool.post("/x", b"{}") for _ in range(3)))
            finally:
                pool.close()

    run(scenario())
    assert server.connections == 3


async def one_call(address: str, timeout: float = 2.0) -> Answer:
    pool = Pool(address, size=1, timeout=timeout)
    try:
        return await pool.post("/x", b"{}")
    finally:
        pool.close()


@pytest.mark.parametrize(
    "respond",
    [
        lambda n: None,  # closed without a word
        lambda n: answer(200, b"{}")[:-1],  # then closed one byte short
        lambda n: b"SMTP ready\r\n\r\n",  # not HTTP
    ],
)
def test_no_whole_answer_is_connection_lost(
    run: Callable[..., Any], respond: Callable[[int], bytes | None]
) -> None:
    async def scenario() -> None:
        server = Server(respond, close=True)
        async with serving(server) as address:
            with pytest.raises(ConnectionLost):
                await one_call(address)

    run(scenario())


def test_silence_is_a_timeout_and_refusal_an_oserror(run: Callable[..., Any]) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def scenario() -> None:
        listener = await asyncio.start_server(silent, HOST, 0)
        async with listener:
            address = f"{HOST}:{listener.sockets[0].getsockname()[1]}"
            started = asyncio.get_running_loop().time()
            with pytest.raises(TimeoutError):
                await one_call(address, timeout=0.2)
            # A timer may fire up to a millisecond early on uvloop.
            assert asyncio.get_running_loop().time() - started >= 0.19

    run(scenario())
    with closed_port() as port, pytest.raises(ConnectionRefusedError):
        run(one_call(f"{HOST}:{port}"))
