"""REST over HTTP/1.1 with aiohttp: the cheapest Python HTTP client measured here.

httpx costs several times aiohttp's CPU per request (encode/httpx#3215; figures in
benchmarks/loadgen_cost.py), which would make a REST run measure its client library.
One keep-alive pool per service, `connections` per target address; round-robin balancing
rotates the replica addresses per request.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import aiohttp
import orjson
from yarl import URL

from calcbench.core.tls import TlsFiles, client_context
from calcbench.core.vocabulary import REPLICA_HEADER
from loadgen.outcomes import Reply, http_outcome

_HEADERS: Final = {"content-type": "application/json"}
#: Idle pooled connections live as long as the servers keep them (their keep-alive is 75 s).
_IDLE_SECONDS: Final = 60.0


@dataclass
class _Service:
    session: aiohttp.ClientSession
    urls: Iterator[URL]
    health: tuple[URL, ...]


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
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._connections = connections
        self._keepalive = keepalive
        self._preopen = preopen
        self._services: dict[str, _Service] = {}

    async def connect(self) -> None:
        # One context for every pool: it holds the CA and (mTLS) our certificate, loaded once.
        ssl = True if self._tls is None else client_context(self._tls)
        scheme = "http" if self._tls is None else "https"
        for service, addresses in self._addresses.items():
            connector = aiohttp.TCPConnector(
                limit=0,
                limit_per_host=self._connections,
                force_close=not self._keepalive,
                keepalive_timeout=_IDLE_SECONDS if self._keepalive else None,
                ssl=ssl,
            )
            # As the percentage service's client: no cookies, no decompression, no user agent.
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            )
            urls = [URL(f"{scheme}://{address}/{service}") for address in addresses]
            health = tuple(URL(f"{scheme}://{address}/healthz") for address in addresses)
            self._services[service] = _Service(session, itertools.cycle(urls), health)
        if self._preopen and self._keepalive:
            await asyncio.gather(*(self._fill_pool(s) for s in self._services.values()))

    async def _fill_pool(self, service: _Service) -> None:
        """Open the whole pool now (concurrent health checks), so `--connections N` means N
        connections from the first measured request; a server that is down is left to the run."""

        async def probe(url: URL) -> None:
            try:
                async with service.session.get(url) as response:
                    await response.read()
            except (aiohttp.ClientError, OSError, TimeoutError):
                pass

        probes = [probe(url) for url in service.health for _ in range(self._connections)]
        await asyncio.gather(*probes)

    async def call(self, service: str, op1: float, op2: float) -> Reply:
        entry = self._services[service]
        body = orjson.dumps({"op1": op1, "op2": op2})
        try:
            async with entry.session.post(next(entry.urls), data=body, headers=_HEADERS) as resp:
                raw = await resp.read()
                status = resp.status
                replica = resp.headers.get(REPLICA_HEADER)
        except TimeoutError:
            return Reply("timeout", "timeout")
        except (aiohttp.ClientError, OSError) as exc:
            return Reply("unavailable", type(exc).__name__)
        if status != 200:
            return Reply(http_outcome(status), str(status), None, replica)
        return Reply("ok", "200", _result(raw), replica)

    async def close(self) -> None:
        for entry in self._services.values():
            await entry.session.close()


def _result(raw: bytes) -> float | None:
    """The `result` of a 200 body; None (a wrong result) when the body is not one."""
    try:
        value = orjson.loads(raw)["result"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return float(value) if isinstance(value, int | float) else None
