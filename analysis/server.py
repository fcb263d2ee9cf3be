"""Server-side summaries from the services' own metrics: the columns of `linkerd viz stat`.

Each phase's server.json holds, per replica, the deltas of its Prometheus counters and histogram
between the scrapes before and after the phase (added up over its processes when it restarted;
`partial` when what one of them served was lost). Rounds merge by adding those deltas.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.frames import sort_rows, with_columns
from analysis.prom import add_buckets, histogram_quantile
from analysis.rundir import Run, read_phase_json
from calcbench.core.rundir import SERVER

SERVICE_COLUMNS = [
    "protocol",
    "service",
    "replica",
    "success_rate",
    "rps",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "tcp_conn",
    "cpu_us_per_request",
    "balancing",
    "requests",
    "ok",
    "rounds",
    "latency",
]
#: What services.csv's p50/p95/p99 measure (its `latency` column says so on every row).
HANDLER_WINDOW = "handler: decoded request to ready answer"
SCRAPE_COLUMNS = [
    "phase",
    "protocol",
    "balancing",
    "round",
    "service",
    "replica",
    "requests",
    "ok",
    "seconds",
    "tcp_conn",
    "cpu_seconds",
    "partial",
]


@dataclass(frozen=True)
class Scrape:
    """One replica's metric deltas over one phase."""

    phase: str
    protocol: str
    balancing: str
    round: int
    service: str
    replica: str
    seconds: float
    requests: Mapping[str, float]
    buckets: tuple[tuple[float | str, float], ...]
    tcp_conn: float
    cpu_seconds: float
    #: Part of the phase is missing: a process of the replica went down and its count was lost.
    partial: bool = False


def read_scrapes(run: Run) -> list[Scrape]:
    scrapes = []
    for phase in run.phases:
        data: dict[str, Any] = read_phase_json(phase, SERVER) or {}
        for entry in data.get("replicas") or []:
            scrapes.append(
                Scrape(
                    phase=phase.name,
                    protocol=phase.protocol,
                    balancing=phase.balancing,
                    round=phase.round,
                    service=str(entry["service"]),
                    replica=str(entry["replica"]),
                    seconds=float(data.get("seconds") or phase.measured_seconds),
                    requests={str(k): float(v) for k, v in (entry.get("requests") or {}).items()},
                    buckets=tuple((b, float(c)) for b, c in entry.get("buckets") or []),
                    tcp_conn=float(entry.get("tcp_conn") or 0),
                    cpu_seconds=float(entry.get("cpu_seconds") or 0.0),
                    partial=bool(entry.get("partial", False)),
                )
            )
    return scrapes


def scrape_frame(scrapes: Iterable[Scrape]) -> pd.DataFrame:
    """One row per phase x replica: the scalar parts of the scrapes."""
    rows = [
        (
            s.phase,
            s.protocol,
            s.balancing,
            s.round,
            s.service,
            s.replica,
            sum(s.requests.values()),
            s.requests.get("ok", 0.0),
            s.seconds,
            s.tcp_conn,
            s.cpu_seconds,
            s.partial,
        )
        for s in scrapes
    ]
    return pd.DataFrame(rows, columns=SCRAPE_COLUMNS)


@dataclass
class _Tally:
    requests: Counter[str] = field(default_factory=Counter)
    buckets: dict[float, float] = field(default_factory=dict)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    tcp_conn: float = 0.0
    rounds: int = 0

    def add(self, other: _Tally, *, same_time: bool) -> None:
        """Add `other`; replicas of one service share the clock (`same_time`), rounds do not."""
        self.requests.update(other.requests)
        add_buckets(self.buckets, other.buckets.items())
        self.seconds = (
            max(self.seconds, other.seconds) if same_time else self.seconds + other.seconds
        )
        self.cpu_seconds += other.cpu_seconds
        self.tcp_conn += other.tcp_conn
        self.rounds = max(self.rounds, other.rounds) if same_time else self.rounds + other.rounds


def _tally(scrape: Scrape) -> _Tally:
    tally = _Tally(Counter(scrape.requests), {}, scrape.seconds, scrape.cpu_seconds)
    add_buckets(tally.buckets, scrape.buckets)
    tally.tcp_conn, tally.rounds = scrape.tcp_conn, 1
    return tally


def _row(key: tuple[str, str, str, str], tally: _Tally) -> dict[str, object]:
    protocol, balancing, service, replica = key
    requests = float(sum(tally.requests.values()))
    ok = float(tally.requests.get("ok", 0.0))
    buckets = list(tally.buckets.items())
    nan = float("nan")
    return {
        "protocol": protocol,
        "service": service,
        "replica": replica,
        "success_rate": ok / requests if requests else nan,
        "rps": requests / tally.seconds if tally.seconds else nan,
        **{f"p{q}_ms": histogram_quantile(q / 100, buckets) * 1000 for q in (50, 95, 99)},
        # A gauge read at each phase's end: the mean over the rounds, not a sum.
        "tcp_conn": tally.tcp_conn / tally.rounds if tally.rounds else nan,
        "cpu_us_per_request": tally.cpu_seconds * 1e6 / requests if requests else nan,
        "balancing": balancing,
        "requests": requests,
        "ok": ok,
        "rounds": tally.rounds,
        "latency": HANDLER_WINDOW,
    }


def summarize_services(scrapes: Iterable[Scrape]) -> pd.DataFrame:
    """services.csv: per replica merged over rounds, plus `all` per multi-replica service."""
    replicas: dict[tuple[str, str, str, str], _Tally] = {}
    for s in scrapes:
        key = (s.protocol, s.balancing, s.service, s.replica)
        replicas.setdefault(key, _Tally()).add(_tally(s), same_time=False)
    services: dict[tuple[str, str, str, str], _Tally] = {}
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for (protocol, balancing, service, _), tally in replicas.items():
        key = (protocol, balancing, service, "all")
        services.setdefault(key, _Tally()).add(tally, same_time=True)
        counts[key] += 1
    rows = [_row(k, t) for k, t in replicas.items()]
    rows += [_row(k, t) for k, t in services.items() if counts[k] > 1]
    frame = with_columns(pd.DataFrame(rows), SERVICE_COLUMNS)
    return sort_rows(frame, ["protocol", "balancing", "service", "replica"])


def server_cpu(scrapes: pd.DataFrame) -> pd.DataFrame:
    """Per phase: all services' CPU microseconds (protocol, balancing, round, cpu_us)."""
    if scrapes.empty:
        return pd.DataFrame(columns=["phase", "protocol", "balancing", "round", "cpu_us"])
    keys = ["phase", "protocol", "balancing", "round"]
    summed = scrapes.groupby(keys, as_index=False, sort=False).agg(cpu=("cpu_seconds", "sum"))
    return summed.assign(cpu_us=summed["cpu"] * 1e6).drop(columns="cpu")


def partial_replicas(scrapes: pd.DataFrame) -> dict[str, str]:
    """Phase -> the replicas whose server figures cover only part of it (`a-0, b-1`)."""
    if scrapes.empty or "partial" not in scrapes:
        return {}
    rows = scrapes[scrapes["partial"].astype(bool)]
    return {str(k): ", ".join(g["replica"].astype(str)) for k, g in rows.groupby("phase")}
