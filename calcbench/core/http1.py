"""What an HTTP/1.1 client of the calculator needs, and nothing else: POST a small JSON body,
read the status, the body and the replica header, over pooled keep-alive connections.

    pool = Pool("127.0.0.1:8001", size=10, timeout=1.0)
    answer = await pool.post("/addition", b'{"op1": 1, "op2": 2}')  # Answer(200, b'{...}', "r0")
    pool.close()

With `ssl` (`calcbench.core.tls.client_context`), every connection is TLS, verified as aiohttp
verified it (the CA, and the address as the server's name); the plaintext path is unchanged.

httptools (llhttp, the parser uvicorn serves with) behind an asyncio Protocol. aiohttp's client
makes the same call with cookies, redirects, tracing, compression and multidict headers around
it, none of which a calculator call uses; one call in flight against `addition`
(`benchmarks/client_floor.py`) it costs about twice this client's CPU per call. Works on
asyncio's loop and on uvloop.
"""

from __future__ import annotations

import asyncio
import time
from ssl import SSLContext
from typing import Any, Final, NamedTuple

import httptools

from calcbench.core.endpoints import parse_address
from calcbench.core.vocabulary import REPLICA_HEADER

#: Below the services' keep-alive timeout (75 s), so that the client, not the server, retires
#: an idle connection and no request races a server-side close.
IDLE_SECONDS: Final = 60.0
_REPLICA: Final = REPLICA_HEADER.encode()


class Answer(NamedTuple):
    status: int
    body: bytes
    replica: str | None


class ConnectionLost(ConnectionError):
    """The connection closed, or the server sent what is not HTTP/1.1, before a whole answer."""


class _Connection(asyncio.Protocol):
    """One connection, one request at a time; `send` returns the future of its answer."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: Any = None
        self._waiter: asyncio.Future[Answer] | None = None
        self._chunks: list[bytes] = []
        self._replica: str | None = None
        self.keep_alive = True
        self.idle_since = 0.0

    def connection_made(self, transport: Any) -> None:
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.keep_alive = False
        # `exc` says why: a reset, or a TLS alert (a server refusing our certificate, say).
        reason = "the server closed the connection" if exc is None else f"connection lost: {exc}"
        lost = ConnectionLost(reason)
        lost.__cause__ = exc
        self._fail(lost)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # nothing was asked: the connection is out of step
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionLost(f"not an HTTP/1.1 answer: {exc}"))
            self.close()

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == _REPLICA:
            self._replica = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        waiter, self._waiter = self._waiter, None
        self.keep_alive = self.keep_alive and self._parser.should_keep_alive()
        if waiter is not None and not waiter.done():
            body = b"".join(self._chunks)
            waiter.set_result(Answer(self._parser.get_status_code(), body, self._replica))

    def send(self, request: bytes) -> asyncio.Future[Answer]:
        self._chunks, self._replica = [], None
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return self._waiter

    def close(self) -> None:
        self.keep_alive = False
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Close at once: over TLS, without waiting for the peer's close_notify."""
        self.keep_alive = False
        if self._transport is not None:
            self._transport.abort()

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class Pool:
    """Up to `size` keep-alive connections to `address` (`host:port`), opened as needed; a
    call waits for a free one. `timeout` bounds a whole call: the wait, connecting (the TLS
    handshake too), the answer. With `ssl`, connections are TLS, the server verified against
    `ssl`'s CA under the address's host as its name (as aiohttp verifies it).

    `post` raises TimeoutError, or an OSError (`ConnectionRefusedError`, `ConnectionLost`,
    `ssl.SSLCertVerificationError`, `ssl.SSLError`, ...) when the call failed before a whole
    answer; any status is an `Answer`. Without `keepalive` every call opens a connection, asks
    for it closed (`Connection: close`) and closes it after the answer.
    """

    def __init__(
        self,
        address: str,
        size: int,
        timeout: float,
        keepalive: bool = True,
        ssl: SSLContext | None = None,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self._host, self._port = parse_address(address)
        self._ssl = ssl
        # asyncio refuses a server name without TLS; with it, the name checked and sent as SNI.
        self._server_hostname = self._host if ssl is not None else None
        self._slots = asyncio.Semaphore(size)
        self._size = size
        self._keepalive = keepalive
        self._idle: list[_Connection] = []  # the last one freed is used first
        self._open: set[_Connection] = set()
        self._heads: dict[str, bytes] = {}

    async def post(self, path: str, body: bytes) -> Answer:
        head = self._heads.get(path) or self._head(path)
        request = b"%s%d\r\n\r\n%s" % (head, len(body), body)
        async with asyncio.timeout(self.timeout), self._slots:
            connection = self._reuse() or await self._connect()
            try:
                answer = await connection.send(request)
            except BaseException:
                self._discard(connection)  # cancelled or failed mid-call: its state is unknown
                raise
            self._release(connection)
            return answer

    async def fill(self) -> None:
        """Open all `size` connections now, within `timeout` (a TLS handshake can hang); one
        that fails to open is left to the calls."""

        async def connect() -> _Connection:
            async with asyncio.timeout(self.timeout):
                return await self._connect()

        opened = await asyncio.gather(
            *(connect() for _ in range(self._size)), return_exceptions=True
        )
        for connection in opened:
            if isinstance(connection, _Connection):
                self._release(connection)

    def close(self) -> None:
        """Close every connection. TLS ones are aborted, as aiohttp's session aborts them: a
        closing pool waits for no peer's close_notify."""
        for connection in self._open:
            if self._ssl is None:
                connection.close()
            else:
                connection.abort()
        self._open.clear()
        self._idle.clear()

    def _head(self, path: str) -> bytes:
        head = f"POST {path} HTTP/1.1\r\nHost: {self.address}\r\n"
        if not self._keepalive:  # as aiohttp's force_close asked: the server closes after answering
            head += "Connection: close\r\n"
        head += "Content-Type: application/json\r\nContent-Length: "
        self._heads[path] = head.encode("latin-1")
        return self._heads[path]

    def _reuse(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.keep_alive and now - connection.idle_since < IDLE_SECONDS:
                return connection
            self._discard(connection)
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            _Connection,
            self._host,
            self._port,
            ssl=self._ssl,
            server_hostname=self._server_hostname,
        )
        self._open.add(connection)
        return connection

    def _release(self, connection: _Connection) -> None:
        if self._keepalive and connection.keep_alive:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            self._discard(connection)

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)
