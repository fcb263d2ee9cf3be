"""The calibration of every `calcbench run`: how fast can a call be, and what does our client add?

Per protocol, before the measured rounds: a short closed loop with one call in flight against
`addition`, first with calcbench's own client, then with the protocol's native C tool (wrk,
h2load) when it is on PATH. The native row is the floor (server stack and kernel); the
difference to calcbench's row is what calcbench's client costs. The report reads every latency
against both.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, astuple, dataclass
from pathlib import Path
from typing import Final

from calcbench.core.endpoints import Endpoints
from calcbench.core.rundir import CALCBENCH_CLIENT, CALIBRATION_COLUMNS, SUMMARY
from calcbench.core.vocabulary import Service
from calcbench.orchestration import native
from loadgen import run_load
from loadgen.rundir import write_csv
from loadgen.settings import LoadSettings

#: Seconds of each closed loop: thousands of calls at one in flight, a few percent of a run.
SECONDS: Final = 3.0
WARMUP: Final = 1.0


@dataclass(frozen=True)
class CalibrationRow:
    protocol: str
    client: str
    in_flight: int
    requests: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    client_cpu_us_per_request: float


def calibrate(
    protocol: str, endpoints: Endpoints, work: Path, seconds: float = SECONDS
) -> list[CalibrationRow]:
    """calcbench's row, then the native tool's when it is installed, against `addition`."""
    rows = [_calcbench(protocol, endpoints, work / f"{protocol}-calcbench", seconds)]
    if native.available(protocol):
        address = endpoints.services[Service.ADDITION].address
        floor = native.measure(protocol, address, seconds, work / f"{protocol}-native")
        rows.append(CalibrationRow(protocol=protocol, in_flight=1, **asdict(floor)))
    return rows


def one_in_flight(protocol: str, seconds: float, warmup: float) -> LoadSettings:
    """calcbench's closed loop with one caller against addition, as the native tools run."""
    return LoadSettings(
        protocol=protocol,
        mix=((Service.ADDITION, 1.0),),
        rate=None,
        concurrency=1,
        duration=seconds,
        warmup=warmup,
        # Long enough that a busy machine never turns a call into a timeout.
        timeout=10.0,
    )


def _calcbench(protocol: str, endpoints: Endpoints, out: Path, seconds: float) -> CalibrationRow:
    settings = one_in_flight(protocol, seconds, WARMUP)
    result = run_load(settings, _only_addition(endpoints), out)
    with (out / SUMMARY).open(newline="") as handle:
        total = next(row for row in csv.DictReader(handle) if row["operation"] == "all")
    return CalibrationRow(
        protocol=protocol,
        client=CALCBENCH_CLIENT,
        in_flight=1,
        requests=result.requests,
        p50_ms=float(total["p50_ms"]),
        p90_ms=float(total["p90_ms"]),
        p99_ms=float(total["p99_ms"]),
        client_cpu_us_per_request=result.cpu_us_per_request or 0.0,
    )


def _only_addition(endpoints: Endpoints) -> Endpoints:
    """The shared address of addition: one connection, whatever the run's balancing."""
    entry = endpoints.services[Service.ADDITION]
    return Endpoints(endpoints.protocol, {Service.ADDITION: type(entry)(entry.address)})


def write_calibration(path: Path, rows: list[CalibrationRow]) -> None:
    """`calibration.csv`: one row per protocol and client."""
    write_csv(path, CALIBRATION_COLUMNS, (list(astuple(row)) for row in rows))


def missing_tools() -> dict[str, str]:
    """Protocol -> the Debian package to install for its native row, when its tool is absent."""
    return {
        str(protocol): native.PACKAGES[tool]
        for protocol, tool in native.TOOLS.items()
        if not native.available(protocol)
    }
