"""Where the time goes: the calibration's floor against the run, per protocol (pure).

`breakdown.csv` has one row per protocol and component. At one call in flight against
`addition`, calcbench's p50 is the native tool's p50 (server stack and kernel: the floor) plus
what calcbench's client adds; the handler's own time (decode to answer) is inside the floor.
The run adds CPU per request on each side, and the calibration bytes per request each way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from analysis.style import fmt_server_ms
from calcbench.core.rundir import BREAKDOWN_COLUMNS, CALCBENCH_CLIENT
from calcbench.core.vocabulary import PROTOCOLS, Protocol, Service

#: component -> (unit, what it is), in report order.
COMPONENTS: dict[str, tuple[str, str]] = {
    "native_floor_p50": ("ms", "native client's p50: server stack and kernel"),
    "client_overhead_p50": ("ms", "what calcbench's client adds to the floor"),
    "calcbench_p50": ("ms", "calcbench's p50 at one call in flight"),
    "handler_p50": ("ms", "addition's handler p50 (decode to answer), inside the floor"),
    "percentage_downstream_p50": ("ms", "percentage's handler p50 less addition's: its 2 calls"),
    "client_cpu_per_request": ("us", "load generator CPU per request (the run)"),
    "server_cpu_per_request": ("us", "all services' CPU per client request (the run)"),
    "native_client_cpu_per_request": ("us", "native client CPU per request (calibration)"),
    "bytes_sent_per_request": ("B", "client to server, headers and framing included"),
    "bytes_received_per_request": ("B", "server to client, headers and framing included"),
}


@dataclass(frozen=True)
class Inputs:
    """What the breakdown reads: the calibration's two files and the run's tables."""

    calibration: pd.DataFrame
    wire: pd.DataFrame
    services: pd.DataFrame
    phases: pd.DataFrame


def _handler_p50(services: pd.DataFrame, protocol: str, service: str) -> float:
    rows = services[(services["protocol"] == protocol) & (services["service"] == service)]
    return float(pd.to_numeric(rows["p50_ms"], errors="coerce").median()) if len(rows) else math.nan


def _per_request(phases: pd.DataFrame, protocol: str, cpu: str, requests: str) -> float:
    rows = phases[phases["protocol"] == protocol]
    total = float(rows[requests].sum()) if len(rows) else 0.0
    return float(rows[cpu].sum()) / total if total else math.nan


def _calibration(inputs: Inputs, protocol: str) -> dict[str, float]:
    rows = inputs.calibration[inputs.calibration["protocol"] == protocol]
    mine = rows[rows["client"] == CALCBENCH_CLIENT]
    native = rows[rows["client"] != CALCBENCH_CLIENT]
    found = {"calcbench_p50": float(mine["p50_ms"].iloc[0]) if len(mine) else math.nan}
    if len(native):
        found["native_floor_p50"] = float(native["p50_ms"].iloc[0])
        found["native_client_cpu_per_request"] = float(native["client_cpu_us_per_request"].iloc[0])
        found["client_overhead_p50"] = found["calcbench_p50"] - found["native_floor_p50"]
    return found


def _values(inputs: Inputs, protocol: str) -> dict[str, float]:
    values = _calibration(inputs, protocol)
    addition = _handler_p50(inputs.services, protocol, Service.ADDITION)
    percentage = _handler_p50(inputs.services, protocol, Service.PERCENTAGE)
    values |= {"handler_p50": addition, "percentage_downstream_p50": percentage - addition}
    phases = inputs.phases
    values["client_cpu_per_request"] = _per_request(phases, protocol, "client_cpu_us", "requests")
    values["server_cpu_per_request"] = _per_request(
        phases, protocol, "server_cpu_us", "all_requests"
    )
    wire = inputs.wire[inputs.wire["protocol"] == protocol]
    if len(wire):
        values["bytes_sent_per_request"] = float(wire["sent_bytes_per_request"].iloc[0])
        values["bytes_received_per_request"] = float(wire["received_bytes_per_request"].iloc[0])
    return values


def breakdown(inputs: Inputs) -> pd.DataFrame:
    """breakdown.csv: protocol, component, value, unit; components without data are left out."""
    if inputs.calibration.empty:
        return pd.DataFrame(columns=list(BREAKDOWN_COLUMNS))
    rows = []
    for protocol in PROTOCOLS:
        values = _values(inputs, protocol)
        for component, (unit, _) in COMPONENTS.items():
            value = values.get(component, math.nan)
            if not math.isnan(value):
                rows.append((protocol, component, value, unit))
    return pd.DataFrame(rows, columns=list(BREAKDOWN_COLUMNS))


def value(frame: pd.DataFrame, protocol: str, component: str) -> float:
    """One figure of a breakdown table, NaN when absent."""
    found = frame[(frame["protocol"] == protocol) & (frame["component"] == component)]
    return float(found["value"].iloc[0]) if len(found) else math.nan


def _ms(x: float) -> str:
    return f"{x:.3f} ms"


def explain(frame: pd.DataFrame) -> list[str]:
    """Findings in numbers: which part explains the gRPC/REST difference at one in flight."""
    if frame.empty:
        return []

    def rest(component: str) -> float:
        return value(frame, Protocol.REST, component)

    def grpc(component: str) -> float:
        return value(frame, Protocol.GRPC, component)

    diff = grpc("calcbench_p50") - rest("calcbench_p50")
    text = [
        f"At one call in flight against addition, calcbench's gRPC p50 is {_ms(diff)} "
        f"{'above' if diff >= 0 else 'below'} REST's ({_ms(grpc('calcbench_p50'))} vs "
        f"{_ms(rest('calcbench_p50'))})."
    ]
    floor = grpc("native_floor_p50") - rest("native_floor_p50")
    if not math.isnan(floor):
        client = diff - floor
        main = (
            "the protocol stacks (server and kernel)"
            if abs(floor) > 1.2 * abs(client)
            else "calcbench's client libraries"
            if abs(client) > 1.2 * abs(floor)
            else "the protocol stacks and the client libraries, about equally,"
        )
        text.append(
            f"Of that, the server stack and kernel (native floor: h2load "
            f"{_ms(grpc('native_floor_p50'))}, wrk {_ms(rest('native_floor_p50'))}) account for "
            f"{_ms(floor)} and calcbench's client for {_ms(client)} (it adds "
            f"{_ms(grpc('client_overhead_p50'))} over gRPC, {_ms(rest('client_overhead_p50'))} "
            f"over REST): {main} explain most of it."
        )
    text.append(
        f"The handlers themselves (addition, decode to answer) take "
        f"{fmt_server_ms(rest('handler_p50'))} (REST) and {fmt_server_ms(grpc('handler_p50'))} "
        "(gRPC) at p50: the protocols differ outside them."
    )
    text.append(
        f"CPU per request: load generator {rest('client_cpu_per_request'):.0f} us (REST) vs "
        f"{grpc('client_cpu_per_request'):.0f} us (gRPC); services "
        f"{rest('server_cpu_per_request'):.0f} vs {grpc('server_cpu_per_request'):.0f} us."
    )
    if not math.isnan(grpc("bytes_sent_per_request")):
        text.append(
            f"Bytes per call on the wire: REST {rest('bytes_sent_per_request'):.0f} B out / "
            f"{rest('bytes_received_per_request'):.0f} B back, gRPC "
            f"{grpc('bytes_sent_per_request'):.0f} / {grpc('bytes_received_per_request'):.0f} B."
        )
    return text
