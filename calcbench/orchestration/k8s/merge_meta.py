"""The merged run.json of N generator pods: one load generator's document, with the whole
load's settings, totals that add up, the worst pod's health, and each pod listed (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from loadgen.results import totals
from loadgen.settings import LoadSettings
from loadgen.stats import Tally

#: Pods whose schedules started further apart than this did not send one load together.
START_SPREAD_WARNING: Final = 1.0


def _worst(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def merged_health(metas: Sequence[dict[str, Any]], requests: int) -> dict[str, Any]:
    """Generator health over the pods: lag as the worst pod's (the lag histograms are not
    kept), CPU added up, bound if any pod was."""
    generators = [m.get("generator") or {} for m in metas]
    lags = [g.get("lag_ms") or {} for g in generators]
    cpu = sum(float(g.get("cpu_seconds") or 0.0) for g in generators)
    warnings = [
        f"generator {i}: {w}" for i, g in enumerate(generators) for w in g.get("warnings") or []
    ]
    return {
        "lag_ms": {key: _worst([lag.get(key) for lag in lags]) for key in ("p50", "p99", "max")},
        "cpu_seconds": round(cpu, 4),
        "cpu_us_per_request": round(cpu * 1e6 / requests, 2) if requests else None,
        "max_worker_cpu_utilisation": max(
            float(g.get("max_worker_cpu_utilisation") or 0.0) for g in generators
        ),
        "bound": any(bool(g.get("bound")) for g in generators),
        "warnings": warnings,
        "rule": generators[0].get("rule"),
    }


def start_spread(metas: Sequence[dict[str, Any]]) -> float:
    """Seconds between the first and the last pod's start (their clocks, NTP-synced nodes)."""
    starts = [datetime.fromisoformat(str(m["started_at"])) for m in metas if m.get("started_at")]
    return (max(starts) - min(starts)).total_seconds() if len(starts) > 1 else 0.0


def merged_run_json(
    metas: Sequence[dict[str, Any]],
    pods: Sequence[dict[str, Any]],
    load: LoadSettings,
    measured: Tally,
) -> dict[str, Any]:
    """The run.json of the pods' merged load (`metas`: their run.json; `pods`: their pod.json)."""
    first = metas[0]
    warmup: Counter[str] = Counter()
    connections: Counter[str] = Counter()
    for meta in metas:
        warmup.update(meta.get("warmup") or {})
        connections.update(meta.get("client_connections") or {})
    counts = totals(measured)
    health = merged_health(metas, counts["requests"])
    spread = start_spread(metas)
    if spread > START_SPREAD_WARNING:
        health["warnings"].append(
            f"the {len(metas)} generator pods started {spread:.1f} s apart: their loads only "
            "partly overlapped"
        )
    return {
        **{key: first.get(key) for key in ("kind", "calcbench_version", "endpoints", "host")},
        "protocol": load.protocol,
        "balancing": load.balancing,
        "loop": "open" if load.open_loop else "closed",
        "settings": load.to_dict(),
        "versions": first.get("versions"),
        "started_at": min(str(m.get("started_at") or "") for m in metas),
        "ended_at": max(str(m.get("ended_at") or "") for m in metas),
        "measured_seconds": max(float(m.get("measured_seconds") or 0.0) for m in metas),
        "interrupted": any(bool(m.get("interrupted")) for m in metas),
        "totals": counts,
        "warmup": dict(warmup),
        "generator": health,
        "client_connections": dict(connections),
        "generators": [
            {**pod, "requests": (meta.get("totals") or {}).get("requests")}
            for pod, meta in zip(pods, metas, strict=True)
        ],
        "timeseries_percentiles": "the highest of the generator pods' per-second values",
    }
