"""The report's charts as matplotlib Figures, laid out but not saved (`report` saves them).

Figures are built with `matplotlib.figure.Figure`, not pyplot: no global state, no GUI backend,
and nothing to close.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis import charts, charts_replicas
from analysis.compute import Analysis
from analysis.style import ordered
from calcbench.core.vocabulary import PROTOCOLS

PerMode = Callable[[Axes, str], None]


def _subtitle(a: Analysis) -> str:
    s = a.run.settings
    cores = a.run.cpu_count
    partial = " - PARTIAL RUN" if a.run.partial else ""
    return (
        f"run {a.run.path.name}: {s.get('rate', '?')} rps, {s.get('rounds', '?')} round(s) x "
        f"{s.get('duration', '?')} s per protocol, {_replicas(a)}, "
        f"{cores if cores is not None else '?'} CPU cores shared by client and services{partial}"
    )


def _replicas(a: Analysis) -> str:
    """`2 replica(s) per service`, or each service's count where they differ (Kubernetes)."""
    counts = next(iter(a.run.service_replicas.values()), {})
    if not counts:
        return f"{a.run.replicas} replica(s) per service"
    return "replicas " + ", ".join(f"{service} {n}" for service, n in counts.items())


def _figure(a: Analysis, title: str, rows: int, cols: int) -> tuple[Figure, list[list[Axes]]]:
    # Fixed margins rather than a layout engine: constrained layout doubles the drawing time.
    width = max(6.6 * cols, 9.0)
    # Wrapped to the figure's width (about 11 characters an inch at this size), so a narrow
    # figure never cuts the subtitle at its edges; each extra line gets its own headroom.
    subtitle = textwrap.wrap(_subtitle(a), width=int(width * 11))
    headroom = 0.85 + 0.2 * (len(subtitle) - 1)
    height = 4.2 * rows + 0.9 + headroom - 0.85
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(rows, cols, squeeze=False)
    fig.subplots_adjust(
        left=0.85 / width,
        right=1 - 0.2 / width,
        top=1 - headroom / height,
        bottom=1.0 / height,
        hspace=0.55,
        wspace=0.3,
    )
    fig.suptitle("\n".join([title, *subtitle]), fontsize=11)
    return fig, [list(r) for r in axes]


def _per_mode(a: Analysis, title: str, draw: PerMode) -> Figure:
    modes = a.run.balancing_modes
    fig, axes = _figure(a, title, 1, len(modes))
    for ax, mode in zip(axes[0], modes, strict=True):
        draw(ax, mode)
        _tag_mode([ax], mode, modes)
    return fig


def _mode(frame: pd.DataFrame, mode: str) -> pd.DataFrame:
    return frame[frame["balancing"] == mode]


def _latency(a: Analysis) -> Figure:
    modes = a.run.balancing_modes
    fig, axes = _figure(a, "Latency p50 / p95 / p99", len(modes), 2)
    for row, mode in zip(axes, modes, strict=True):
        charts.plot_latency_percentiles(
            charts.service_rows(_mode(a.services, mode)), "service", row[0]
        )
        row[0].set_title(f"Server side, per service ({mode})")
        summary = _mode(a.summary, mode)
        charts.plot_latency_percentiles(summary, "operation", row[1])
        row[1].set_title(f"Client side from intended send time, per operation ({mode})")
    return fig


def _spectrum(a: Analysis) -> Figure:
    def draw(ax: Axes, mode: str) -> None:
        chosen = {(p, k): d for (p, m, k), d in a.spectra.items() if m == mode}
        charts.plot_spectrum(chosen, ax)
        ax.set_title("Client latency by percentile, all operations")

    return _per_mode(a, "Latency percentile spectrum (HdrHistogram style)", draw)


def _timeseries(a: Analysis) -> Figure:
    fig, axes = _figure(a, "Requests per second and p99 latency over time", 2, 1)
    order = [
        (int(r["round"]), str(r["balancing"]), str(r["protocol"]))
        for r in a.phases.to_dict("records")
    ]
    charts.plot_timeseries(a.timeseries, order, axes[0][0], axes[1][0], _fault_seconds(a))
    return fig


def _fault_seconds(a: Analysis) -> dict[tuple[int, str, str], list[float]]:
    """The seconds at which a replica went down, per (round, balancing, protocol)."""
    keys = {
        str(r["phase"]): (int(r["round"]), str(r["balancing"]), str(r["protocol"]))
        for r in a.phases.to_dict("records")
    }
    out: dict[tuple[int, str, str], list[float]] = {}
    for event in a.run.meta.get("fault_events") or []:
        key = keys.get(str(event.get("phase")))
        if key is not None and event.get("second") is not None:
            out.setdefault(key, []).append(float(event["second"]))
    return out


def _pairs(a: Analysis, title: str, left: PerMode, right: PerMode) -> Figure:
    modes = a.run.balancing_modes
    fig, axes = _figure(a, title, len(modes), 2)
    for row, mode in zip(axes, modes, strict=True):
        left(row[0], mode)
        right(row[1], mode)
        _tag_mode(row, mode, modes)
    return fig


def _tag_mode(axes: list[Axes], mode: str, modes: list[str]) -> None:
    """Name the balancing mode in each panel's title when the run had several."""
    if len(modes) > 1:
        for ax in axes:
            ax.set_title(f"{ax.get_title()} ({mode})")


def _grid(a: Analysis, title: str, draw: Callable[[Axes, str, str], None]) -> Figure:
    protocols = ordered(a.phases["protocol"].astype(str), PROTOCOLS)
    modes = a.run.balancing_modes
    fig, axes = _figure(a, title, len(protocols), len(modes))
    for row, protocol in zip(axes, protocols, strict=True):
        for ax, mode in zip(row, modes, strict=True):
            draw(ax, protocol, mode)
    return fig


def build_figures(a: Analysis) -> dict[str, Figure]:
    """Every chart of the report, by file stem."""
    figures = {
        "rps_per_service": _per_mode(
            a,
            "Throughput per service, REST vs gRPC",
            lambda ax, m: charts.plot_rps_per_service(_mode(a.services, m), ax),
        ),
        "latency_per_service": _latency(a),
        "latency_spectrum": _spectrum(a),
        "timeseries": _timeseries(a),
        "success_per_service": _per_mode(
            a,
            "Success rate per service (server side)",
            lambda ax, m: charts.plot_success_per_service(_mode(a.services, m), ax),
        ),
        "tcp_connections": _pairs(
            a,
            "TCP connections per service",
            lambda ax, m: charts.plot_tcp_per_service(_mode(a.services, m), ax),
            lambda ax, m: charts.plot_client_connections(_mode(a.connections, m), ax),
        ),
        "cpu_per_request": _per_mode_cpu(a),
    }
    if not a.breakdown.empty:
        figures["time_breakdown"] = _breakdown(a)
    if a.multi_replica:
        figures["replica_requests"] = _grid(
            a,
            "Requests per replica, per protocol x balancing mode",
            lambda ax, p, m: charts_replicas.plot_replica_requests(a.replicas, ax, p, m),
        )
        figures["replica_connections"] = _grid(
            a,
            "Open TCP connections per replica (server side)",
            lambda ax, p, m: charts_replicas.plot_replica_connections(a.replicas, ax, p, m),
        )
    return figures


def _breakdown(a: Analysis) -> Figure:
    fig, axes = _figure(a, "Calibration: the floor and what calcbench's client adds", 1, 1)
    charts.plot_time_breakdown(a.breakdown, axes[0][0])
    return fig


def _per_mode_cpu(a: Analysis) -> Figure:
    modes = a.run.balancing_modes
    fig, axes = _figure(a, "CPU per request, client and server", len(modes), 2)
    for row, mode in zip(axes, modes, strict=True):
        charts.plot_cpu(_mode(a.phases, mode), _mode(a.services, mode), row[0], row[1])
        _tag_mode(row, mode, modes)
    return fig
