"""What the load generator costs, next to native tools against the same server in the same run.

    python benchmarks/loadgen_cost.py [--duration 5] [--concurrency 16]
                                      [--memory-seconds 60] [--memory-rate 1000]

`--duration 0` skips the cost part, `--memory-seconds 0` the memory part.

For each protocol: one addition service pinned to CPU 0; every client pinned to CPU 1, closed
loop, `--concurrency` requests in flight:

* REST: `calcbench load --concurrency C` (calcbench.core.http1, pool grows to C connections) and
  `wrk -t1 -cC` (a Lua script posts the JSON body);
* gRPC: `calcbench load --concurrency C` (one channel, C concurrent calls) and
  `h2load -c1 -mC` (one connection, C streams; body = 5-byte gRPC prefix + Operands).

Reported: requests/s, client CPU microseconds per request (calcbench: its measured window, from
run.json; native tools: their rusage) and the server's CPU per request over the same window.
Then a memory check: `calcbench load` open loop at `--memory-rate` for `--memory-seconds`,
its RSS sampled every second (memory must not grow with time).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands

SERVER_CPU = "0"
CLIENT_CPU = "1"
LOAD = [sys.executable, "-m", "calcbench.cli", "load"]
WRK_SCRIPT = """wrk.method = "POST"
wrk.body = '{"op1": 1.5, "op2": 2.25}'
wrk.headers["Content-Type"] = "application/json"
"""


@dataclass(frozen=True)
class Figures:
    tool: str
    rps: float
    client_us: float
    server_us: float


def start_server(protocol: str) -> tuple[subprocess.Popen[str], str]:
    command = [
        "taskset",
        "-c",
        SERVER_CPU,
        sys.executable,
        "-m",
        f"calculator_{protocol}",
        "addition",
        "--port",
        "0",
        "--metrics-port",
        "0",
        "--replica-id",
        "bench",
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    ready = json.loads(server.stdout.readline())
    return server, f"127.0.0.1:{ready['port']}"


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def run_native(command: list[str]) -> tuple[str, float]:
    """Run a native tool on the client CPU; (its stdout, its CPU seconds from rusage)."""
    process = subprocess.Popen(
        ["taskset", "-c", CLIENT_CPU, *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return output, usage.ru_utime + usage.ru_stime


def wrk(address: str, concurrency: int, duration: float, work: Path) -> tuple[float, float]:
    script = work / "post.lua"
    script.write_text(WRK_SCRIPT)
    command = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{duration:g}s",
        "-s",
        str(script),
        f"http://{address}/addition",
    ]
    output, cpu = run_native(command)
    requests = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    return requests / duration, cpu * 1e6 / requests


def h2load(address: str, concurrency: int, duration: float, work: Path) -> tuple[float, float]:
    message = Operands(op1=1.5, op2=2.25).SerializeToString()
    body = work / "operands.bin"
    body.write_bytes(b"\x00" + len(message).to_bytes(4, "big") + message)
    command = [
        "h2load",
        "-c1",
        f"-m{concurrency}",
        "-t1",
        f"-D{duration:g}",
        "-d",
        str(body),
        "-H",
        "content-type: application/grpc",
        "-H",
        "te: trailers",
        f"http://{address}/calculator.v1.Addition/Add",
    ]
    output, cpu = run_native(command)
    done = int(re.search(r"(\d+) succeeded", output)[1])  # type: ignore[index]
    return done / duration, cpu * 1e6 / done


def calcbench_load(
    protocol: str, address: str, flags: list[str], out: Path
) -> tuple[float, float, dict[str, Any]]:
    command = [
        "taskset",
        "-c",
        CLIENT_CPU,
        *LOAD,
        "--protocol",
        protocol,
        "--mix",
        "addition=1",
        "--endpoint",
        f"addition={address}",
        "--out",
        str(out),
        *flags,
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    run = json.loads((out / "run.json").read_text())
    requests = run["totals"]["requests"]
    return requests / run["measured_seconds"], run["generator"]["cpu_us_per_request"], run


def measure(
    protocol: str, address: str, server_pid: int, args: argparse.Namespace, work: Path
) -> list[Figures]:
    """calcbench's closed loop and the native tool, each with the server's CPU per request."""
    rows = []
    flags = f"--concurrency {args.concurrency} --duration {args.duration} --warmup 1".split()
    before = cpu_seconds(server_pid)
    rps, client_us, run = calcbench_load(protocol, address, flags, work / f"closed-{protocol}")
    # The server idles while the generator starts: its CPU is the warm-up's and the run's.
    served = run["totals"]["requests"] + run["warmup"]["requests"]
    rows.append(
        Figures("calcbench load", rps, client_us, (cpu_seconds(server_pid) - before) * 1e6 / served)
    )
    native = wrk if protocol == "rest" else h2load
    before = cpu_seconds(server_pid)
    rps, client_us = native(address, args.concurrency, args.duration, work)
    server_us = (cpu_seconds(server_pid) - before) * 1e6 / (rps * args.duration)
    rows.append(Figures(native.__name__, rps, client_us, server_us))
    return rows


def memory(protocol: str, address: str, args: argparse.Namespace, work: Path) -> str:
    """RSS of `calcbench load` (open loop) after warm-up and at the end of a long run."""
    out = work / f"memory-{protocol}"
    command = [
        "taskset",
        "-c",
        CLIENT_CPU,
        *LOAD,
        "--protocol",
        protocol,
        "--mix",
        "addition=1",
        "--endpoint",
        f"addition={address}",
        "--rate",
        str(args.memory_rate),
        "--duration",
        str(args.memory_seconds),
        "--warmup",
        "2",
        "--out",
        str(out),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[float] = []
    while process.poll() is None:
        try:
            samples.append(psutil.Process(process.pid).memory_info().rss / 2**20)
        except psutil.Error:
            break
        time.sleep(1.0)
    run = json.loads((out / "run.json").read_text())
    step = max(len(samples) // 6, 1)
    trace = ", ".join(f"{s}s {samples[s]:.1f}" for s in range(5, len(samples), step))
    return (
        f"{protocol}: {run['totals']['requests']} requests in {run['measured_seconds']} s; "
        f"RSS MiB by time since start: {trace}, end {samples[-1]:.1f}; "
        f"lag p99 {run['generator']['lag_ms']['p99']} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--memory-seconds", type=float, default=60.0)
    parser.add_argument("--memory-rate", type=float, default=1000.0)
    args = parser.parse_args()
    print(f"{'protocol':<8} {'client':<15} {'rps':>8} {'client us/req':>14} {'server us/req':>14}")
    memories = []
    with tempfile.TemporaryDirectory() as tmp:
        for protocol in ("rest", "grpc"):
            server, address = start_server(protocol)
            try:
                cost = args.duration > 0
                for row in measure(protocol, address, server.pid, args, Path(tmp)) if cost else []:
                    print(
                        f"{protocol:<8} {row.tool:<15} {row.rps:>8.0f} {row.client_us:>14.1f} "
                        f"{row.server_us:>14.1f}",
                        flush=True,
                    )
                if args.memory_seconds > 0:
                    memories.append(memory(protocol, address, args, Path(tmp)))
            finally:
                server.terminate()
                server.wait(timeout=10)
    for line in memories:
        print(line)


if __name__ == "__main__":
    main()
