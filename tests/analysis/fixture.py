"""A synthetic `calcbench run` directory, written the way the orchestrator and load generator do.

Requests are drawn first (operation, replica, latency, outcome, second); every file is then
derived from them, so counts agree across files exactly as in a real run.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hdrh.histogram import HdrHistogram

from calcbench.core.buckets import BUCKETS

OPERATIONS = ("addition", "subtraction", "multiplication", "division", "percentage")


@dataclass(frozen=True)
class Spec:
    rounds: int = 2
    replicas: int = 1
    scenario: str = "default"
    rate: float = 200.0
    duration: int = 4
    rest_median_us: float = 2000.0
    grpc_factor: float = 0.5
    rest_cpu_us: float = 400.0
    grpc_cpu_us: float = 200.0
    cpu_count: int = 2
    bound_phase: str = ""
    unexpected_errors: int = 0
    seed: int = 7

    @property
    def modes(self) -> tuple[str, ...]:
        return ("shared", "round-robin") if self.scenario == "balancing" else ("shared",)


def _requests(spec: Spec, protocol: str, mode: str, rng: np.random.Generator) -> pd.DataFrame:
    n = int(spec.rate * spec.duration)
    median = spec.rest_median_us * (spec.grpc_factor if protocol == "grpc" else 1.0)
    frame = pd.DataFrame(
        {
            "operation": rng.choice(OPERATIONS, size=n),
            "second": np.repeat(np.arange(spec.duration), n // spec.duration)[:n],
            "latency_us": np.maximum(1, rng.lognormal(np.log(median), 0.4, size=n)).astype(int),
        }
    )
    frame["actual_us"] = np.maximum(1, frame["latency_us"] - 50)
    divzero = (frame["operation"] == "division") & (rng.random(n) < 0.25)
    frame["outcome"] = np.where(divzero, "invalid_argument", "ok")
    if spec.unexpected_errors and protocol == "rest":
        frame.loc[frame.index[: spec.unexpected_errors], "outcome"] = "unavailable"
    frame["replica"] = _replicas(spec, protocol, mode, frame["operation"], rng)
    return frame


def _replicas(
    spec: Spec, protocol: str, mode: str, ops: pd.Series, rng: np.random.Generator
) -> list[str]:
    n = spec.replicas
    if mode == "round-robin":
        index = ops.groupby(ops).cumcount().to_numpy() % n  # a rotation per service
    elif protocol == "grpc":  # one channel per service: pinned to one replica for the phase
        pinned = {op: int(rng.integers(n)) for op in OPERATIONS}
        index = np.array([pinned[o] for o in ops])
    else:  # a keep-alive pool: uneven
        index = rng.choice(n, size=len(ops), p=np.linspace(2, 1, n) / np.linspace(2, 1, n).sum())
    return [f"{op}-{i}" for op, i in zip(ops, index, strict=True)]


def _hist(values: Any) -> str:
    h = HdrHistogram(1, 60_000_000, 3)
    for v in values:
        h.record_value(int(v))
    return str(h.encode().decode())


def _pct_row(
    protocol: str, op: str, group: pd.DataFrame, seconds: float, col: str
) -> dict[str, Any]:
    ok = int((group["outcome"] == "ok").sum())
    lat = group[col] / 1000

    def q(p: float) -> float:
        return float(np.percentile(lat, p))

    return {
        "protocol": protocol,
        "operation": op,
        "requests": len(group),
        "ok": ok,
        "errors": len(group) - ok,
        "success_rate": ok / len(group),
        "rps": len(group) / seconds,
        "p50_ms": q(50),
        "p90_ms": q(90),
        "p95_ms": q(95),
        "p99_ms": q(99),
        "p999_ms": q(99.9),
        "max_ms": float(lat.max()),
        "mean_ms": float(lat.mean()),
    }


def _by_op(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return [(str(op), g) for op, g in frame.groupby("operation")] + [("all", frame)]


def _server(spec: Spec, protocol: str, mode: str, frame: pd.DataFrame) -> dict[str, Any]:
    internal = frame[frame["operation"] == "percentage"]
    extra = [
        pd.DataFrame(
            {
                "operation": op,
                "latency_us": internal["latency_us"] // 3,
                "outcome": "ok",
                "replica": [
                    f"{op}-{(i % spec.replicas) if mode == 'round-robin' else 0}"
                    for i in range(len(internal))
                ],
            }
        )
        for op in ("multiplication", "division")
    ]
    served = pd.concat([frame, *extra], ignore_index=True)
    per_request_cpu = 100e-6 if protocol == "rest" else 60e-6
    replicas = []
    for op in OPERATIONS:
        for index in range(spec.replicas):
            rows = served[served["replica"] == f"{op}-{index}"]
            seconds = np.sort(rows["latency_us"].to_numpy() * 0.6 / 1e6)
            below = np.searchsorted(seconds, BUCKETS, side="right")
            cumulative: list[list[Any]] = [[b, int(n)] for b, n in zip(BUCKETS, below, strict=True)]
            cumulative.append(["+Inf", len(rows)])
            replicas.append(
                {
                    "service": op,
                    "replica": f"{op}-{index}",
                    "requests": {k: int(v) for k, v in Counter(rows["outcome"]).items()},
                    "buckets": cumulative,
                    "sum_seconds": float(seconds.sum()),
                    "count": len(rows),
                    "tcp_conn": (2 if protocol == "rest" else 1) if len(rows) else 0,
                    "cpu_seconds": len(rows) * per_request_cpu,
                }
            )
    return {"seconds": float(spec.duration) + 0.3, "replicas": replicas}


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)


ERROR_COLUMNS = ["protocol", "operation", "outcome", "code", "count", "expected"]
TIMESERIES_COLUMNS = ["protocol", "operation", "second", "requests", "errors", "p50_ms", "p99_ms"]


def _code(protocol: str, outcome: str) -> str:
    if outcome == "invalid_argument":
        return "400" if protocol == "rest" else "INVALID_ARGUMENT"
    return "503" if protocol == "rest" else "UNAVAILABLE"


def _error_rows(protocol: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    errors = frame[frame["outcome"] != "ok"].groupby(["operation", "outcome"]).size()
    return [
        {
            "protocol": protocol,
            "operation": r["operation"],
            "outcome": r["outcome"],
            "code": _code(protocol, r["outcome"]),
            "count": r["count"],
            "expected": r["outcome"] == "invalid_argument" and r["operation"] == "division",
        }
        for r in errors.reset_index(name="count").to_dict("records")
    ]


def _timeseries_rows(protocol: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for op, by_op in _by_op(frame):
        for second, g in by_op.groupby("second"):
            latency = g["latency_us"].to_numpy() / 1000
            rows.append(
                {
                    "protocol": protocol,
                    "operation": op,
                    "second": second,
                    "requests": len(g),
                    "errors": int((g["outcome"] != "ok").sum()),
                    "p50_ms": float(np.percentile(latency, 50)),
                    "p99_ms": float(np.percentile(latency, 99)),
                }
            )
    return rows


def write_phase(path: Path, spec: Spec, protocol: str, mode: str, rng: np.random.Generator) -> None:
    path.mkdir(parents=True)
    frame = _requests(spec, protocol, mode, rng)
    seconds = float(spec.duration)
    summary_cols = list(_pct_row(protocol, "all", frame, seconds, "latency_us"))
    for name, col in (("summary.csv", "latency_us"), ("summary_actual.csv", "actual_us")):
        rows = [_pct_row(protocol, op, g, seconds, col) for op, g in _by_op(frame)]
        _write_csv(path / name, rows, summary_cols)
    _write_csv(path / "errors.csv", _error_rows(protocol, frame), ERROR_COLUMNS)
    _write_csv(path / "timeseries.csv", _timeseries_rows(protocol, frame), TIMESERIES_COLUMNS)
    counts = frame.groupby(["operation", "replica"]).size().reset_index(name="requests")
    replica_rows = [
        {
            "protocol": protocol,
            "service": r["operation"],
            "replica": r["replica"],
            "requests": r["requests"],
        }
        for r in counts.to_dict("records")
    ]
    _write_csv(path / "replicas.csv", replica_rows, ["protocol", "service", "replica", "requests"])
    _write_csv(
        path / "connections.csv",
        [
            {
                "protocol": protocol,
                "service": op,
                "second": s,
                "connections": 1 if protocol == "grpc" else 2,
            }
            for op in OPERATIONS
            for s in range(spec.duration)
        ],
        ["protocol", "service", "second", "connections"],
    )
    histograms = {
        "protocol": protocol,
        "unit": "us",
        "intended": {op: _hist(g["latency_us"]) for op, g in _by_op(frame)},
        "actual": {op: _hist(g["actual_us"]) for op, g in _by_op(frame)},
    }
    (path / "histograms.json").write_text(json.dumps(histograms))
    (path / "server.json").write_text(json.dumps(_server(spec, protocol, mode, frame)))
    cpu_us = (spec.rest_cpu_us if protocol == "rest" else spec.grpc_cpu_us) * rng.uniform(
        0.95, 1.05
    )
    bound = path.name == spec.bound_phase
    load = {
        "kind": "load",
        "protocol": protocol,
        "balancing": mode,
        "settings": {"rate": spec.rate},
        "measured_seconds": seconds,
        "interrupted": False,
        "client_connections": {},
        "generator": {
            "lag_ms": {"p50": 0.1, "p99": 30.0 if bound else 0.8, "max": 2.0},
            "cpu_seconds": cpu_us * len(frame) / 1e6,
            "cpu_us_per_request": cpu_us,
            "bound": bound,
            "warnings": ["lag p99 above 10ms"] if bound else [],
        },
    }
    (path / "run.json").write_text(json.dumps(load))


def make_run(root: Path, spec: Spec | None = None, *, incomplete: tuple[str, ...] = ()) -> Path:
    """Write a run directory under `root`; phases named in `incomplete` are left unfinished."""
    spec = spec or Spec()
    rng = np.random.default_rng(spec.seed)
    phases = []
    for rnd in range(1, spec.rounds + 1):
        for mode in spec.modes:
            for protocol in ("rest", "grpc"):
                name = f"r{rnd}-{protocol}-{mode}"
                done = name not in incomplete
                if done:
                    write_phase(root / "phases" / name, spec, protocol, mode, rng)
                phases.append(
                    {
                        "name": name,
                        "round": rnd,
                        "protocol": protocol,
                        "balancing": mode,
                        "dir": f"phases/{name}",
                        "completed": done,
                    }
                )
    settings = {
        "rate": spec.rate,
        "duration": spec.duration,
        "warmup": 1,
        "rounds": spec.rounds,
        "replicas": spec.replicas,
        "seed": spec.seed,
        "div_zero": 0.25,
        "mix": "uniform",
        "channels": 1,
        "connections": None,
        "balancing_modes": list(spec.modes),
        "server_models": {"rest": "fastapi", "grpc": "sync"},
    }
    meta = {
        "kind": "run",
        "calcbench_version": "0.1.0",
        "git_commit": "abc1234",
        "started_at": "2025-01-01T00:00:00Z",
        "ended_at": "2025-01-01T00:01:00Z",
        "partial": bool(incomplete),
        "scenario": spec.scenario,
        "settings": settings,
        "host": {
            "cpu_count": spec.cpu_count,
            "platform": "Linux",
            "python": "3.11",
            "hostname": "testhost",
        },
        "versions": {"grpcio": "1.0", "aiohttp": "3.0"},
        "phases": phases,
        "warnings": ["interrupted by SIGINT"] if incomplete else [],
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "run.json").write_text(json.dumps(meta, indent=1))
    return root


def by_key(frame: pd.DataFrame, *keys: str) -> dict[Any, dict[Any, Any]]:
    """Rows of `frame` as dicts, keyed by the value(s) of `keys` (a tuple for several)."""
    rows = frame.to_dict("records")
    if len(keys) == 1:
        return {row[keys[0]]: row for row in rows}
    return {tuple(row[k] for k in keys): row for row in rows}
