"""The lean HTTP/1.1 client against raw asyncio servers: answers, keep-alive and the pool's
bound, every way a call fails before a whole answer, and TLS and mTLS with the right and the
wrong certificates (on asyncio's loop and on uvloop)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvloop

from calcbench.core import http1
from calcbench.core.http1 import Answer, ConnectionLost, Pool
from calcbench.core.tls import Pki, TlsFiles, client_context, server_context
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
async def serving(server: Server, tls: TlsFiles | None = None) -> AsyncIterator[str]:
    """`server` on 127.0.0.1, any free port; over TLS with `tls` (the server's files)."""
    context = None if tls is None else server_context(tls)
    listener = await asyncio.start_server(server.handle, HOST, 0, ssl=context)
    async with listener:
        yield f"{HOST}:{listener.sockets[0].getsockname()[1]}"


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never says a word (nor completes a TLS handshake); closes them
    on exit, so that no transport outlives its loop."""
    accepted: list[asyncio.StreamWriter] = []

    async def listen(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        await reader.read()

    listener = await asyncio.start_server(listen, HOST, 0)
    async with listener:
        try:
            yield f"{HOST}:{listener.sockets[0].getsockname()[1]}"
        finally:
            for writer in accepted:
                writer.close()


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
    asks_to_close = pool_options.get("keepalive") is False
    assert all((b"\r\nConnection: close\r\n" in r) is asks_to_close for r in server.requests)


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
    async def scenario() -> None:
        async with silent_server() as address:
            started = asyncio.get_running_loop().time()
            with pytest.raises(TimeoutError):
                await one_call(address, timeout=0.2)
            # A timer may fire up to a millisecond early on uvloop.
            assert asyncio.get_running_loop().time() - started >= 0.19

    run(scenario())
    with closed_port() as port, pytest.raises(ConnectionRefusedError):
        run(one_call(f"{HOST}:{port}"))


async def tls_calls(server: Server, served: TlsFiles, client: TlsFiles, calls: int = 1) -> Answer:
    async with serving(server, served) as address:
        pool = Pool(address, size=1, timeout=2.0, ssl=client_context(client))
        try:
            for _ in range(calls):
                answer = await pool.post("/x", b"{}")
            return answer
        finally:
            pool.close()


@pytest.mark.parametrize("mtls", [False, True])
def test_tls_with_the_right_certificates_keeps_one_connection_alive(
    run: Callable[..., Any], pki: Pki, mtls: bool
) -> None:
    server = Server(lambda n: answer(200, b'{"result": 3.0}'))
    last = run(tls_calls(server, pki.server(mtls), pki.client(mtls), calls=3))
    assert last == Answer(200, b'{"result": 3.0}', "r-0")
    assert server.connections == 1 and len(server.requests) == 3


@pytest.mark.parametrize("mtls", [False, True])
def test_a_server_another_ca_signed_fails_verification(
    run: Callable[..., Any], pki: Pki, wrong_pki: Pki, mtls: bool
) -> None:
    # What aiohttp raised as ClientConnectorCertificateError: the generator's `unavailable`.
    server = Server(lambda n: answer(200, b"{}"))
    with pytest.raises(ssl.SSLCertVerificationError):
        run(tls_calls(server, wrong_pki.server(mtls), pki.client(mtls)))
    assert server.requests == []


@pytest.mark.parametrize("foreign", [False, True], ids=["no-certificate", "foreign-certificate"])
def test_mtls_refuses_a_client_without_a_certificate_the_ca_signed(
    run: Callable[..., Any], pki: Pki, wrong_pki: Pki, foreign: bool
) -> None:
    # TLS 1.3: our side of the handshake completes; the server's refusal ends the connection
    # before any answer (aiohttp: ClientOSError or ServerDisconnectedError, `unavailable`).
    stranger = wrong_pki.client(True)
    client = TlsFiles(pki.ca, stranger.cert, stranger.key, True) if foreign else pki.client(False)
    server = Server(lambda n: answer(200, b"{}"))
    with pytest.raises(ConnectionLost):
        run(tls_calls(server, pki.server(True), client))
    assert server.requests == []


def test_plaintext_and_tls_do_not_mix(run: Callable[..., Any], pki: Pki) -> None:
    async def plaintext_to_tls() -> Answer:
        async with serving(Server(lambda n: answer(200, b"{}")), pki.server(False)) as address:
            return await one_call(address)

    async def plain_400(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(400, b""))  # as uvicorn answers a ClientHello
        writer.close()

    async def tls_to_plaintext() -> Answer:
        listener = await asyncio.start_server(plain_400, HOST, 0)
        async with listener:
            address = f"{HOST}:{listener.sockets[0].getsockname()[1]}"
            pool = Pool(address, size=1, timeout=2.0, ssl=client_context(pki.client(False)))
            try:
                return await pool.post("/x", b"{}")
            finally:
                pool.close()

    with pytest.raises(ConnectionLost):
        run(plaintext_to_tls())
    with pytest.raises(ssl.SSLError):
        run(tls_to_plaintext())


def test_a_handshake_that_never_ends_is_a_timeout(run: Callable[..., Any], pki: Pki) -> None:
    async def scenario() -> None:
        async with silent_server() as address:
            pool = Pool(address, size=2, timeout=0.2, ssl=client_context(pki.client(False)))
            try:
                started = asyncio.get_running_loop().time()
                await pool.fill()  # gives up on both within the timeout
                assert asyncio.get_running_loop().time() - started < 1.0
                with pytest.raises(TimeoutError):
                    await pool.post("/x", b"{}")
            finally:
                pool.close()

    run(scenario())
