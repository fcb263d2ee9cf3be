"""Percentage's HTTP/1.1 client to the multiplication and division services.

aiohttp, one session with a keep-alive pool created once per process. Measured on this 2-core
machine (`benchmarks/rest_clients.py clients`, closed loop, 16 callers), client CPU per
request: wrk 40 us, aiohttp 310 us, httpx 5,800 us (httpx#3215). The percentage service's
client work is part of what the REST/gRPC comparison measures, so the cheapest maintained
client it is; a hand-written asyncio-streams client (63 us) shows the floor.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence

import aiohttp
import orjson
from yarl import URL

from calcbench.core.arithmetic import InvalidArgument
from calcbench.core.tls import TlsFiles, client_context

#: Per downstream call, connection included. gRPC instead propagates its caller's deadline
#: (1 s by default in the load generator); HTTP has no standard for that, so a fixed budget.
DEFAULT_TIMEOUT = 1.0
#: Kept-alive connections per downstream address; more only under concurrent requests.
DEFAULT_POOL_SIZE = 100
#: Below the services' own keep-alive timeout (see `server.py`), so that the client, not the
#: server, retires an idle connection and no request races a server-side close.
IDLE_SECONDS = 60.0

_HEADERS = {"Content-Type": "application/json"}


class DownstreamError(Exception):
    """A downstream call failed for a reason other than an invalid argument."""

    status = 502
    outcome = "unavailable"


class DownstreamUnavailable(DownstreamError):
    """Refused or reset (REST 502)."""


class DownstreamFailed(DownstreamError):
    """An answer outside the contract (a 5xx, a body that is not JSON): 502, a server error."""

    outcome = "server_error"


class DownstreamTimeout(DownstreamError):
    """No answer within the timeout (REST 504)."""

    status = 504
    outcome = "timeout"


class Downstream:
    """Calls a calculator service by name, spreading requests round robin over its addresses.

    `open()` must run on the event loop that will make the calls (the app's lifespan does it).
    With `tls`, calls go over HTTPS, verified against its CA (presenting its certificate under
    mTLS).
    """

    def __init__(
        self,
        addresses: Mapping[str, Sequence[str]],
        timeout: float = DEFAULT_TIMEOUT,
        pool_size: int = DEFAULT_POOL_SIZE,
        tls: TlsFiles | None = None,
    ) -> None:
        self.timeout = timeout
        self.pool_size = pool_size
        self._tls = tls
        scheme = "http" if tls is None else "https"
        self._targets: dict[str, Iterator[URL]] = {
            name: itertools.cycle([URL(f"{scheme}://{address}/{name}") for address in addrs])
            for name, addrs in addresses.items()
        }
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=0,
            limit_per_host=self.pool_size,
            keepalive_timeout=IDLE_SECONDS,
            ssl=True if self._tls is None else client_context(self._tls),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, service: str, op1: float, op2: float, context: object = None) -> float:
        """`service`'s result; raise `InvalidArgument` (its 400) or a `DownstreamError`.

        `context` (the request being answered) is not used: HTTP has no deadline to pass on.
        """
        if self._session is None:
            raise RuntimeError("Downstream.open() was not awaited")
        url = next(self._targets[service])
        body = orjson.dumps({"op1": op1, "op2": op2})
        try:
            async with self._session.post(url, data=body, headers=_HEADERS) as response:
                status, payload = response.status, await response.read()
        except TimeoutError as exc:
            raise DownstreamTimeout(f"{service} timed out after {self.timeout:g} s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise DownstreamUnavailable(f"{service} unavailable: {exc}") from exc
        return _answer(service, status, payload)


def _answer(service: str, status: int, payload: bytes) -> float:
    """The result of a 200, the `InvalidArgument` of a 400; anything else is a failure."""
    if status not in (200, 400):
        raise DownstreamFailed(f"{service} failed: HTTP {status}")
    try:
        data = orjson.loads(payload)
        field = data["result"] if status == 200 else data["detail"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise DownstreamFailed(f"{service} failed: HTTP {status} {payload[:80]!r}") from exc
    if status == 400:
        raise InvalidArgument(str(field))
    if type(field) not in (float, int):
        raise DownstreamFailed(f"{service} failed: its result is not a number")
    return float(field)
