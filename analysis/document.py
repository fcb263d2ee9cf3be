"""The report as a sequence of blocks (headings, text, tables, charts), built from an Analysis.

One structure, two renderings (`render.markdown`, `render.html`), so the two reports never
disagree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from analysis import tables
from analysis.breakdown import explain
from analysis.compute import Analysis
from analysis.findings import error_bars, findings, server_models, warnings
from analysis.tables import Table
from calcbench.core.rundir import CALCBENCH_CLIENT
from calcbench.core.vocabulary import NATIVE_CLIENTS, PROTOCOLS


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Chart:
    name: str
    """File stem under charts/."""


Block = Heading | Paragraph | Bullets | Table | Chart

CHART_CAPTIONS = {
    "time_breakdown": "At one call in flight: the native floor and what calcbench's client adds.",
    "rps_per_service": "Requests per second per service, REST vs gRPC (server metrics).",
    "latency_per_service": "p50/p95/p99 per service (server) and per operation (client).",
    "latency_spectrum": "Full latency percentile spectrum per protocol (client, all operations).",
    "timeseries": "Requests per second and p99 latency over time, phases in run order.",
    "success_per_service": "Success rate per service (ok / all requests, server side).",
    "tcp_connections": "Open TCP connections per service: server side and client side.",
    "cpu_per_request": "CPU microseconds per request: load generator and services.",
    "replica_requests": "Requests per replica, one panel per protocol x balancing mode.",
    "replica_connections": "Open TCP connections per replica.",
}


def _question(a: Analysis) -> list[Block]:
    text = (
        "How do REST over HTTP/1.1 and gRPC over HTTP/2 compare on twin implementations of the "
        "same five-service calculator, under the same seeded open-loop workload: latency, "
        "throughput, success rate and CPU per request, on the client and on the servers?"
    )
    if a.multi_replica:
        text += (
            " And how evenly do requests spread over replicas when connections are balanced by "
            "the kernel (shared) versus when each request is balanced (round-robin)?"
        )
    return [Heading("The question"), Paragraph(text)]


def _calibration(a: Analysis) -> list[Block]:
    blocks: list[Block] = [Heading("Calibration: the floor, and where the time goes")]
    if a.calibration.empty:
        return [*blocks, Paragraph("Not calibrated (run with --no-calibrate).")]
    blocks += [
        Paragraph(
            "Before the rounds, per protocol: a closed loop with one call in flight against "
            "addition, with calcbench's own client and with the native C client (wrk for REST, "
            "h2load with gRPC framing for gRPC); then bytes per call through a counting relay. "
            "The native p50 is the floor: server stack and kernel."
        ),
        tables.calibration_table(a),
        tables.breakdown_table(a),
        Bullets(tuple(explain(a.breakdown))),
    ]
    missing = [f"{p}: install the Debian package {pkg}" for p, pkg in _missing_native(a).items()]
    if missing:
        blocks.append(Paragraph("No native floor for " + "; ".join(missing) + "."))
    return blocks


def _missing_native(a: Analysis) -> dict[str, str]:
    measured = set(a.calibration["protocol"][a.calibration["client"] != CALCBENCH_CLIENT])
    return {p: NATIVE_CLIENTS[p][1] for p in PROTOCOLS if p not in measured}


def _version(version: object) -> str:
    """A package's version; run.json records a missing package as null."""
    return "not installed" if version is None else str(version)


def _setup(a: Analysis) -> list[Block]:
    meta = a.run.meta
    host = meta.get("host") or {}
    rows = [(k, json.dumps(v) if not isinstance(v, str) else v) for k, v in a.run.settings.items()]
    about = [
        ("calcbench version", str(meta.get("calcbench_version", "?"))),
        ("git commit", str(meta.get("git_commit", "?"))),
        ("started / ended (UTC)", f"{meta.get('started_at', '?')} / {meta.get('ended_at', '?')}"),
        ("scenario", str(meta.get("scenario", "?"))),
        *((f"host {k}", str(v)) for k, v in host.items()),
        *((f"version {k}", _version(v)) for k, v in (meta.get("versions") or {}).items()),
    ]
    phases = tuple(
        (p.name, str(p.round), p.protocol, p.balancing, f"{p.measured_seconds:g}")
        for p in a.run.phases
    )
    return [
        Heading("Setup"),
        Table("Run", ("WHAT", "VALUE"), tuple(about)),
        Table("Settings", ("SETTING", "VALUE"), tuple(rows)),
        Table("Completed phases", ("PHASE", "ROUND", "PROTOCOL", "BALANCING", "SECONDS"), phases),
    ]


def _method() -> list[Block]:
    return [
        Heading("How the figures are computed"),
        Bullets(
            (
                "Client latency is measured from each request's intended send time "
                "(coordinated-omission corrected); histograms of all rounds are merged before "
                "taking percentiles.",
                "Server columns follow `linkerd viz stat`: success = ok / all requests, RPS = "
                "requests / seconds between scrapes, percentiles from the Prometheus histogram "
                "buckets by linear interpolation (as histogram_quantile), TCP_CONN as scraped "
                "after each phase (mean over rounds).",
                "Confidence intervals: 1000 bootstrap resamples; rounds resampled paired across "
                "protocols, then requests (latency) or seconds (RPS, success) within each round; "
                "CPU per request resamples rounds only. An interval containing 1 is 'within "
                "noise'.",
            )
        ),
    ]


def build_document(a: Analysis, charts: Sequence[str]) -> list[Block]:
    """The whole report; `charts` are the chart stems that were drawn."""
    title = "calcbench: REST (HTTP/1.1) vs gRPC (HTTP/2)" + (
        " - PARTIAL RUN" if a.run.partial else ""
    )
    blocks: list[Block] = [Heading(title, 1), Paragraph(error_bars(a)), Paragraph(server_models(a))]
    blocks += _question(a)
    blocks += [Heading("Findings"), Bullets(tuple(findings(a)))]
    blocks += _calibration(a)
    found = warnings(a)
    blocks += [Heading("Warnings"), Bullets(tuple(found)) if found else Paragraph("None.")]
    blocks += [
        Heading("Server side (linkerd viz stat columns)"),
        Paragraph(
            "LATENCY columns are the handler's time, from the decoded request to the ready "
            "answer: they leave out the HTTP and gRPC stacks, where the protocols differ."
        ),
        *tables.linkerd_tables(a),
    ]
    blocks += [Heading("Client side, with gRPC/REST ratios"), *tables.client_tables(a)]
    blocks += [
        Heading("Comparison per operation (gRPC/REST, 95% bootstrap intervals)"),
        Paragraph("All metrics and operations are in comparison.csv."),
        *tables.operation_tables(a),
    ]
    if a.multi_replica:
        blocks += [Heading("Replicas"), tables.balancing_table(a), *tables.replica_tables(a)]
    blocks += [Heading("Charts"), *(Chart(name) for name in charts)]
    return blocks + _setup(a) + _method()
