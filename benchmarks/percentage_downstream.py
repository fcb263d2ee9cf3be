"""What percentage's REST downstream client costs the service, this checkout against another.

    python benchmarks/percentage_downstream.py --baseline CHECKOUT [--seconds 5] [--rounds 3]

Per round and per code (CHECKOUT's, then this checkout's; the order alternates between
rounds): multiplication, division and percentage (REST, percentage from that code) pinned to
CPU 0, and `calcbench load --mix percentage=1 --concurrency 1` (this checkout's) on CPU 1 for
`--seconds`. Reported as medians (min-max) over rounds: p50 as the generator saw it, the
percentage process's CPU per request and all three services' CPU per percentage request
(psutil), over the requests percentage itself counted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil

from calcbench.orchestration.scrape import scrape

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU, CLIENT_CPU = 0, 1


@contextlib.contextmanager
def service(name: str, code: Path, *flags: str) -> Iterator[dict[str, Any]]:
    """A REST replica of `name` run from `code`, pinned to SERVER_CPU; its ready line."""
    command = ["taskset", "-c", str(SERVER_CPU), sys.executable, "-m", "calculator_rest", name]
    command += ["--port", "0", "--metrics-port", "0", "--replica-id", name, *flags]
    env = dict(os.environ, PYTHONPATH=str(code))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=code, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{name} did not start")
        yield json.loads(line)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pids: list[int]) -> float:
    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)


def served(metrics: str) -> float:
    with httpx.Client(timeout=5.0) as client:
        return sum(scrape(metrics, client).requests.values())


def one_run(code: Path, seconds: float, work: Path) -> tuple[float, float, float]:
    """(p50 us, percentage CPU us/request, all three services' CPU us/request)."""
    with service("multiplication", ROOT) as mul, service("division", ROOT) as div:
        downstream = ["--multiplication-endpoint", f"127.0.0.1:{mul['port']}"]
        downstream += ["--division-endpoint", f"127.0.0.1:{div['port']}"]
        with service("percentage", code, *downstream) as pct:
            pids = [pct["pid"], mul["pid"], div["pid"]]
            metrics = f"127.0.0.1:{pct['metrics_port']}"
            cpu0, own0, count0 = cpu_seconds(pids), cpu_seconds(pids[:1]), served(metrics)
            command = [sys.executable, "-m", "calcbench.cli", "load", "--protocol", "rest"]
            command += ["--mix", "percentage=1", "--concurrency", "1", "--warmup", "1"]
            command += ["--endpoint", f"percentage=127.0.0.1:{pct['port']}"]
            command += ["--duration", f"{seconds:g}", "--timeout", "10", "--out", str(work)]
            subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=ROOT)
            count = served(metrics) - count0
            cpu, own = cpu_seconds(pids) - cpu0, cpu_seconds(pids[:1]) - own0
    summary = (work / "summary.csv").read_text().splitlines()
    header, total = summary[0].split(","), summary[-1].split(",")
    p50_ms = float(total[header.index("p50_ms")])
    return p50_ms * 1e3, own * 1e6 / count, cpu * 1e6 / count


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.sched_setaffinity(0, {CLIENT_CPU})
    codes = {"baseline": args.baseline.resolve(), "this checkout": ROOT}
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in codes}
    with tempfile.TemporaryDirectory(prefix="percentage-") as tmp:
        for index in range(args.rounds):
            for name in list(codes)[:: 1 if index % 2 == 0 else -1]:
                result = one_run(codes[name], args.seconds, Path(tmp) / f"{index}-{name}")
                runs[name].append(result)
                print(f"round {index + 1}: {name}: {result[0]:.0f} us p50", file=sys.stderr)
    print("| percentage's code | p50 us | percentage CPU us/req | three services' CPU us/req |")
    print("|---|---:|---:|---:|")
    for name, results in runs.items():
        columns = [spread([r[i] for r in results]) for i in range(3)]
        print(f"| {name} | {' | '.join(columns)} |")


if __name__ == "__main__":
    main()
