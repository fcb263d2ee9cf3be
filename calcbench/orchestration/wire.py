"""Bytes on the wire per request, both ways, headers and framing included.

A counting TCP relay on loopback sits between calcbench's client and `addition`; the client
runs a short closed loop through it. Bytes do not depend on timing, so the relay's own delay
does not matter; connection set-up (HTTP/2's preface and SETTINGS, say) is spread over every
request of the loop, as on a long-lived connection.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field, replace
from pathlib import Path
from typing import Final

from calcbench.core.endpoints import Endpoints, ServiceEndpoint, format_address, parse_address
from calcbench.core.rundir import WIRE_COLUMNS
from calcbench.core.vocabulary import Service
from calcbench.orchestration.calibration import one_in_flight
from loadgen import run_load
from loadgen.rundir import write_csv

_CHUNK: Final = 65536
Relay = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
#: Seconds of the closed loop through the relay: about a thousand calls.
SECONDS: Final = 2.0


@dataclass
class Counts:
    """Bytes the client sent (`up`) and received (`down`) through the relay."""

    up: int = 0
    down: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, up: int = 0, down: int = 0) -> None:
        with self._lock:
            self.up += up
            self.down += down


@dataclass(frozen=True)
class WireBytes:
    protocol: str
    requests: int
    sent_per_request: float
    received_per_request: float


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: Counts,
                upstream: bool) -> None:  # fmt: skip
    try:
        while data := await reader.read(_CHUNK):
            count.add(up=len(data)) if upstream else count.add(down=len(data))
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


def _handler(target: tuple[str, int], count: Counts) -> Relay:
    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*target)
        await asyncio.gather(
            _pipe(client_r, server_w, count, upstream=True),
            _pipe(server_r, client_w, count, upstream=False),
        )

    return relay


async def _shut(server: asyncio.Server) -> None:
    """Stop accepting, then end the pipes still open, before their loop closes."""
    server.close()
    pipes = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in pipes:
        task.cancel()
    await asyncio.gather(*pipes, return_exceptions=True)


@contextmanager
def counting_relay(target: str) -> Iterator[tuple[str, Counts]]:
    """A relay to `target` on 127.0.0.1 (any free port), in its own thread; its address and
    counts. Stopped, and its loop closed, on exit."""
    count = Counts()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, asyncio.Server] = {}

    async def serve() -> None:
        holder["server"] = await asyncio.start_server(
            _handler(parse_address(target), count), "127.0.0.1", 0
        )
        started.set()

    thread = threading.Thread(target=loop.run_forever, name="wire-relay", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(serve(), loop).result(timeout=10)
    started.wait()
    port = holder["server"].sockets[0].getsockname()[1]
    try:
        yield format_address("127.0.0.1", port), count
    finally:
        asyncio.run_coroutine_threadsafe(_shut(holder["server"]), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def write_wire(path: Path, rows: list[WireBytes]) -> None:
    """`wire.csv`: bytes per request each way, per protocol."""
    write_csv(path, WIRE_COLUMNS, (list(astuple(row)) for row in rows))


def measure_bytes(protocol: str, endpoints: Endpoints, out: Path, seconds: float = SECONDS
                  ) -> WireBytes:  # fmt: skip
    """Closed loop, one call in flight, to `addition` through the relay: bytes per request.

    Over TLS when the stack serves TLS: the relay then counts ciphertext, records and all.
    """
    address = endpoints.services[Service.ADDITION].address
    # No warm-up: every byte the relay counts belongs to a counted request.
    tls = endpoints.tls
    settings = replace(
        one_in_flight(protocol, seconds, warmup=0.0),
        tls=tls is not None,
        mtls=tls is not None and tls.mtls,
    )
    with counting_relay(address) as (relay, count):
        through = Endpoints(protocol, {Service.ADDITION: ServiceEndpoint(relay)}, tls)
        result = run_load(settings, through, out)
    requests = max(result.requests, 1)
    return WireBytes(protocol, result.requests, count.up / requests, count.down / requests)
