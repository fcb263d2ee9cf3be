"""Benchmark the grpcio server models (sync thread pool vs grpc.aio) on one addition service.

Not a test: run it by hand, e.g. `.venv/bin/python benchmarks/grpc_server_models.py --seconds 5`.
For each model it starts `python -m calculator_grpc addition` pinned to core 0, drives it from
core 1 (h2load if installed, else a grpc.aio closed-loop client in this process) and prints
requests/s and the server's CPU microseconds per call (psutil, before/after). Requests are
counted by the server itself (its `calc_requests_total`), so a client that miscounts gRPC
errors (h2load sees only HTTP statuses) cannot inflate the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import psutil

from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands
from calcbench.core.rpc import METHOD_PATHS, channel_target, unary_method

SERVER_CORE, CLIENT_CORE = 0, 1


@dataclass(frozen=True)
class Figures:
    model: str
    client: str
    seconds: float
    calls: float
    errors: float
    server_cpu_s: float

    @property
    def rps(self) -> float:
        return self.calls / self.seconds

    @property
    def cpu_us_per_call(self) -> float:
        return 1e6 * self.server_cpu_s / max(self.calls, 1)


def start_server(model: str) -> tuple[subprocess.Popen[str], dict[str, int]]:
    command = [
        "taskset", "-c", str(SERVER_CORE), sys.executable, "-m", "calculator_grpc", "addition",
        "--port", "0", "--metrics-port", "0", "--replica-id", f"bench-{model}",
        "--server-model", model,
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    ready = json.loads(server.stdout.readline())
    return server, ready


def server_calls(metrics_port: int) -> tuple[float, float]:
    """(ok, other outcomes) from the server's own counters."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
    ok = errors = 0.0
    for line in text.splitlines():
        if line.startswith("calc_requests_total{"):
            value = float(line.rsplit(" ", 1)[1])
            ok, errors = (ok + value, errors) if 'outcome="ok"' in line else (ok, errors + value)
    return ok, errors


def grpc_body(path: Path) -> Path:
    """A gRPC request frame for h2load: uncompressed flag, 4-byte length, Operands."""
    message = Operands(op1=1.5, op2=2.25).SerializeToString()
    path.write_bytes(b"\x00" + struct.pack(">I", len(message)) + message)
    return path


def run_h2load(port: int, seconds: float, clients: int, streams: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        body = grpc_body(Path(folder) / "operands.bin")
        command = [
            "taskset", "-c", str(CLIENT_CORE), "h2load", "-D", str(max(1, round(seconds))),
            "-c", str(clients), "-m", str(streams), "-d", str(body),
            "-H", "content-type: application/grpc", "-H", "te: trailers",
            f"http://127.0.0.1:{port}{METHOD_PATHS['addition']}",
        ]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True)


async def _aio_client(port: int, seconds: float, clients: int, streams: int) -> None:
    os.sched_setaffinity(0, {CLIENT_CORE})
    channels = []
    for _ in range(clients):
        target, options = channel_target([f"127.0.0.1:{port}"])
        channels.append(grpc.aio.insecure_channel(target, options=options))
    request, end = Operands(op1=1.5, op2=2.25), time.monotonic() + seconds

    async def loop(method: Any) -> None:
        while time.monotonic() < end:
            await method(request, timeout=5)

    methods = [unary_method(channel, "addition") for channel in channels]
    await asyncio.gather(*(loop(m) for m in methods for _ in range(streams)))
    for channel in channels:
        await channel.close()


def measure(model: str, seconds: float, clients: int, streams: int, client: str) -> Figures:
    server, ready = start_server(model)
    try:
        process = psutil.Process(server.pid)
        drive = run_h2load if client == "h2load" else _run_aio
        drive(ready["port"], 1.0, clients, streams)  # warm-up, not counted
        calls_before, errors_before = server_calls(ready["metrics_port"])
        cpu_before, started = process.cpu_times(), time.monotonic()
        drive(ready["port"], seconds, clients, streams)
        elapsed, cpu_after = time.monotonic() - started, process.cpu_times()
        calls, errors = server_calls(ready["metrics_port"])
    finally:
        server.terminate()
        server.wait(10)
    cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    return Figures(model, client, elapsed, calls - calls_before, errors - errors_before, cpu)


def _run_aio(port: int, seconds: float, clients: int, streams: int) -> None:
    asyncio.run(_aio_client(port, seconds, clients, streams))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per run")
    parser.add_argument("--rounds", type=int, default=1, help="runs per model, alternating")
    parser.add_argument("--models", nargs="+", default=["sync", "aio"])
    parser.add_argument("--clients", type=int, default=2, help="connections")
    parser.add_argument("--streams", type=int, default=16, help="calls in flight per connection")
    parser.add_argument("--client", choices=["h2load", "aio"], default=None)
    args = parser.parse_args(argv)
    client = args.client or ("h2load" if shutil.which("h2load") else "aio")
    print(f"client={client} clients={args.clients} streams={args.streams} seconds={args.seconds}")
    print(f"{'model':<6} {'round':>5} {'rps':>9} {'cpu_us/call':>12} {'calls':>9} {'errors':>7}")
    runs: dict[str, list[Figures]] = {model: [] for model in args.models}
    # Alternating models round by round spreads a noisy machine's drift over both.
    for index in range(args.rounds):
        for model in args.models:
            f = measure(model, args.seconds, args.clients, args.streams, client)
            runs[model].append(f)
            print(
                f"{model:<6} {index + 1:>5} {f.rps:>9.0f} {f.cpu_us_per_call:>12.1f} "
                f"{f.calls:>9.0f} {f.errors:>7.0f}"
            )
    for model, figures in runs.items():
        rps = statistics.median(f.rps for f in figures)
        cpu = statistics.median(f.cpu_us_per_call for f in figures)
        print(f"{model:<6} {'med':>5} {rps:>9.0f} {cpu:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
