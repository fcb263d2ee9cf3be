"""Chart drawing: each function draws one picture onto an Axes it is given, and returns nothing.

No figure creation, no files: `figures` lays the axes out and `report` saves them. Protocol
colours come from `style`, so REST and gRPC look the same in every chart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter

from analysis import hdr
from analysis.breakdown import value
from analysis.hdr import Dist
from analysis.style import BALANCING_STYLES, OPERATIONS, color, label, ordered
from calcbench.core.vocabulary import PROTOCOLS


def no_data(ax: Axes, frame: pd.DataFrame) -> bool:
    """Say so on the axes when there is nothing to draw (a file missing from every phase)."""
    if not frame.empty:
        return False
    ax.text(0.5, 0.5, "no data in this run", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    return True


def log_axis(ax: Axes) -> None:
    """A log y axis labelled 0.5, 1, 2 rather than 5x10^-1."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(_two_and_five))
    ax.tick_params(axis="y", which="minor", labelsize=7)


def _two_and_five(value: float, _position: object = None) -> str:
    """Minor log ticks labelled at 2x and 5x each decade only, so labels never crowd."""
    if value <= 0:
        return ""
    mantissa = round(value / 10 ** np.floor(np.log10(value)))
    return f"{value:g}" if mantissa in (2, 5) else ""


def service_rows(services: pd.DataFrame) -> pd.DataFrame:
    """One row per protocol x balancing x service: the `all` row when there are replicas."""
    single = ~services.duplicated(["protocol", "balancing", "service"], keep=False)
    return services[(services["replica"] == "all") | single]


def grouped_bars(
    ax: Axes,
    frame: pd.DataFrame,
    category: str,
    value: str,
    fmt: Callable[[float], str] | None = None,
) -> None:
    """Bars of `value` per `category`, one bar per protocol side by side, coloured by protocol."""
    if no_data(ax, frame):
        return
    categories = ordered(frame[category].astype(str), (*OPERATIONS, "all"))
    protocols = ordered(frame["protocol"].astype(str), PROTOCOLS)
    width = 0.8 / max(len(protocols), 1)
    x = np.arange(len(categories))
    for i, protocol in enumerate(protocols):
        values = frame[frame["protocol"] == protocol].set_index(category)[value]
        heights = [float(values.get(c, np.nan)) for c in categories]
        bars = ax.bar(
            x + (i - (len(protocols) - 1) / 2) * width,
            heights,
            width,
            color=color(protocol),
            label=label(protocol),
        )
        if fmt is not None:
            ax.bar_label(bars, [fmt(h) if np.isfinite(h) else "" for h in heights], fontsize=7)
    ax.set_xticks(x, categories, rotation=20, ha="right")
    if len(categories) == 1:
        ax.set_xlim(-1.2, 1.2)  # one group: keep the bars bar-shaped
    top = np.nanmax(frame[value].to_numpy(dtype=float), initial=0.0)
    if np.isfinite(top) and top > 0:
        ax.set_ylim(0, top * 1.3)  # headroom for the value labels and the legend
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def plot_rps_per_service(services: pd.DataFrame, ax: Axes) -> None:
    grouped_bars(ax, service_rows(services), "service", "rps", lambda v: f"{v:.1f}")
    ax.set_ylabel("requests per second (server side)")
    ax.set_title("Requests per second per service")


def plot_success_per_service(services: pd.DataFrame, ax: Axes) -> None:
    frame = service_rows(services).assign(success_pct=lambda f: 100 * f["success_rate"])
    grouped_bars(ax, frame, "service", "success_pct", lambda v: f"{v:.1f}%")
    ax.set_ylim(0, 130)  # room above 100% for the labels and the legend
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("success rate (%), ok / all requests")
    ax.set_title("Success rate per service")


def plot_tcp_per_service(services: pd.DataFrame, ax: Axes) -> None:
    grouped_bars(ax, service_rows(services), "service", "tcp_conn", lambda v: f"{v:g}")
    ax.set_ylabel("open TCP connections (server side)")
    ax.set_title("Server side: open TCP connections per service")


def plot_client_connections(connections: pd.DataFrame, ax: Axes) -> None:
    grouped_bars(ax, connections, "service", "connections_mean", lambda v: f"{v:.1f}")
    ax.set_ylabel("client TCP connections (mean per second)")
    ax.set_title("Client side: TCP connections per service")


_MARKERS = {"p50_ms": "o", "p95_ms": "s", "p99_ms": "^"}


def plot_latency_percentiles(frame: pd.DataFrame, category: str, ax: Axes) -> None:
    """p50, p95, p99 per `category` (service or operation) and protocol, on a log axis."""
    if no_data(ax, frame):
        return
    categories = ordered(frame[category].astype(str), (*OPERATIONS, "all"))
    protocols = ordered(frame["protocol"].astype(str), PROTOCOLS)
    x = np.arange(len(categories))
    for i, protocol in enumerate(protocols):
        rows = frame[frame["protocol"] == protocol].set_index(category)
        offset = x + (i - (len(protocols) - 1) / 2) * 0.3
        for column, marker in _MARKERS.items():
            values = [float(rows[column].get(c, np.nan)) for c in categories]
            ax.scatter(offset, values, marker=marker, color=color(protocol), s=28, zorder=3)
        low = [float(rows["p50_ms"].get(c, np.nan)) for c in categories]
        high = [float(rows["p99_ms"].get(c, np.nan)) for c in categories]
        ax.vlines(offset, low, high, color=color(protocol), alpha=0.5)
    log_axis(ax)
    ax.set_xticks(x, categories, rotation=20, ha="right")
    ax.set_ylabel("latency (ms, log scale)")
    ax.grid(axis="y", which="both", alpha=0.3)
    handles = [Line2D([], [], color=color(p), marker="o", ls="", label=label(p)) for p in protocols]
    handles += [
        Line2D([], [], color="gray", marker=m, ls="", label=c.removesuffix("_ms"))
        for c, m in _MARKERS.items()
    ]
    ax.legend(handles=handles, fontsize=8, ncol=2, framealpha=0.7)


def _nines_axis(ax: Axes, max_nines: int) -> None:
    ticks = [10.0**n for n in range(max_nines + 1)]
    names = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: names[round(np.log10(v))]))
    ax.xaxis.set_minor_locator(FixedLocator([]))


def plot_spectrum(spectra: Mapping[tuple[str, str], Dist], ax: Axes, max_nines: int = 4) -> None:
    """HdrHistogram-style percentile spectrum; keys are (protocol, "intended" | "actual")."""
    if not any(d.total for d in spectra.values()):
        no_data(ax, pd.DataFrame())
        return
    for (protocol, kind), dist in spectra.items():
        if not dist.total:
            continue
        pct, values = hdr.spectrum(dist, max_nines)
        style = "-" if kind == "intended" else ":"
        ax.plot(
            1 / (1 - pct / 100),
            values / 1000,
            style,
            color=color(protocol),
            label=f"{label(protocol)} ({kind} send time)",
        )
    _nines_axis(ax, max_nines)
    log_axis(ax)
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (ms, log scale)")
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=8)


def plot_timeseries(
    timeseries: pd.DataFrame,
    order: Sequence[tuple[int, str, str]],
    ax_rps: Axes,
    ax_p99: Axes,
    faults: Mapping[tuple[int, str, str], Sequence[float]] | None = None,
) -> None:
    """All-operations RPS and p99 per second, phases laid end to end in run `order`.

    `order` lists the phases as (round, balancing, protocol) in the order they ran; `faults`
    the seconds into a phase at which a replica went down, each drawn as a dotted line. Errors
    per second (every non-ok answer) are drawn thin under the requests, so a fault shows.
    """
    rows = timeseries[timeseries["operation"] == "all"]
    if no_data(ax_rps, rows) or no_data(ax_p99, rows):
        return
    phases = dict(tuple(rows.groupby(["round", "balancing", "protocol"])))
    offset = 0.0
    for key in order:
        phase = phases.get(key)
        if phase is None or phase.empty:
            continue
        protocol = key[2]
        seconds = phase["second"].to_numpy(dtype=float)
        x = offset + seconds - seconds.min()
        style = BALANCING_STYLES.get(key[1], "-")
        ax_rps.plot(x, phase["requests"], style, color=color(protocol))
        ax_rps.plot(x, phase["errors"], style, color=color(protocol), lw=0.8, alpha=0.6)
        ax_p99.plot(x, phase["p99_ms"], style, color=color(protocol))
        for second in (faults or {}).get(key, ()):
            for ax in (ax_rps, ax_p99):
                ax.axvline(offset + second, color="black", ls=":", lw=1)
        offset = float(x.max()) + 2
    ax_rps.set_ylabel("requests (thick) and errors (thin) per second")
    ax_rps.set_ylim(bottom=0)
    ax_rps.set_title("Requests and errors per second, all operations (client side)")
    ax_p99.set_title("p99 latency per second from intended send time, all operations")
    ax_p99.set_ylabel("p99 latency (ms, log)")
    log_axis(ax_p99)
    ax_p99.set_xlabel("measured seconds, phases in run order (REST and gRPC alternate)")
    protocols = ordered(rows["protocol"].astype(str), PROTOCOLS)
    handles = [Line2D([], [], color=color(p), label=label(p)) for p in protocols]
    modes = list(dict.fromkeys(k[1] for k in order))
    if len(modes) > 1:
        handles += [
            Line2D([], [], color="gray", ls=BALANCING_STYLES.get(m, "-"), label=m) for m in modes
        ]
    if any(faults.get(key) for key in order) if faults else False:
        handles.append(Line2D([], [], color="black", ls=":", lw=1, label="replica down"))
    for ax in (ax_rps, ax_p99):
        ax.grid(alpha=0.3)
        ax.legend(handles=handles, fontsize=8, loc="upper right")


def plot_cpu(
    phases: pd.DataFrame, services: pd.DataFrame, ax_client: Axes, ax_server: Axes
) -> None:
    """CPU microseconds per request: the load generator's, and each service's."""
    client = phases.groupby("protocol", as_index=False).agg(
        cpu=("client_cpu_us", "sum"), requests=("requests", "sum")
    )
    client["us_per_request"] = client["cpu"] / client["requests"]
    client["what"] = "load generator"
    grouped_bars(ax_client, client, "what", "us_per_request", lambda v: f"{v:.0f}")
    ax_client.set_ylabel("CPU us per request")
    ax_client.set_title("Client CPU per request")
    grouped_bars(
        ax_server, service_rows(services), "service", "cpu_us_per_request", lambda v: f"{v:.0f}"
    )
    ax_server.set_ylabel("CPU us per request served")
    ax_server.set_title("Server CPU per request, per service")


def plot_time_breakdown(frame: pd.DataFrame, ax: Axes) -> None:
    """One bar per protocol at one call in flight: the native floor, then what calcbench's
    client adds; a tick marks the handler's own p50 (decode to answer, inside the floor)."""
    labels = [label(p) for p in PROTOCOLS]
    floor = [value(frame, p, "native_floor_p50") for p in PROTOCOLS]
    mine = [value(frame, p, "calcbench_p50") for p in PROTOCOLS]
    base = [0.0 if math.isnan(f) else f for f in floor]
    extra = [m - b for m, b in zip(mine, base, strict=True)]
    ax.barh(labels, base, color="#999999", label="native floor (server stack + kernel)")
    ax.barh(labels, extra, left=base, color=[color(p) for p in PROTOCOLS],
            label="what calcbench's client adds")  # fmt: skip
    handler = [value(frame, p, "handler_p50") for p in PROTOCOLS]
    ax.scatter(handler, labels, marker="|", s=400, color="black", zorder=3,
               label="handler p50 (decode to answer)")  # fmt: skip
    for y, total in enumerate(mine):
        ax.annotate(f"{total:.3f} ms", (total, y), xytext=(4, 0), textcoords="offset points",
                    va="center")  # fmt: skip
    ax.set_xlabel("p50 at one call in flight against addition (ms)")
    ax.set_xlim(0, max(m for m in mine if not math.isnan(m)) * 1.25)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title("Where the time goes")
