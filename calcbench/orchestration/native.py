"""The native floor: wrk (REST) and h2load with gRPC framing (gRPC) against one address.

What a C client measures against the same server is the floor under calcbench's own numbers:
the server stack and the kernel, with the client's cost near zero. Each tool runs one
connection with one call in flight (a closed loop), the way the calibration runs calcbench's
client, and reports the same percentiles and its own CPU per request (from rusage).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands
from calcbench.core.rpc import METHOD_PATHS
from calcbench.core.vocabulary import NATIVE_CLIENTS, Protocol

#: Which tool measures which protocol's floor, and the Debian package that brings it.
TOOLS: Final = {protocol: tool for protocol, (tool, _) in NATIVE_CLIENTS.items()}
PACKAGES: Final = dict(NATIVE_CLIENTS.values())
#: The operands every floor call sends (what the calibration's workload sends too).
OP1, OP2 = 1.5, 2.25
_WRK_SCRIPT: Final = f"""wrk.method = "POST"
wrk.body = '{{"op1": {OP1}, "op2": {OP2}}}'
wrk.headers["Content-Type"] = "application/json"
"""
_UNITS_MS: Final = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class Floor:
    """One tool's closed-loop figures: requests, percentiles in ms, client CPU per request."""

    client: str
    requests: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    client_cpu_us_per_request: float


class NativeToolError(RuntimeError):
    """A native tool ran but its output could not be read."""


def available(protocol: str) -> str | None:
    """The native tool for `protocol` when it is on PATH, else None."""
    tool = TOOLS[Protocol(protocol)]
    return tool if shutil.which(tool) else None


def measure(protocol: str, address: str, seconds: float, work: Path) -> Floor:
    """Run the protocol's native tool against `addition` at `address` for `seconds`."""
    work.mkdir(parents=True, exist_ok=True)
    if protocol == Protocol.REST:
        return _wrk(address, seconds, work)
    return _h2load(address, seconds, work)


def _wrk(address: str, seconds: float, work: Path) -> Floor:
    script = work / "post.lua"
    script.write_text(_WRK_SCRIPT)
    command = ["wrk", "-t1", "-c1", f"-d{seconds:g}s", "--latency", "-s", str(script)]
    output, cpu = _timed([*command, f"http://{address}/addition"])
    found = re.search(r"(\d+) requests in", output)
    if found is None:
        raise NativeToolError(f"wrk printed no request count: {output.strip()[-200:]}")
    requests = int(found[1])
    percentiles = {
        int(p): float(v) * _UNITS_MS[unit]
        for p, v, unit in re.findall(r"^\s*(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    }
    if set(percentiles) != {50, 90, 99} or requests == 0:
        raise NativeToolError(f"wrk printed no latency distribution: {output.strip()[-200:]}")
    return Floor("wrk", requests, percentiles[50], percentiles[90], percentiles[99],
                 cpu * 1e6 / requests)  # fmt: skip


def _h2load(address: str, seconds: float, work: Path) -> Floor:
    message = Operands(op1=OP1, op2=OP2).SerializeToString()
    body, log = work / "operands.bin", work / "h2load.log"
    body.write_bytes(b"\x00" + len(message).to_bytes(4, "big") + message)
    command = ["h2load", "-c1", "-m1", "-t1", f"-D{seconds:g}", "-d", str(body)]
    command += ["-H", "content-type: application/grpc", "-H", "te: trailers"]
    command += ["--log-file", str(log), f"http://{address}{METHOD_PATHS['addition']}"]
    _, cpu = _timed(command)
    # One line per request: start time, HTTP status, elapsed microseconds.
    rows = [line.split("\t") for line in log.read_text().splitlines() if line.strip()]
    elapsed_us = np.array([float(r[2]) for r in rows if len(r) >= 3 and r[1] == "200"])
    if elapsed_us.size == 0:
        raise NativeToolError("h2load logged no successful request")
    p50, p90, p99 = np.percentile(elapsed_us / 1e3, [50, 90, 99])
    return Floor("h2load", int(elapsed_us.size), float(p50), float(p90), float(p99),
                 cpu * 1e6 / elapsed_us.size)  # fmt: skip


def _timed(command: list[str]) -> tuple[str, float]:
    """Run `command` (it stops by itself after its duration); its output and the CPU seconds
    it used, from its own rusage (wait4)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    try:
        output = process.stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        process.kill()
        process.wait()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    if process.returncode != 0:
        raise NativeToolError(f"{command[0]} exited {process.returncode}: {output.strip()[-200:]}")
    return output, usage.ru_utime + usage.ru_stime
