"""Time to recovery after a replica went down (run.json `fault_events`): from the kill to the
first whole measured second whose errors are back to the level before it.

The errors counted are the killed service's own operation in timeseries.csv (all five services
are operations too; `all` if its operation is missing), at the client, so recovery means the
client got through again, not only that the replica was up: REST opens a new connection on
the next call once the port listens; gRPC waits for its channel's reconnect backoff.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.style import label

HOW = {
    "rest": "a new connection on the next call once the port listens",
    "grpc": "the channel reconnects on its backoff schedule",
}


def recovery_seconds(errors: pd.Series, kill_second: float) -> float | None:
    """Seconds from `kill_second` to the start of the first later whole second whose errors
    are at most the most any second before the kill's had (0 with none); None if no second
    of the phase got back. `errors` is indexed by whole measured second."""
    killed_in = math.floor(kill_second)
    before = errors[errors.index < killed_in]
    level = float(before.max()) if not before.empty else 0.0
    after = errors[(errors.index > killed_in) & (errors <= level)]
    if after.empty:
        return None
    return float(after.index.min()) - kill_second


def recoveries(
    timeseries: pd.DataFrame, phases: pd.DataFrame, events: Sequence[Mapping[str, Any]]
) -> pd.DataFrame:
    """One row per fault event in a phase (not those between phases, with no second): phase,
    protocol, kind, replica, second, restarted_in, recovered_in."""
    names = phases.set_index("phase")[["round", "balancing", "protocol"]]
    rows = []
    for event in events:
        if event.get("phase") not in names.index or event.get("second") is None:
            continue
        key = names.loc[event["phase"]]
        service = str(event.get("replica", "")).rsplit("-", 1)[0]
        errors = _errors(timeseries, key, service)
        rows.append(
            {
                "phase": event["phase"],
                "protocol": key["protocol"],
                "kind": event.get("kind", "kill"),
                "replica": event.get("replica"),
                "second": float(event["second"]),
                "restarted_in": event.get("restarted_in"),
                "recovered_in": recovery_seconds(errors, float(event["second"])),
            }
        )
    return pd.DataFrame(rows)


def _errors(timeseries: pd.DataFrame, key: pd.Series, service: str) -> pd.Series:
    phase = timeseries[
        (timeseries["round"] == key["round"])
        & (timeseries["balancing"] == key["balancing"])
        & (timeseries["protocol"] == key["protocol"])
    ]
    operation = service if (phase["operation"] == service).any() else "all"
    rows = phase[phase["operation"] == operation]
    errors: pd.Series = rows.set_index("second")["errors"].astype(float).sort_index()
    return errors


def recovery_findings(table: pd.DataFrame) -> list[str]:
    """A sentence per protocol: each event's restart and recovery, and how its client recovers."""
    if table.empty:
        return []
    out = []
    for protocol, rows in table.groupby("protocol", sort=False):
        parts = [_event(r) for r in rows.to_dict("records")]
        how = HOW.get(str(protocol), "")
        out.append(f"{label(str(protocol))} time to recovery: {'; '.join(parts)} ({how}).")
    return out


def _event(row: Mapping[Hashable, Any]) -> str:
    restarted = row["restarted_in"]
    killed = row.get("kind", "kill") == "kill"
    head = f"{row['replica']} {'killed' if killed else 'died'} {row['second']:.1f} s into "
    head += str(row["phase"])
    if restarted is not None:
        head += f", restarted in {restarted:.1f} s"
    recovered = row["recovered_in"]
    if recovered is None:
        return f"{head}, errors not back to their earlier level before the phase ended"
    since = "the kill" if killed else "it died"
    return f"{head}, errors back to their earlier level {recovered:.1f} s after {since}"
