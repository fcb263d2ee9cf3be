"""The client floor: what each client costs, one call in flight, against `addition`.

    python benchmarks/client_floor.py [--seconds 5] [--rounds 3] [--warmup 1]
                                      [--only CLIENT ...] [--baseline CHECKOUT]

One `addition` server per protocol (`python -m calculator_<protocol> addition --port 0`),
pinned to CPU 0; every client pinned to CPU 1 (this script pins itself there once the servers
run, and its children inherit it), closed loop, one call in flight, for `--seconds`:

* REST: wrk (`calcbench.orchestration.native`), `calcbench load --concurrency 1` (the real
  generator, through its CLI), and bare loops (`benchmarks/client_loops.py`): aiohttp, httpx,
  httptools (an asyncio Protocol on httptools' parser), urllib3 (sync, blocking loop),
  aiohttp and httptools on uvloop, the loop percentage's downstream client runs on, and that
  client itself (`calculator_rest.downstream.Downstream`);
* gRPC: h2load with gRPC framing, `calcbench load --concurrency 1`, and bare loops: grpc.aio,
  the sync stub (blocking loop), the sync stub's `.future()` awaited on asyncio, the sync stub
  in a one-thread executor.

Reported per client, as medians over `--rounds` (the clients' order rotates each round): calls
per second, p50/p90/p99 latency, the client's CPU per call (bare loops: the process's CPU
time over the measured window; calcbench: run.json; native tools: their rusage) and the
server's CPU per call it served (psutil on the server's pid over the client's whole run, over
the calls the server itself counted). `--baseline CHECKOUT` adds calcbench's own rows
(`calcbench load`, percentage's downstream client) run from another checkout's code (one that
has this benchmark), for a before/after in one table.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import psutil

from calcbench.orchestration import native
from calcbench.orchestration.scrape import scrape

ROOT: Final = Path(__file__).resolve().parent.parent
SERVER_CPU, CLIENT_CPU = 0, 1
REST_CLIENTS: Final = (
    "wrk", "calcbench load", "aiohttp", "httpx", "httptools", "urllib3",
    "aiohttp on uvloop", "httptools on uvloop", "percentage downstream on uvloop",
)  # fmt: skip
GRPC_CLIENTS: Final = (
    "h2load", "calcbench load", "grpc.aio", "sync stub", "sync stub future", "sync stub executor",
)  # fmt: skip
#: Bare loops of calcbench's own code, run from `--baseline` too.
OWN_CLIENTS: Final = ("percentage downstream on uvloop",)
#: The one bare client whose library is not a calcbench dependency.
LIBRARIES: Final = {"urllib3": "urllib3"}
CHILD_TIMEOUT: Final = 120.0
#: The table's figures: (Sample field, scale to its unit).
COLUMNS: Final = (
    ("calls_per_s", 1.0), ("p50_ms", 1e3), ("p90_ms", 1e3), ("p99_ms", 1e3),
    ("client_us", 1.0), ("server_us", 1.0),
)  # fmt: skip


@dataclass(frozen=True)
class Sample:
    """One client's run: its own figures and the server's CPU per call it served."""

    calls_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    client_us: float
    server_us: float
    failures: int


@dataclass
class Server:
    protocol: str
    process: subprocess.Popen[str]
    address: str
    metrics: str

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def served(self) -> float:
        with httpx.Client(timeout=5.0) as client:
            return sum(scrape(self.metrics, client).requests.values())


@contextlib.contextmanager
def server(protocol: str) -> Iterator[Server]:
    """`addition` of `protocol` pinned to SERVER_CPU, stopped (killed if it must) on exit."""
    command = ["taskset", "-c", str(SERVER_CPU), sys.executable, "-m", f"calculator_{protocol}"]
    command += ["addition", "--port", "0", "--metrics-port", "0", "--replica-id", "bench"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"calculator_{protocol} did not start")
        ready = json.loads(line)
        yield Server(
            protocol, process, f"127.0.0.1:{ready['port']}", f"127.0.0.1:{ready['metrics_port']}"
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


Figures = dict[str, Any]  # calls, seconds, p50_ms, p90_ms, p99_ms, client_us, failures
Client = Callable[[Server, argparse.Namespace, Path], Figures]


def native_client(srv: Server, args: argparse.Namespace, work: Path) -> Figures:
    floor = native.measure(srv.protocol, srv.address, args.seconds, work)
    return {"calls": floor.requests, "seconds": args.seconds, "p50_ms": floor.p50_ms,
            "p90_ms": floor.p90_ms, "p99_ms": floor.p99_ms,
            "client_us": floor.client_cpu_us_per_request, "failures": 0}  # fmt: skip


def calcbench_client(checkout: Path | None) -> Client:
    """`calcbench load --concurrency 1` from this checkout, or from `checkout`'s code."""

    def run(srv: Server, args: argparse.Namespace, work: Path) -> Figures:
        out = work / "run"
        command = [sys.executable, "-m", "calcbench.cli", "load", "--protocol", srv.protocol]
        command += ["--mix", "addition=1", "--endpoint", f"addition={srv.address}"]
        command += ["--concurrency", "1", "--duration", f"{args.seconds:g}"]
        command += ["--warmup", f"{args.warmup:g}", "--timeout", "10", "--out", str(out)]
        subprocess.run(command, check=True, capture_output=True, timeout=CHILD_TIMEOUT,
                       **_code_of(checkout))  # fmt: skip
        run_json = json.loads((out / "run.json").read_text())
        with (out / "summary.csv").open(newline="") as handle:
            total = next(row for row in csv.DictReader(handle) if row["operation"] == "all")
        return {"calls": run_json["totals"]["requests"], "seconds": run_json["measured_seconds"],
                "p50_ms": float(total["p50_ms"]), "p90_ms": float(total["p90_ms"]),
                "p99_ms": float(total["p99_ms"]),
                "client_us": run_json["generator"]["cpu_us_per_request"],
                "failures": run_json["totals"]["errors"]}  # fmt: skip

    return run


def bare_client(name: str, checkout: Path | None = None) -> Client:
    """A loop of `benchmarks/client_loops.py` in its own process (`X on uvloop`: X, on uvloop),
    from this checkout or from `checkout`."""
    client, on_uvloop = name.removesuffix(" on uvloop"), name.endswith(" on uvloop")

    def run(srv: Server, args: argparse.Namespace, work: Path) -> Figures:
        command = [sys.executable, "-m", "benchmarks.client_loops", client, srv.address]
        command += ["--seconds", f"{args.seconds:g}", "--warmup", f"{args.warmup:g}"]
        command += ["--uvloop"] if on_uvloop else []
        done = subprocess.run(command, check=True, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT, **_code_of(checkout))  # fmt: skip
        result = json.loads(done.stdout)
        calls = max(result["calls"], 1)
        return {**result, "seconds": args.seconds, "client_us": result["cpu_seconds"] * 1e6 / calls}

    return run


def _code_of(checkout: Path | None) -> dict[str, Any]:
    """Run a child on `checkout`'s code (first on its path, its working directory)."""
    if checkout is None:
        return {"cwd": ROOT}
    return {"cwd": checkout, "env": dict(os.environ, PYTHONPATH=str(checkout))}


def clients(protocol: str, args: argparse.Namespace) -> dict[str, Client]:
    names = REST_CLIENTS if protocol == "rest" else GRPC_CLIENTS
    chosen: dict[str, Client] = {}
    for name in names:
        if args.only and name not in args.only:
            continue
        if name in ("wrk", "h2load"):
            chosen[name] = native_client
        elif name == "calcbench load":
            chosen[name] = calcbench_client(None)
            if args.baseline:
                chosen["calcbench load (baseline)"] = calcbench_client(args.baseline)
        elif importlib.util.find_spec(LIBRARIES.get(name, "asyncio")) is None:
            print(f"{name}: not installed, left out", file=sys.stderr)
        else:
            chosen[name] = bare_client(name)
            if args.baseline and name in OWN_CLIENTS:
                chosen[f"{name} (baseline)"] = bare_client(name, args.baseline)
    return chosen


def measure(srv: Server, client: Client, args: argparse.Namespace, work: Path) -> Sample:
    cpu, served = srv.cpu_seconds(), srv.served()
    figures = client(srv, args, work)
    cpu, served = srv.cpu_seconds() - cpu, srv.served() - served
    return Sample(
        calls_per_s=figures["calls"] / figures["seconds"],
        p50_ms=figures["p50_ms"],
        p90_ms=figures["p90_ms"],
        p99_ms=figures["p99_ms"],
        client_us=figures["client_us"],
        server_us=cpu * 1e6 / max(served, 1.0),
        failures=int(figures["failures"]),
    )


def rounds(args: argparse.Namespace, work: Path) -> dict[tuple[str, str], list[Sample]]:
    """Every client of both protocols, `args.rounds` times, the order rotated each round."""
    samples: dict[tuple[str, str], list[Sample]] = {}
    with server("rest") as rest, server("grpc") as grpc:
        os.sched_setaffinity(0, {CLIENT_CPU})
        plan = [(srv, name, client) for srv in (rest, grpc)
                for name, client in clients(srv.protocol, args).items()]  # fmt: skip
        for index in range(args.rounds):
            shift = index % len(plan)
            for step, (srv, name, client) in enumerate(plan[shift:] + plan[:shift]):
                sample = measure(srv, client, args, work / f"{index}-{step}")
                samples.setdefault((srv.protocol, name), []).append(sample)
                print(f"round {index + 1}: {srv.protocol} {name}: {_us(sample.p50_ms)} us p50",
                      file=sys.stderr, flush=True)  # fmt: skip
    return {key: samples[key] for key in sorted(samples, key=_table_order(plan))}


def _table_order(plan: list[tuple[Server, str, Client]]) -> Callable[[tuple[str, str]], int]:
    order = [(srv.protocol, name) for srv, name, _ in plan]
    return order.index


def _us(ms: float) -> str:
    return f"{ms * 1e3:.0f}"


def _spread(values: list[float], scale: float = 1.0) -> str:
    """`median (min-max)` of `values` times `scale`, rounded; the median alone for one round."""
    median = f"{statistics.median(values) * scale:.0f}"
    if len(values) == 1:
        return median
    return f"{median} ({min(values) * scale:.0f}-{max(values) * scale:.0f})"


def table(samples: dict[tuple[str, str], list[Sample]]) -> list[str]:
    lines = [
        "| protocol | client | calls/s | p50 us | p90 us | p99 us | client CPU us/call "
        "| server CPU us/call | failures |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (protocol, name), runs in samples.items():
        cells = [_spread([getattr(s, field) for s in runs], scale) for field, scale in COLUMNS]
        failures = sum(s.failures for s in runs)
        lines.append(f"| {protocol} | {name} | {' | '.join(cells)} | {failures} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per client")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=1.0, help="(Python clients only)")
    parser.add_argument("--only", nargs="+", help="only these clients (names as in the table)")
    parser.add_argument("--baseline", type=Path, help="another checkout's calcbench load, too")
    args = parser.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        parser.error("needs two CPUs: the server on CPU 0, the clients on CPU 1")
    with tempfile.TemporaryDirectory(prefix="client-floor-") as tmp:
        samples = rounds(args, Path(tmp))
    print(f"`{shlex.join(['python', *sys.argv])}`: medians of {args.rounds} rounds "
          f"(min-max), {args.seconds:g} s each\n")  # fmt: skip
    print("\n".join(table(samples)))


if __name__ == "__main__":
    main()
