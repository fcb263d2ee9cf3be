"""Per-replica charts (the post's tcpstats pictures as bars) and the several-runs chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from analysis.charts import no_data
from analysis.style import OPERATIONS, color, label, ordered
from calcbench.core.vocabulary import PROTOCOLS


def _replica_positions(rows: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Replica names grouped by service (natural order) and their x positions."""
    pairs = rows[["service", "replica"]].drop_duplicates().astype(str)
    services = ordered(pairs["service"], OPERATIONS)
    pairs = pairs.assign(rank=pairs["service"].map(services.index)).sort_values(["rank", "replica"])
    # A gap between services, so that each service's replicas read as one group.
    x = np.arange(len(pairs)) + 0.6 * pairs["rank"].to_numpy(dtype=float)
    return pairs["replica"].tolist(), x


def plot_replica_requests(replicas: pd.DataFrame, ax: Axes, protocol: str, mode: str) -> None:
    """Requests served per replica, stacked by round: pinning shows as one full bar per round."""
    rows = replicas[(replicas["protocol"] == protocol) & (replicas["balancing"] == mode)]
    if no_data(ax, rows):
        return
    source = "server_requests" if rows["server_requests"].notna().all() else "requests"
    names, x = _replica_positions(rows)
    rounds = sorted(int(r) for r in rows["round"].unique())
    bottom = np.zeros(len(names))
    for k, rnd in enumerate(rounds):
        counts = rows[rows["round"] == rnd].set_index("replica")[source]
        heights = np.array([float(counts.get(n, 0.0)) for n in names])
        alpha = 1.0 - 0.6 * k / max(len(rounds) - 1, 1)
        ax.bar(
            x,
            heights,
            0.8,
            bottom=bottom,
            color=color(protocol),
            alpha=alpha,
            edgecolor="white",
            label=f"round {rnd}",
        )
        bottom += heights
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=7)
    who = "server metrics" if source == "server_requests" else "client x-calc-replica"
    ax.set_ylabel(f"requests ({who})")
    ax.set_title(f"{label(protocol)}, {mode}")
    _headroom(ax)
    ax.legend(fontsize=7, ncol=len(rounds), loc="upper right")
    ax.grid(axis="y", alpha=0.3)


def _headroom(ax: Axes) -> None:
    """Room above the tallest bar for a one-line legend."""
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * 1.2 if high > 0 else 1.0)


def plot_replica_connections(replicas: pd.DataFrame, ax: Axes, protocol: str, mode: str) -> None:
    """Open TCP connections per replica (server side), one bar per round side by side."""
    rows = replicas[(replicas["protocol"] == protocol) & (replicas["balancing"] == mode)]
    if no_data(ax, rows):
        return
    names, x = _replica_positions(rows)
    rounds = sorted(int(r) for r in rows["round"].unique())
    width = 0.8 / max(len(rounds), 1)
    for k, rnd in enumerate(rounds):
        values = rows[rows["round"] == rnd].set_index("replica")["tcp_conn"]
        heights = [float(values.get(n, 0.0)) for n in names]
        alpha = 1.0 - 0.6 * k / max(len(rounds) - 1, 1)
        offset = (k - (len(rounds) - 1) / 2) * width
        ax.bar(x + offset, heights, width, color=color(protocol), alpha=alpha, label=f"round {rnd}")
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("open TCP connections (server side)")
    ax.set_title(f"{label(protocol)}, {mode}")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _headroom(ax)
    ax.legend(fontsize=7, ncol=len(rounds), loc="upper right")
    ax.grid(axis="y", alpha=0.3)


def plot_compare(frame: pd.DataFrame, metric: str, title: str, ax: Axes) -> None:
    """One metric of several runs: a group of bars per run x balancing, one bar per protocol."""
    frame = frame.assign(group=frame["run"].astype(str) + "\n" + frame["balancing"].astype(str))
    groups = list(dict.fromkeys(frame["group"]))
    protocols = ordered(frame["protocol"].astype(str), PROTOCOLS)
    width = 0.8 / max(len(protocols), 1)
    for i, protocol in enumerate(protocols):
        values = frame[frame["protocol"] == protocol].set_index("group")[metric]
        x = np.arange(len(groups)) + (i - (len(protocols) - 1) / 2) * width
        ax.bar(x, [float(values.get(g, np.nan)) for g in groups], width, color=color(protocol))
    ax.set_xticks(np.arange(len(groups)), groups, fontsize=7)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    _headroom(ax)
    ax.legend(handles=[Patch(color=color(p), label=label(p)) for p in protocols], fontsize=7)
