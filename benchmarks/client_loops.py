"""One bare client loop of `client_floor.py`, in its own process: one call in flight.

    python -m benchmarks.client_loops CLIENT ADDRESS [--seconds 5] [--warmup 1] [--uvloop]

(from the repository's root). A warm-up loop, then the measured loop; prints one JSON line:
`calls` and `failures` of the measured window, `p50_ms`/`p90_ms`/`p99_ms` (perf_counter around
each call, numpy percentiles), `cpu_seconds` of the whole process over that window (all
threads: grpcio's polling threads count), and `warmup_calls`. Async clients run on asyncio's
own event loop, as calcbench's generator and the gRPC aio server do, or with `--uvloop` on
uvloop, as the REST services (uvicorn) do; sync clients in a plain blocking loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from benchmarks import grpc_loops, rest_loops
from benchmarks.floor_call import EXPECTED, Answer, AsyncCall, SyncCall

#: Client name -> its factory: an async context manager yielding an `AsyncCall`, or a sync one
#: yielding a `SyncCall`.
ASYNC_CLIENTS: Final[dict[str, Callable[[str], Any]]] = {
    "aiohttp": rest_loops.aiohttp_client,
    "httpx": rest_loops.httpx_client,
    "httptools": rest_loops.httptools_client,
    "percentage downstream": rest_loops.downstream_client,
    "grpc.aio": grpc_loops.aio_client,
    "sync stub future": grpc_loops.future_client,
    "sync stub executor": grpc_loops.executor_client,
}
SYNC_CLIENTS: Final[dict[str, Callable[[str], Any]]] = {
    "urllib3": rest_loops.urllib3_client,
    "sync stub": grpc_loops.sync_client,
}
CLIENTS: Final = sorted({*ASYNC_CLIENTS, *SYNC_CLIENTS})


class Tally:
    """Latencies of right answers and the count of the rest, for one timed loop."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.failures = 0

    def count(self, answer: Answer | None, seconds: float) -> None:
        if answer == EXPECTED:
            self.latencies.append(seconds)
        else:
            self.failures += 1


async def async_loop(call: AsyncCall, seconds: float) -> Tally:
    tally, clock = Tally(), time.perf_counter
    end = clock() + seconds
    while (start := clock()) < end:
        try:
            answer: Answer | None = await call()
        except Exception:
            answer = None
        tally.count(answer, clock() - start)
    return tally


def sync_loop(call: SyncCall, seconds: float) -> Tally:
    tally, clock = Tally(), time.perf_counter
    end = clock() + seconds
    while (start := clock()) < end:
        try:
            answer: Answer | None = call()
        except Exception:
            answer = None
        tally.count(answer, clock() - start)
    return tally


def figures(warmup: Tally, measured: Tally, cpu_seconds: float) -> dict[str, Any]:
    calls = len(measured.latencies)
    p50, p90, p99 = np.percentile(measured.latencies, [50, 90, 99]) * 1e3 if calls else [0] * 3
    return {
        "calls": calls,
        "failures": measured.failures,
        "p50_ms": float(p50),
        "p90_ms": float(p90),
        "p99_ms": float(p99),
        "cpu_seconds": cpu_seconds,
        "warmup_calls": len(warmup.latencies) + warmup.failures,
    }


async def run_async(client: str, address: str, seconds: float, warmup: float) -> dict[str, Any]:
    async with ASYNC_CLIENTS[client](address) as call:
        first = await async_loop(call, warmup)
        cpu = time.process_time()
        measured = await async_loop(call, seconds)
        cpu = time.process_time() - cpu
    return figures(first, measured, cpu)


def run_sync(client: str, address: str, seconds: float, warmup: float) -> dict[str, Any]:
    with SYNC_CLIENTS[client](address) as call:
        first = sync_loop(call, warmup)
        cpu = time.process_time()
        measured = sync_loop(call, seconds)
        cpu = time.process_time() - cpu
    return figures(first, measured, cpu)


def new_event_loop(uvloop: bool) -> asyncio.AbstractEventLoop:
    if uvloop:
        import uvloop as module

        return module.new_event_loop()
    return asyncio.new_event_loop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("client", choices=CLIENTS)
    parser.add_argument("address", help="host:port of an addition service")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--uvloop", action="store_true", help="async clients on uvloop")
    args = parser.parse_args()
    if args.client in SYNC_CLIENTS:
        result = run_sync(args.client, args.address, args.seconds, args.warmup)
    else:
        with contextlib.closing(new_event_loop(args.uvloop)) as loop:
            result = loop.run_until_complete(
                run_async(args.client, args.address, args.seconds, args.warmup)
            )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
