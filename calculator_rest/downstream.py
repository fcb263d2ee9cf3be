"""Percentage's HTTP/1.1 client to the multiplication and division services.

`calcbench.core.http1`: httptools behind an asyncio Protocol, a keep-alive pool per downstream
address created once per process. One call in flight on uvloop, as the service runs it
(`benchmarks/client_floor.py`), aiohttp cost about three times its client CPU per call. The
percentage service's client work is part of what the REST/gRPC comparison measures, so the
leanest client measured it is, as the gRPC twin calls with grpcio's own stubs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence

import orjson

from calcbench.core.arithmetic import InvalidArgument
from calcbench.core.http1 import Pool
from calcbench.core.service_config import DOWNSTREAM_TIMEOUT
from calcbench.core.tls import TlsFiles, client_context

#: Per downstream call, connection included (`--downstream-timeout`; `calcbench run` sets it
#: to the load's call timeout). gRPC instead propagates its caller's deadline; HTTP has no
#: standard for that, so a fixed budget.
DEFAULT_TIMEOUT = DOWNSTREAM_TIMEOUT
#: Kept-alive connections per downstream address; more only under concurrent requests.
#: Idle ones retire after `calcbench.core.http1.IDLE_SECONDS`, below the services' own
#: keep-alive timeout (see `server.py`), so that no request races a server-side close.
DEFAULT_POOL_SIZE = 100


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
        self._addresses = addresses
        self._pools: list[Pool] = []
        self._routes: dict[str, Iterator[Pool]] | None = None

    async def open(self) -> None:
        ssl = None if self._tls is None else client_context(self._tls)
        self._routes = {}
        for name, addresses in self._addresses.items():
            pools = [Pool(address, self.pool_size, self.timeout, ssl=ssl) for address in addresses]
            self._pools += pools
            self._routes[name] = itertools.cycle(pools)

    async def close(self) -> None:
        for pool in self._pools:
            pool.close()
        self._pools, self._routes = [], None

    async def call(self, service: str, op1: float, op2: float, context: object = None) -> float:
        """`service`'s result; raise `InvalidArgument` (its 400) or a `DownstreamError`.

        `context` (the request being answered) is not used: HTTP has no deadline to pass on.
        """
        if self._routes is None:
            raise RuntimeError("Downstream.open() was not awaited")
        body = orjson.dumps({"op1": op1, "op2": op2})
        try:
            answer = await next(self._routes[service]).post(f"/{service}", body)
        except TimeoutError as exc:
            raise DownstreamTimeout(f"{service} timed out after {self.timeout:g} s") from exc
        except OSError as exc:  # refused, reset, or a TLS failure (ssl.SSLError is an OSError)
            raise DownstreamUnavailable(f"{service} unavailable: {exc}") from exc
        return _answer(service, answer.status, answer.body)


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
