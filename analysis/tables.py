"""The report's tables as plain rows of strings, shared by the terminal and the report files."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from analysis.breakdown import COMPONENTS, value
from analysis.compute import Analysis
from analysis.style import (
    PROTOCOL_LABELS,
    fmt_ci,
    fmt_count,
    fmt_ms,
    fmt_num,
    fmt_pct,
    fmt_ratio,
    fmt_rps,
    fmt_server_ms,
    fmt_share,
    label,
)
from calcbench.core.vocabulary import PROTOCOLS


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    #: Leading columns that hold names (left-aligned); the others hold numbers.
    text_columns: int = 1


LINKERD_HEADER = (
    "NAME",
    "REPLICA",
    "SUCCESS",
    "RPS",
    "LATENCY_P50",
    "LATENCY_P95",
    "LATENCY_P99",
    "TCP_CONN",
)


def _mode_title(a: Analysis, mode: str) -> str:
    return f", balancing {mode}" if len(a.run.balancing_modes) > 1 or mode != "shared" else ""


def short_replica(service: str, replica: str) -> str:
    """`addition-0` -> `0` under service `addition`; other ids (pod names) unchanged."""
    return replica.removeprefix(f"{service}-") if replica != f"{service}-" else replica


def linkerd_tables(a: Analysis) -> list[Table]:
    """Per protocol x balancing mode, the columns of `linkerd viz stat` from server metrics."""
    tables = []
    for (protocol, mode), rows in a.services.groupby(["protocol", "balancing"], sort=False):
        body = tuple(
            (
                str(r["service"]),
                short_replica(str(r["service"]), str(r["replica"])),
                fmt_pct(r["success_rate"]),
                fmt_rps(r["rps"]),
                fmt_server_ms(r["p50_ms"]),
                fmt_server_ms(r["p95_ms"]),
                fmt_server_ms(r["p99_ms"]),
                fmt_count(r["tcp_conn"]),
            )
            for r in rows.to_dict("records")
        )
        title = f"{PROTOCOL_LABELS.get(str(protocol), protocol)}{_mode_title(a, str(mode))}"
        tables.append(Table(f"{title}: server side, handler time", LINKERD_HEADER, body, 2))
    return tables


Formatter = Callable[[float | None], str]
_CLIENT_METRICS: tuple[tuple[str, str, Formatter], ...] = (
    ("requests", "requests", fmt_count),
    ("success_rate", "success", fmt_pct),
    ("rps", "RPS", fmt_rps),
    *(
        (m, m.removesuffix("_ms").replace("p999", "p99.9"), fmt_ms)
        for m in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms")
    ),
    ("client_cpu_us_per_request", "client CPU us/req", fmt_num),
    ("server_cpu_us_per_request", "server CPU us/req", fmt_num),
)


def _client_row(
    metric: str, name: str, fmt: Formatter, summary: pd.DataFrame, comparison: pd.DataFrame
) -> tuple[str, ...]:
    """One metric: from the comparison when it has the metric (with its CI), else the summary."""
    found = comparison[comparison["metric"] == metric]
    if not found.empty:
        row = found.iloc[0]
        rest, grpc = float(row["rest"]), float(row["grpc"])
        ci, verdict = fmt_ci(float(row["ci_low"]), float(row["ci_high"])), str(row["verdict"])
    else:
        values = summary.set_index("protocol")[metric] if metric in summary else pd.Series()
        rest, grpc = (float(values.get(p, math.nan)) for p in ("rest", "grpc"))
        ci, verdict = "", ""
    ratio = grpc / rest if rest else math.nan
    return (name, fmt(rest), fmt(grpc), fmt_ratio(ratio), ci, verdict)


def client_tables(a: Analysis) -> list[Table]:
    """Per balancing mode, the client-side figures of all operations with gRPC/REST ratios."""
    tables = []
    header = ("METRIC", "REST", "gRPC", "gRPC/REST", "95% CI", "VERDICT")
    for mode in a.run.balancing_modes:
        summary = a.summary[(a.summary["balancing"] == mode) & (a.summary["operation"] == "all")]
        comp = a.comparison[a.comparison["balancing"] == mode]
        comp = comp[comp["operation"] == "all"]
        rows = tuple(_client_row(m, n, f, summary, comp) for m, n, f in _CLIENT_METRICS)
        tables.append(Table(f"Client side, all operations{_mode_title(a, mode)}", header, rows))
    return tables


def operation_tables(a: Analysis) -> list[Table]:
    """Per balancing mode, each operation's p50/p99 ratios with their intervals."""
    tables = []
    header = ("OPERATION", "METRIC", "REST", "gRPC", "gRPC/REST", "95% CI", "VERDICT")
    for mode in a.run.balancing_modes:
        comp = a.comparison[a.comparison["balancing"] == mode]
        comp = comp[comp["metric"].isin(["p50_ms", "p99_ms", "success_rate"])]
        rows = tuple(
            (
                str(r["operation"]),
                str(r["metric"]),
                *(
                    fmt_pct(r[p]) if r["metric"] == "success_rate" else fmt_ms(r[p])
                    for p in ("rest", "grpc")
                ),
                fmt_ratio(r["ratio"]),
                fmt_ci(r["ci_low"], r["ci_high"]),
                str(r["verdict"]),
            )
            for r in comp.to_dict("records")
        )
        tables.append(Table(f"Per operation{_mode_title(a, mode)}", header, rows, 2))
    return tables


def _round_shares(replicas: pd.DataFrame) -> pd.DataFrame:
    """Share of each replica per round, from server counts when every row has them."""
    source = "server_requests" if replicas["server_requests"].notna().all() else "requests"
    keys = ["protocol", "balancing", "round", "service"]
    totals = replicas.groupby(keys)[source].transform("sum")
    return replicas.assign(round_share=replicas[source] / totals.where(totals > 0))


def replica_tables(a: Analysis) -> list[Table]:
    """Per protocol x mode, requests per replica with each round's share (shows pinning)."""
    shares = _round_shares(a.replicas)
    rounds = sorted(int(r) for r in shares["round"].unique())
    tcp = a.services.set_index(["protocol", "balancing", "replica"])["tcp_conn"]
    header = (
        "SERVICE",
        "REPLICA",
        "CLIENT_REQ",
        "SERVER_REQ",
        *(f"R{r}" for r in rounds),
        "TCP_CONN",
    )
    out = []
    for (protocol, mode), rows in shares.groupby(["protocol", "balancing"], sort=False):
        body = []
        for (service, replica), group in rows.groupby(["service", "replica"], sort=False):
            by_round = group.set_index("round")["round_share"]
            body.append(
                (
                    str(service),
                    short_replica(str(service), str(replica)),
                    fmt_count(group["requests"].sum()),
                    fmt_count(group["server_requests"].sum(min_count=1)),
                    *(fmt_share(by_round.get(r, math.nan)) for r in rounds),
                    fmt_count(tcp.get((protocol, mode, replica), math.nan)),
                )
            )
        title = f"{label(str(protocol))}, {mode}: requests per replica (R1..: share in each round)"
        out.append(Table(title, header, tuple(body), 2))
    return out


def balancing_table(a: Analysis) -> Table:
    header = ("PROTOCOL", "MODE", "SERVICE", "REQUESTS", "MAX/FAIR", "CV", "IDLE")
    rows = tuple(
        (
            label(str(r["protocol"])),
            str(r["balancing"]),
            str(r["service"]),
            fmt_count(r["requests"]),
            f"{r['max_share_over_fair']:.2f}",
            f"{r['cv']:.2f}",
            f"{r['rounds_with_idle']}/{r['rounds']}",
        )
        for r in a.balancing.to_dict("records")
    )
    title = (
        "Imbalance per service: max replica share / fair share and CV (means over rounds), "
        "rounds with an idle replica"
    )
    return Table(title, header, rows, 3)


def calibration_table(a: Analysis) -> Table:
    """calibration.csv as printed: the floor per protocol and client, one call in flight."""
    body = tuple(
        (
            str(r["protocol"]),
            str(r["client"]),
            fmt_count(r["requests"]),
            *(fmt_ms(r[c]) for c in ("p50_ms", "p90_ms", "p99_ms")),
            f"{float(r['client_cpu_us_per_request']):.0f}",
        )
        for r in a.calibration.to_dict("records")
    )
    header = ("PROTOCOL", "CLIENT", "REQUESTS", "P50", "P90", "P99", "CLIENT_CPU_US/REQ")
    return Table("Calibration: one call in flight against addition", header, body, 2)


def breakdown_table(a: Analysis) -> Table:
    """breakdown.csv as printed: one row per component, REST and gRPC side by side."""
    body = []
    for component, (unit, meaning) in COMPONENTS.items():
        rest, grpc = (value(a.breakdown, p, component) for p in PROTOCOLS)
        if math.isnan(rest) and math.isnan(grpc):
            continue
        body.append((component, meaning, *(_with_unit(v, unit, component) for v in (rest, grpc))))
    return Table("Where the time goes", ("COMPONENT", "WHAT", "REST", "gRPC"), tuple(body), 2)


def _with_unit(number: float, unit: str, component: str) -> str:
    if math.isnan(number):
        return "-"
    if component == "handler_p50":  # from the services' histogram: its first bucket is a bound
        return fmt_server_ms(number)
    return fmt_ms(number) if unit == "ms" else f"{number:.0f} {unit}"
