"""Requests per replica, from the client (x-calc-replica) and from the servers' own counters,
and how evenly each service's traffic spread over its replicas.

Figures are per round: the kernel may pin a connection to a different replica in each round, and
adding rounds together would hide exactly the pinning this is meant to show.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from analysis.frames import sort_rows, with_columns

REPLICA_COLUMNS = [
    "protocol",
    "service",
    "replica",
    "requests",
    "server_requests",
    "share",
    "balancing",
    "round",
    "tcp_conn",
]
BALANCING_COLUMNS = [
    "protocol",
    "balancing",
    "service",
    "replicas",
    "requests",
    "max_share_over_fair",
    "cv",
    "idle_replicas",
    "rounds",
    "rounds_with_idle",
    "source",
]
_KEYS = ["protocol", "balancing", "round", "service"]


def replica_table(client: pd.DataFrame, scrapes: pd.DataFrame) -> pd.DataFrame:
    """replicas.csv: per round x replica, client and server request counts, the client share
    and the replica's open TCP connections (server side)."""
    keys = [*_KEYS, "replica"]
    left = (
        client.groupby(keys, as_index=False).agg(requests=("requests", "sum"))
        if not client.empty
        else pd.DataFrame(columns=[*keys, "requests"])
    )
    right = (
        scrapes.groupby(keys, as_index=False).agg(
            server_requests=("requests", "sum"), tcp_conn=("tcp_conn", "sum")
        )
        if not scrapes.empty
        else pd.DataFrame(columns=[*keys, "server_requests", "tcp_conn"])
    )
    table = left.merge(right, on=keys, how="outer")
    table["requests"] = table["requests"].fillna(0).astype(int)
    totals = table.groupby(_KEYS)["requests"].transform("sum")
    table["share"] = (table["requests"] / totals.where(totals > 0)).astype(float)
    return sort_rows(with_columns(table, REPLICA_COLUMNS), [*_KEYS[:2], "service", "round"])


def imbalance(counts: np.ndarray, replicas: int) -> tuple[float, float, int]:
    """(max share / fair share, coefficient of variation, idle replicas) of per-replica counts.

    Replicas that served nothing may be absent from `counts`; `replicas` is how many there were.
    A service with one replica has nothing to spread over: it is never counted idle.
    """
    n = max(replicas, counts.size)
    padded = np.concatenate([counts.astype(float), np.zeros(n - counts.size)])
    total = padded.sum()
    if total <= 0:
        return float("nan"), float("nan"), n if n > 1 else 0
    share_over_fair = float(padded.max() / total * n)
    cv = float(padded.std() / padded.mean())
    return share_over_fair, cv, int((padded == 0).sum()) if n > 1 else 0


ReplicaCount = int | Callable[[str, str], int]
"""Replicas of every service, or a function (protocol, service) -> that service's replicas."""


def balancing_rounds(table: pd.DataFrame, replicas: ReplicaCount) -> pd.DataFrame:
    """Imbalance per protocol x balancing x round x service, from server counts when present.

    Give `replicas` per service (`Run.replicas_of`) when services differ: a one-pod service
    measured against two "fair" replicas would show an idle pod that never existed.
    """
    count = replicas if callable(replicas) else (lambda _protocol, _service: replicas)
    rows = []
    for key, group in table.groupby(_KEYS, sort=False):
        server = group["server_requests"]
        use_server = bool(server.notna().all())
        counts = (server if use_server else group["requests"]).to_numpy(dtype=float)
        n = max(count(str(key[0]), str(key[3])), len(group))
        share, cv, idle = imbalance(counts, n)
        rows.append((*key, n, counts.sum(), share, cv, idle, "server" if use_server else "client"))
    columns = [*_KEYS, "replicas", "requests", "max_share_over_fair", "cv", "idle_replicas"]
    return sort_rows(pd.DataFrame(rows, columns=[*columns, "source"]), _KEYS)


def summarize_balancing(per_round: pd.DataFrame) -> pd.DataFrame:
    """balancing.csv: the per-round figures averaged over rounds (idle_replicas too)."""
    if per_round.empty:
        return pd.DataFrame(columns=BALANCING_COLUMNS)
    grouped = per_round.groupby(["protocol", "balancing", "service"], as_index=False, sort=False)
    summary = grouped.agg(
        replicas=("replicas", "max"),
        requests=("requests", "sum"),
        max_share_over_fair=("max_share_over_fair", "mean"),
        cv=("cv", "mean"),
        idle_replicas=("idle_replicas", "mean"),
        rounds=("round", "nunique"),
        rounds_with_idle=("idle_replicas", lambda s: int((s > 0).sum())),
        source=("source", "first"),
    )
    summary["requests"] = summary["requests"].astype(int)
    return sort_rows(with_columns(summary, BALANCING_COLUMNS), ["protocol", "balancing", "service"])
