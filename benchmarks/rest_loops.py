"""HTTP/1.1 clients for the bare loops: each one keep-alive connection to `addition`.

aiohttp and httpx as their libraries allow at their leanest; a hand-written client (an asyncio
Protocol feeding httptools' parser, what uvicorn's server side uses) as the floor of Python on
asyncio; urllib3 as the sync one, called from a plain blocking loop; and percentage's own
downstream client (`calculator_rest.downstream.Downstream`), as the service calls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, Final

import orjson

from benchmarks.floor_call import OP1, OP2, REPLICA, TIMEOUT, Answer, AsyncCall, SyncCall
from calcbench.core.vocabulary import REPLICA_HEADER

JSON_HEADERS: Final = {"Content-Type": "application/json"}


@contextlib.asynccontextmanager
async def aiohttp_client(address: str) -> AsyncIterator[AsyncCall]:
    """As `loadgen.rest_target.RestTarget` configures its session."""
    import aiohttp
    from yarl import URL

    connector = aiohttp.TCPConnector(limit=0, limit_per_host=1, keepalive_timeout=60.0)
    session = aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=TIMEOUT),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )
    url = URL(f"http://{address}/addition")

    async def call() -> Answer:
        body = orjson.dumps({"op1": OP1, "op2": OP2})
        async with session.post(url, data=body, headers=JSON_HEADERS) as response:
            raw = await response.read()
            return orjson.loads(raw)["result"], response.headers.get(REPLICA_HEADER)

    async with session:
        yield call


@contextlib.asynccontextmanager
async def httpx_client(address: str) -> AsyncIterator[AsyncCall]:
    import httpx

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    url = f"http://{address}/addition"
    async with httpx.AsyncClient(timeout=TIMEOUT, limits=limits) as client:

        async def call() -> Answer:
            body = orjson.dumps({"op1": OP1, "op2": OP2})
            response = await client.post(url, content=body, headers=JSON_HEADERS)
            return orjson.loads(response.content)["result"], response.headers.get(REPLICA_HEADER)

        yield call


class HttpConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time, parsed by httptools."""

    def __init__(self) -> None:
        import httptools

        self._parser = httptools.HttpResponseParser(self)
        self._transport: Any = None
        self._waiter: asyncio.Future[tuple[int, bytes, str | None]] | None = None
        self._chunks: list[bytes] = []
        self._replica: str | None = None

    def connection_made(self, transport: Any) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("connection closed"))

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"x-calc-replica":
            self._replica = value.decode()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            answer = (self._parser.get_status_code(), b"".join(self._chunks), self._replica)
            self._waiter.set_result(answer)

    async def request(self, data: bytes, timeout: float) -> tuple[int, bytes, str | None]:
        """Send one whole request; its status, body and replica header."""
        self._chunks, self._replica = [], None
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(data)
        async with asyncio.timeout(timeout):
            return await self._waiter

    def close(self) -> None:
        self._transport.close()


@contextlib.asynccontextmanager
async def httptools_client(address: str) -> AsyncIterator[AsyncCall]:
    host, port = address.rsplit(":", 1)
    _, connection = await asyncio.get_running_loop().create_connection(
        HttpConnection, host, int(port)
    )
    head = f"POST /addition HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n"
    prefix = head.encode()

    async def call() -> Answer:
        body = orjson.dumps({"op1": OP1, "op2": OP2})
        request = b"%sContent-Length: %d\r\n\r\n%s" % (prefix, len(body), body)
        _, payload, replica = await connection.request(request, TIMEOUT)
        return orjson.loads(payload)["result"], replica

    try:
        yield call
    finally:
        connection.close()


@contextlib.contextmanager
def urllib3_client(address: str) -> Iterator[SyncCall]:
    import urllib3

    host, port = address.rsplit(":", 1)
    timeout = urllib3.Timeout(connect=TIMEOUT, read=TIMEOUT)
    with urllib3.HTTPConnectionPool(host, int(port), maxsize=1, timeout=timeout) as pool:

        def call() -> Answer:
            body = orjson.dumps({"op1": OP1, "op2": OP2})
            response = pool.request(
                "POST", "/addition", body=body, headers=JSON_HEADERS, retries=False
            )
            return orjson.loads(response.data)["result"], response.headers.get(REPLICA_HEADER)

        yield call


@contextlib.asynccontextmanager
async def downstream_client(address: str) -> AsyncIterator[AsyncCall]:
    from calculator_rest.downstream import Downstream

    downstream = Downstream({"addition": [address]}, timeout=TIMEOUT, pool_size=1)
    await downstream.open()

    async def call() -> Answer:
        # Percentage reads no replica header: its answers are checked by their value alone.
        return await downstream.call("addition", OP1, OP2), REPLICA

    try:
        yield call
    finally:
        await downstream.close()
