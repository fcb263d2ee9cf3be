"""REST over HTTP/1.1 with `calcbench.core.http1`: the leanest Python client measured here.

One call in flight against `addition` (`benchmarks/client_floor.py`), aiohttp costs about
twice its client CPU per call and httpx nine times (encode/httpx#3215), which would make a
REST run measure its client library. One keep-alive pool per service and target address,
`connections` each; round-robin balancing rotates the replica addresses per request.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Mapping, Sequence

import orjson

from calcbench.core.http1 import Pool
from calcbench.core.tls import TlsFiles, client_context
from loadgen.outcomes import Reply, http_outcome


class RestTarget:
    """`Target` for the REST stack; `connections` is the pool size per address; HTTPS with
    `tls`."""

    def __init__(
        self,
        addresses: Mapping[str, Sequence[str]],
        timeout: float,
        connections: int,
        keepalive: bool = True,
        preopen: bool = False,
        tls: TlsFiles | None = None,
    ) -> None:
        self._tls = tls
        self._addresses = addresses
        self._timeout = timeout
        self._connections = connections
        self._keepalive = keepalive
        self._preopen = preopen
        self._pools: list[Pool] = []
        self._routes: dict[str, Iterator[Pool]] = {}
        self._paths: dict[str, str] = {}

    async def connect(self) -> None:
        # One context for every pool: it holds the CA and (mTLS) our certificate, loaded once.
        ssl = None if self._tls is None else client_context(self._tls)
        for service, addresses in self._addresses.items():
            pools = [
                Pool(address, self._connections, self._timeout, self._keepalive, ssl)
                for address in addresses
            ]
            self._pools += pools
            self._routes[service] = itertools.cycle(pools)
            self._paths[service] = f"/{service}"
        if self._preopen and self._keepalive:
            # `--connections N` means N connections (TLS handshakes done) from the first
            # measured request; a server that is down is left to the run.
            await asyncio.gather(*(pool.fill() for pool in self._pools))

    async def call(self, service: str, op1: float, op2: float) -> Reply:
        body = orjson.dumps({"op1": op1, "op2": op2})
        try:
            answer = await next(self._routes[service]).post(self._paths[service], body)
        except TimeoutError:
            return Reply("timeout", "timeout")
        except OSError as exc:  # refused, reset, or a TLS failure (ssl.SSLError is an OSError)
            return Reply("unavailable", type(exc).__name__)
        if answer.status != 200:
            return Reply(http_outcome(answer.status), str(answer.status), None, answer.replica)
        return Reply("ok", "200", _result(answer.body), answer.replica)

    async def close(self) -> None:
        for pool in self._pools:
            pool.close()


def _result(raw: bytes) -> float | None:
    """The `result` of a 200 body; None (a wrong result) when the body is not one."""
    try:
        value = orjson.loads(raw)["result"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return float(value) if isinstance(value, int | float) else None
