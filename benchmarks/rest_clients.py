"""CPU per request of HTTP/1.1 clients, and of the REST server's body parsing, measured.

    python benchmarks/rest_clients.py clients [--duration 3] [--concurrency 1 16]
    python benchmarks/rest_clients.py server [--duration 3] [--concurrency 16]

`clients`: one real multiplication service pinned to CPU 0; each client, pinned to CPU 1, runs
a closed loop of `--concurrency` callers for `--duration` seconds. Reported: requests/s and
the client process's CPU microseconds per request (its CPU time over the loop only, imports
excluded; wrk's from its rusage), plus the server's. Candidates: wrk (the native reference),
aiohttp, httpx, a minimal asyncio-streams client, and `calculator_rest.downstream.Downstream`
(percentage's own client).

`server`: variants of the service app under wrk: `lean` (as shipped: orjson + hand checks on a
FastAPI route), `pydantic` (a FastAPI body model validates), `starlette` (the lean endpoint on a
plain Starlette route, skipping FastAPI's request handler). Reported: requests/s and server CPU
microseconds per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import psutil
import uvicorn
from fastapi import Response
from starlette.types import ASGIApp

from calcbench.core.arithmetic import InvalidArgument, compute
from calcbench.core.listening import listen
from calcbench.core.service_config import ServiceConfig
from calcbench.core.telemetry import ServiceMetrics
from calculator_rest.app import NO_TELEMETRY, CalculatorApp, create_app
from calculator_rest.endpoint import JSON
from calculator_rest.operands import Operands
from calculator_rest.server import UVICORN_OPTIONS

BODY = b'{"op1": 6.5, "op2": 3}'
SERVER_CPU, CLIENT_CPU = 0, 1
ROOT = Path(__file__).resolve().parent.parent
Loop = Callable[[str, int, float], Coroutine[Any, Any, int]]


def pinned(cpu: int) -> Callable[[], None]:
    return lambda: os.sched_setaffinity(0, {cpu})


def spawn(argv: list[str]) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start a server pinned to SERVER_CPU; return it and its JSON ready line."""
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, text=True, cwd=ROOT, preexec_fn=pinned(SERVER_CPU)
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise RuntimeError(f"server did not start: {argv}")
    return proc, json.loads(line)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


# --- clients (each runs in its own process, see `_client`) -------------------------------


async def aiohttp_loop(url: str, concurrency: int, seconds: float) -> int:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> None:
            async with session.post(url, data=BODY, headers=JSON_HEADERS) as response:
                await response.read()

        return await closed_loop(call, concurrency, seconds)


async def httpx_loop(url: str, concurrency: int, seconds: float) -> int:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def call() -> None:
            (await client.post(url, content=BODY, headers=JSON_HEADERS)).read()

        return await closed_loop(call, concurrency, seconds)


async def downstream_loop(url: str, concurrency: int, seconds: float) -> int:
    from calculator_rest.downstream import Downstream

    address = url.split("/")[2]
    downstream = Downstream({"multiplication": [address]}, pool_size=concurrency)
    await downstream.open()
    try:
        return await closed_loop(
            lambda: downstream.call("multiplication", 6.5, 3), concurrency, seconds
        )
    finally:
        await downstream.close()


async def streams_loop(url: str, concurrency: int, seconds: float) -> int:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams: the floor for Python."""
    host, port = url.split("/")[2].split(":")
    request = (
        f"POST /multiplication HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    counts: list[int] = []

    async def caller(deadline: float) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        done = 0
        while time.monotonic() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            done += 1
        writer.close()
        counts.append(done)

    deadline = time.monotonic() + seconds
    await asyncio.gather(*(caller(deadline) for _ in range(concurrency)))
    return sum(counts)


JSON_HEADERS = {"Content-Type": "application/json"}
LOOPS: dict[str, Loop] = {
    "aiohttp": aiohttp_loop,
    "httpx": httpx_loop,
    "streams": streams_loop,
    "downstream": downstream_loop,
}


async def closed_loop(call: Callable[[], Awaitable[Any]], concurrency: int, seconds: float) -> int:
    """Successful calls of `concurrency` callers in `seconds`; failures go to stderr."""
    deadline = time.monotonic() + seconds
    counts = [0] * concurrency
    failures: list[Exception] = []

    async def caller(index: int) -> None:
        while time.monotonic() < deadline:
            try:
                await call()
            except Exception as exc:
                failures.append(exc)
                continue
            counts[index] += 1

    await asyncio.gather(*(caller(i) for i in range(concurrency)))
    if failures:
        print(f"{len(failures)} failed calls, first: {failures[0]!r}", file=sys.stderr)
    return sum(counts)


def _client(name: str, url: str, concurrency: int, seconds: float) -> None:
    """Child process: run one client loop on uvloop, print requests and CPU seconds."""
    import uvloop

    os.sched_setaffinity(0, {CLIENT_CPU})
    cpu0, wall0 = time.process_time(), time.monotonic()
    requests = uvloop.run(LOOPS[name](url, concurrency, seconds))
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    print(json.dumps({"requests": requests, "cpu": cpu, "wall": wall}))


def run_client(name: str, url: str, concurrency: int, seconds: float) -> dict[str, float]:
    argv = [sys.executable, __file__, "_client", name, url, str(concurrency), str(seconds)]
    done = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=ROOT)
    sys.stderr.write(done.stderr)
    return dict(json.loads(done.stdout))


def run_wrk(url: str, concurrency: int, seconds: float) -> dict[str, float]:
    """wrk with one thread, pinned to CLIENT_CPU; its CPU time from the children's rusage."""
    lua = f"wrk.method = 'POST'\nwrk.body = '{BODY.decode()}'\n"
    lua += "wrk.headers['Content-Type'] = 'application/json'\n"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "post.lua")
        script.write_text(lua)
        argv = [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(script),
            url,
        ]
        cpu0, wall0 = children_cpu(), time.monotonic()
        out = subprocess.run(
            argv, check=True, capture_output=True, text=True, preexec_fn=pinned(CLIENT_CPU)
        ).stdout
        cpu, wall = children_cpu() - cpu0, time.monotonic() - wall0
    match = re.search(r"(\d+) requests in", out)
    if match is None:
        raise RuntimeError(f"unexpected wrk output: {out}")
    return {"requests": int(match.group(1)), "cpu": cpu, "wall": wall}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(usage.ru_utime + usage.ru_stime)


def measure(run: Callable[[], dict[str, float]], server_pid: int, label: str, c: int) -> None:
    server0 = cpu_seconds(server_pid)
    result = run()
    server = cpu_seconds(server_pid) - server0
    n = max(1, int(result["requests"]))
    print(
        f"{label:<10} c={c:<3} {n / result['wall']:>8.0f} req/s"
        f"  client {result['cpu'] / n * 1e6:>6.1f} us/req"
        f"  server {server / n * 1e6:>6.1f} us/req",
        flush=True,
    )


def clients(args: argparse.Namespace) -> None:
    argv = [sys.executable, "-m", "calculator_rest", "multiplication", "--port", "0"]
    proc, ready = spawn([*argv, "--metrics-port", "0", "--replica-id", "bench"])
    url = f"http://127.0.0.1:{ready['port']}/multiplication"
    try:
        for c in args.concurrency:
            measure(partial(run_wrk, url, c, args.duration), proc.pid, "wrk", c)
            for name in args.clients:
                measure(partial(run_client, name, url, c, args.duration), proc.pid, name, c)
    finally:
        stop(proc)


# --- server variants (each served by its own process, see `_serve`) -----------------------


def lean_app(config: ServiceConfig, metrics: ServiceMetrics) -> ASGIApp:
    """As shipped: the calculator route served ahead of FastAPI's routing."""
    return create_app(config, metrics)


def fastapi_app(config: ServiceConfig, metrics: ServiceMetrics) -> ASGIApp:
    """The same endpoint as a FastAPI route (`--server-model fastapi`)."""
    return create_app(replace(config, server_model="fastapi"), metrics)


def pydantic_app(config: ServiceConfig, metrics: ServiceMetrics) -> ASGIApp:
    """A FastAPI route whose body FastAPI validates with the `Operands` model."""
    app = CalculatorApp(replica=config.replica_id, shortcut=None, telemetry=NO_TELEMETRY)
    service = config.service

    async def calculate(body: Operands) -> Response:
        started = time.perf_counter()
        try:
            result = compute(service, body.op1, body.op2)
        except InvalidArgument as exc:
            metrics.observe("invalid_argument", time.perf_counter() - started)
            return Response(orjson.dumps({"detail": str(exc)}), 400, media_type=JSON)
        metrics.observe("ok", time.perf_counter() - started)
        return Response(orjson.dumps({"result": result}), media_type=JSON)

    app.add_api_route(f"/{service}", calculate, methods=["POST"])
    return app


VARIANTS = {"lean": lean_app, "fastapi": fastapi_app, "pydantic": pydantic_app}


def _serve(variant: str) -> None:
    """Child process: serve one app variant the way `calculator_rest.server` does."""
    config = ServiceConfig("multiplication", port=0, metrics_port=0, replica_id="bench")
    sock = listen(config.host, 0)
    metrics = ServiceMetrics(config.service, config.replica_id, (sock.getsockname()[1],))
    server = uvicorn.Server(uvicorn.Config(VARIANTS[variant](config, metrics), **UVICORN_OPTIONS))
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    server.run(sockets=[sock])


def server(args: argparse.Namespace) -> None:
    for variant in args.variants:
        proc, ready = spawn([sys.executable, __file__, "_serve", variant])
        url = f"http://127.0.0.1:{ready['port']}/multiplication"
        try:
            run_wrk(url, 1, 1)  # warm-up
            for c in args.concurrency:
                measure(partial(run_wrk, url, c, args.duration), proc.pid, variant, c)
        finally:
            stop(proc)


async def asgi_cost(app: ASGIApp, requests: int) -> float:
    """App-only CPU microseconds per request: the ASGI app called in-process, no socket."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/multiplication"}
    scope["headers"] = headers
    scope |= {"http_version": "1.1", "scheme": "http", "query_string": b"", "root_path": ""}
    scope |= {"raw_path": b"/multiplication", "asgi": {"version": "3.0"}, "state": {}}
    message = {"type": "http.request", "body": BODY, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    async def send(_message: Any) -> None:
        pass

    for _ in range(requests // 10):  # warm-up
        await app(dict(scope), receive, send)
    cpu0 = time.process_time()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    return (time.process_time() - cpu0) / requests * 1e6


def asgi(args: argparse.Namespace) -> None:
    import statistics

    import uvloop

    config = ServiceConfig("multiplication", port=0, metrics_port=0, replica_id="bench")
    apps = {
        v: VARIANTS[v](config, ServiceMetrics("multiplication", "bench")) for v in args.variants
    }
    costs: dict[str, list[float]] = {v: [] for v in apps}
    for _ in range(args.rounds):
        for variant, app in apps.items():
            costs[variant].append(uvloop.run(asgi_cost(app, args.requests)))
    for variant, values in costs.items():
        print(
            f"{variant:<10} app only: median {statistics.median(values):6.1f} us/req"
            f"  min {min(values):6.1f}",
            flush=True,
        )


def main() -> None:
    if sys.argv[1] == "_client":
        name, url, concurrency, seconds = sys.argv[2:6]
        _client(name, url, int(concurrency), float(seconds))
        return
    if sys.argv[1] == "_serve":
        _serve(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, default_c in (("clients", [1, 16]), ("server", [16])):
        sub = commands.add_parser(name)
        sub.add_argument("--duration", type=float, default=3.0)
        sub.add_argument("--concurrency", type=int, nargs="+", default=default_c)
    commands.choices["clients"].add_argument("--clients", nargs="+", default=list(LOOPS))
    commands.choices["server"].add_argument("--variants", nargs="+", default=list(VARIANTS))
    sub = commands.add_parser("asgi")
    sub.add_argument("--requests", type=int, default=10000)
    sub.add_argument("--rounds", type=int, default=5)
    sub.add_argument("--variants", nargs="+", default=list(VARIANTS))
    args = parser.parse_args()
    {"clients": clients, "server": server, "asgi": asgi}[args.command](args)


if __name__ == "__main__":
    main()
