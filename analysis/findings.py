"""Warnings and findings: short sentences computed from the analysed run, never canned.

Every number in these sentences comes from the tables of the same report.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd

from analysis.balance_findings import balancing_findings
from analysis.breakdown import value
from analysis.compute import Analysis
from analysis.recovery import recoveries, recovery_findings
from analysis.style import fmt_ci, fmt_ms, fmt_num, fmt_pct, fmt_ratio, label
from calcbench.core.vocabulary import (
    FAULT_OUTCOMES,
    PROTOCOLS,
    SERVER_MODEL_DESCRIPTIONS,
    FaultKind,
)

#: How a verdict reads for each metric (lower latency and CPU are better, higher rates are).
_READINGS = {
    "latency": {"gRPC lower": "gRPC faster", "gRPC higher": "REST faster"},
    "cpu": {"gRPC lower": "gRPC cheaper", "gRPC higher": "REST cheaper"},
}
_METRIC_NAMES = {
    "p50_ms": ("median latency", "latency"),
    "p99_ms": ("p99 latency", "latency"),
    "client_cpu_us_per_request": ("load generator CPU per request", "cpu"),
    "server_cpu_us_per_request": ("services' CPU per client request", "cpu"),
}


def warnings(a: Analysis) -> list[str]:
    """Everything that limits how far the figures can be trusted."""
    run = a.run
    out = [str(w) for w in run.meta.get("warnings") or []]
    if run.partial:
        skipped = ", ".join(run.skipped) or "none listed"
        out.append(
            f"Partial run: phases not completed: {skipped}; the figures come from the "
            f"{len(run.phases)} completed phase(s) only."
        )
    out += list(run.problems)
    for phase in run.phases:
        generator = phase.generator
        if generator.get("bound") and not generator.get("warnings"):
            lag = (generator.get("lag_ms") or {}).get("p99")
            out.append(
                f"{phase.name}: the load generator was the bottleneck (lag p99 "
                f"{fmt_ms(None if lag is None else float(lag))}); its latencies are not the "
                "system's."
            )
        out += [f"{phase.name}: {w}" for w in generator.get("warnings") or []]
        if phase.meta.get("interrupted"):
            out.append(f"{phase.name}: interrupted before its planned end.")
    out += _partial_servers(a.phases)
    return list(dict.fromkeys(out + _unexpected_errors(a.errors, _injected(a.run.settings))))


def _partial_servers(phases: pd.DataFrame) -> list[str]:
    """A warning per phase whose server figures miss part of a replica's work."""
    rows = phases[phases["server_partial"] != ""] if "server_partial" in phases else phases[:0]
    return [
        f"{r['phase']}: the server figures of {r['server_partial']} cover only part of the "
        "phase: a process of it went down and what it had served was lost."
        for r in rows.to_dict("records")
    ]


def _injected(settings: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(service, outcome) -> the `--fault` flag that causes it, from run.json's settings."""
    flags = settings.get("faults") or ([settings["fault"]] if settings.get("fault") else [])
    causes: dict[tuple[str, str], str] = {}
    for flag in map(str, flags):
        kind, _, spec = flag.partition("=")
        if kind in FAULT_OUTCOMES:
            for outcome in FAULT_OUTCOMES[FaultKind(kind)]:
                causes.setdefault((spec.split(":")[0], outcome), flag)
    return causes


def _unexpected_errors(errors: pd.DataFrame, injected: Mapping[tuple[str, str], str]) -> list[str]:
    unexpected = errors[~errors["expected"].astype(bool)] if not errors.empty else errors
    out = []
    for r in unexpected.to_dict("records"):
        cause = injected.get((str(r["operation"]), str(r["outcome"])))
        why = f"from the injected {cause}" if cause else "not the injected division by zero"
        out.append(
            f"{label(str(r['protocol']))} {r['operation']} ({r['balancing']}): "
            f"{int(r['count'])} {r['outcome']} errors (code {r['code'] or '-'}), {why}."
        )
    return out


def _reading(metric: str, verdict: str) -> str:
    kind = _METRIC_NAMES.get(metric, ("", "rate"))[1]
    return _READINGS.get(kind, {}).get(verdict, verdict)


def _ratio_sentence(row: Mapping[Hashable, Any], name: str, unit: str) -> str:
    fmt = fmt_ms if unit == "ms" else (lambda v: f"{fmt_num(v)} us")
    rest, grpc = float(row["rest"]), float(row["grpc"])
    low, high = float(row["ci_low"]), float(row["ci_high"])
    head = (
        f"{name[0].upper()}{name[1:]}: REST {fmt(rest)}, gRPC {fmt(grpc)}; gRPC/REST "
        f"{fmt_ratio(float(row['ratio']))}"
    )
    if row["verdict"] == "no interval":
        return f"{head} (no interval: it needs two or more rounds completed by both protocols)."
    return (
        f"{head} (95% CI {fmt_ci(low, high)}): {_reading(str(row['metric']), str(row['verdict']))}."
    )


def _headline(comparison: pd.DataFrame) -> list[str]:
    rows = {r["metric"]: r for r in comparison[comparison["operation"] == "all"].to_dict("records")}
    out = []
    for metric, (name, kind) in _METRIC_NAMES.items():
        row = rows.get(metric)
        if row is not None and not math.isnan(float(row["rest"])):
            unit = "ms" if kind == "latency" else "us"
            where = " (client side, all operations)" if kind == "latency" else ""
            out.append(_ratio_sentence(row, name + where, unit))
    return out


def _largest_gap(comparison: pd.DataFrame) -> list[str]:
    rows = comparison[(comparison["metric"] == "p50_ms") & (comparison["operation"] != "all")]
    beyond = rows[rows["verdict"].isin(["gRPC lower", "gRPC higher"])]
    if rows.empty:
        return []
    if beyond.empty:
        return ["No single operation's median latency differs between the protocols beyond noise."]
    row = max(beyond.to_dict("records"), key=lambda r: abs(math.log(float(r["ratio"]))))
    return [
        f"Largest per-operation gap in median latency: {row['operation']}, gRPC/REST "
        f"{fmt_ratio(float(row['ratio']))} "
        f"(95% CI {fmt_ci(float(row['ci_low']), float(row['ci_high']))})."
    ]


def _throughput(summary: pd.DataFrame, rate: object) -> list[str]:
    rows = summary[summary["operation"] == "all"].set_index("protocol")
    if rows.empty:
        return []
    achieved = ", ".join(f"{label(str(p))} {float(r):.1f} rps" for p, r in rows["rps"].items())
    requested = f" against {float(str(rate)):.0f} rps requested" if rate is not None else ""
    return [f"Throughput achieved: {achieved}{requested}."]


def _success(summary: pd.DataFrame, div_zero: object) -> list[str]:
    division = summary[summary["operation"] == "division"].set_index("protocol")["success_rate"]
    others = summary[~summary["operation"].isin(["division", "all"])]
    lowest = others.groupby("protocol", sort=False)["success_rate"].min()
    if division.empty:
        return []
    injected = (
        f" with {100 * float(str(div_zero)):.0f}% of divisions sent a zero divisor"
        if div_zero is not None
        else ""
    )
    parts = ", ".join(f"{label(str(p))} {fmt_pct(float(v))}" for p, v in division.items())
    rest = ", ".join(f"{label(str(p))} {fmt_pct(float(v))}" for p, v in lowest.items())
    return [
        f"Division success rate: {parts}{injected}; lowest success rate of the other "
        f"operations: {rest}."
    ]


def _server(services: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    single = ~services.duplicated(["protocol", "balancing", "service"], keep=False)
    rows = services[(services["replica"] == "all") | single]
    out = []
    for protocol, group in rows.groupby("protocol", sort=False):
        slow = max(group.to_dict("records"), key=lambda r: float(r["p99_ms"]))
        out.append(
            f"Server side ({label(str(protocol))}), slowest service at p99: {slow['service']} "
            f"({fmt_ms(float(slow['p99_ms']))}, p50 {fmt_ms(float(slow['p50_ms']))})."
        )
    sent = summary.set_index(["protocol", "balancing", "operation"])["requests"]
    for op in ("multiplication", "division"):
        extra = [
            f"{label(str(r['protocol']))} +{fmt_num(float(r['requests']) - float(sent[key]))}"
            for r in rows[rows["service"] == op].to_dict("records")
            if (key := (r["protocol"], r["balancing"], op)) in sent.index
        ]
        if extra:
            out.append(
                f"{op.capitalize()} served more requests than the client sent it "
                f"({', '.join(extra)}): percentage's own downstream calls."
            )
    return out


def _shared_cores(a: Analysis) -> list[str]:
    cores = a.run.cpu_count
    phases = a.phases
    client_us = phases["client_cpu_us"].sum(min_count=1) / phases["requests"].sum()
    server_us = phases["server_cpu_us"].sum(min_count=1) / phases["all_requests"].sum()
    bound = int(phases["bound"].sum())
    return [
        f"The load generator and all services shared this machine's "
        f"{cores if cores is not None else 'unknown number of'} CPU cores: per request the "
        f"generator used {fmt_num(client_us)} us of CPU and the services {fmt_num(server_us)} us, "
        f"so each side's latency includes waiting for the other's CPU time. "
        f"Phases marked generator-bound: {bound} of {len(phases)}."
    ]


def findings(a: Analysis) -> list[str]:
    """The report's findings, per balancing mode when the run had several."""
    modes = a.run.balancing_modes
    out: list[str] = []
    settings = a.run.settings
    for mode in modes:
        prefix = f"[{mode}] " if len(modes) > 1 else ""
        summary = a.summary[a.summary["balancing"] == mode]
        comparison = a.comparison[a.comparison["balancing"] == mode]
        services = a.services[a.services["balancing"] == mode]
        sentences = (
            _headline(comparison)
            + _largest_gap(comparison)
            + _throughput(summary, settings.get("rate"))
            + _success(summary, settings.get("div_zero"))
            + _server(services, summary)
        )
        out += [prefix + s for s in sentences]
    if a.multi_replica:
        out += balancing_findings(a.balancing)
    return out + fault_findings(a) + _shared_cores(a)


def fault_findings(a: Analysis) -> list[str]:
    """Time to recovery per protocol, when replicas went down (`--fault kill-replica`)."""
    events = a.run.meta.get("fault_events") or []
    if not events:
        return []
    out = recovery_findings(recoveries(a.timeseries, a.phases, events))
    if any(e.get("server_figures") == "spliced" for e in events):
        out.append(
            "Server figures of a killed replica add up its two processes: the old one's "
            "counters and CPU read just before the kill, the new one's from its start (its CPU "
            "from its ready line, so that its start-up is not counted as serving)."
        )
    return out


def _lag(a: Analysis, protocol: str) -> str:
    rows = a.phases[a.phases["protocol"] == protocol]
    if rows.empty:
        return f"{label(protocol)}: no phase"
    p50, p99 = rows["lag_p50_ms"].max(), rows["lag_p99_ms"].max()
    return f"{label(protocol)} p50 {p50:.2f} ms / p99 {p99:.2f} ms"


def _floor(a: Analysis, protocol: str) -> str:
    native = value(a.breakdown, protocol, "native_floor_p50")
    mine = value(a.breakdown, protocol, "calcbench_p50")
    if math.isnan(mine):
        return f"{label(protocol)}: not calibrated"
    floor = "no native tool" if math.isnan(native) else f"native {native:.3f} ms"
    return f"{label(protocol)} {floor}, calcbench {mine:.3f} ms"


def error_bars(a: Analysis) -> str:
    """What every latency is read against: the generator's lag and the measured floor."""
    lag = "; ".join(_lag(a, p) for p in PROTOCOLS)
    if a.run.settings.get("realtime"):
        lag += " (real-time loop thread)"
    floor = "; ".join(_floor(a, p) for p in PROTOCOLS)
    return (
        f"Read every latency against the generator's own error, its schedule lag (how late "
        f"requests left, worst phase): {lag}; and the floor, one call in flight against "
        f"addition, p50: {floor}."
    )


def server_models(a: Analysis) -> str:
    """Which server each stack ran (`--rest-server-model`, `--grpc-server-model`)."""
    models = a.run.settings.get("server_models") or {}
    parts = []
    for protocol in PROTOCOLS:
        model = models.get(protocol)
        described = SERVER_MODEL_DESCRIPTIONS.get(model) if model else None
        parts.append(
            f"{label(protocol)} {model}: {described}"
            if described
            else f"{label(protocol)} not recorded (a run before server models were)"
        )
    return f"Servers: {'; '.join(parts)}."
