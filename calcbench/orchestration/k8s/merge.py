"""N generator pods' results -> one `calcbench load` directory, as if one generator had sent
the whole load (the phase directory the analysis reads).

Exact where it can be: request counts, outcomes, replicas and the HDR histograms add up (the
histograms are decoded and merged bucket by bucket, then the summaries are recomputed from them
by the load generator's own functions). The per-second time series has no histograms: its
counts add up, its p50 and p99 are the highest of the pods' (an upper bound, said in run.json).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calcbench.core.rundir import (
    CONNECTION_COLUMNS,
    CONNECTIONS,
    ERROR_COLUMNS,
    ERRORS,
    HISTOGRAMS,
    REPLICA_COLUMNS,
    REPLICAS,
    RUN_JSON,
    SUMMARY,
    SUMMARY_ACTUAL,
    SUMMARY_COLUMNS,
    TIMESERIES,
    TIMESERIES_COLUMNS,
)
from calcbench.orchestration.k8s.generator import POD_FILE, RUN_DIR
from calcbench.orchestration.k8s.merge_meta import merged_run_json
from loadgen.results import error_rows, histograms_document, replica_rows, summary_rows
from loadgen.rundir import Row, write_csv, write_json
from loadgen.settings import LoadSettings
from loadgen.stats import Tally, decode


@dataclass(frozen=True)
class GeneratorResult:
    """One pod's unpacked results: its load directory and what it says about itself."""

    run_dir: Path
    meta: dict[str, Any]
    pod: dict[str, Any]

    @classmethod
    def read(cls, folder: Path) -> GeneratorResult:
        run_dir = folder / RUN_DIR
        pod = folder / POD_FILE
        return cls(
            run_dir,
            json.loads((run_dir / RUN_JSON).read_text()),
            json.loads(pod.read_text()) if pod.is_file() else {},
        )


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def measured_tally(run_dir: Path) -> Tally:
    """The measured window's tally of a load directory, rebuilt from its files: histograms
    from histograms.json, ok counts from summary.csv, the other outcomes from errors.csv."""
    histograms = json.loads((run_dir / HISTOGRAMS).read_text())
    tally = Tally(
        intended={s: decode(h) for s, h in histograms["intended"].items() if s != "all"},
        actual={s: decode(h) for s, h in histograms["actual"].items() if s != "all"},
    )
    for row in _rows(run_dir / SUMMARY):
        if row["operation"] != "all" and int(row["ok"]):
            tally.outcomes[(row["operation"], "ok", "", False)] += int(row["ok"])
    for row in _rows(run_dir / ERRORS):
        key = (row["operation"], row["outcome"], row["code"], row["expected"] == "true")
        tally.outcomes[key] += int(row["count"])
    for row in _rows(run_dir / REPLICAS):
        tally.replicas[(row["service"], row["replica"])] += int(row["requests"])
    return tally


def _highest(a: float | None, b: str) -> float | None:
    if not b:
        return a
    return float(b) if a is None else max(a, float(b))


def merged_timeseries(protocol: str, parts: Iterable[Path]) -> list[Row]:
    # (second, sort order: `all` after the operations of its second, operation) -> totals
    merged: dict[tuple[int, int, str], list[Any]] = {}
    for path in parts:
        for row in _rows(path / TIMESERIES):
            operation = row["operation"]
            key = (int(row["second"]), operation == "all", operation)
            totals = merged.setdefault(key, [0, 0, None, None])
            totals[0] += int(row["requests"])
            totals[1] += int(row["errors"])
            totals[2] = _highest(totals[2], row["p50_ms"])
            totals[3] = _highest(totals[3], row["p99_ms"])
    return [[protocol, key[2], key[0], *merged[key]] for key in sorted(merged)]


def merged_connections(protocol: str, parts: Iterable[Path]) -> list[Row]:
    """Each pod's own client connections per service and second, added up."""
    total: Counter[tuple[int, str]] = Counter()
    for path in parts:
        for row in _rows(path / CONNECTIONS):
            total[(int(row["second"]), row["service"])] += int(row["connections"])
    return [[protocol, s, second, n] for (second, s), n in sorted(total.items())]


def merge_generators(
    results: Sequence[GeneratorResult], load: LoadSettings, out: Path
) -> dict[str, Any]:
    """Write the merged load directory `out` for the whole `load`; returns its run.json."""
    if not results:
        raise ValueError("no generator results to merge")
    protocol = load.protocol
    measured = Tally()
    for result in results:
        measured.add(measured_tally(result.run_dir))
    meta = merged_run_json([r.meta for r in results], [r.pod for r in results], load, measured)
    seconds = float(meta["measured_seconds"])
    out.mkdir(parents=True, exist_ok=True)
    for name, kind in ((SUMMARY, "intended"), (SUMMARY_ACTUAL, "actual")):
        rows = summary_rows(protocol, load.services, measured, seconds, kind)
        write_csv(out / name, SUMMARY_COLUMNS, rows)
    write_csv(out / ERRORS, ERROR_COLUMNS, error_rows(protocol, measured))
    write_csv(out / REPLICAS, REPLICA_COLUMNS, replica_rows(protocol, measured))
    write_json(out / HISTOGRAMS, histograms_document(protocol, measured))
    parts = [r.run_dir for r in results]
    write_csv(out / TIMESERIES, TIMESERIES_COLUMNS, merged_timeseries(protocol, parts))
    write_csv(out / CONNECTIONS, CONNECTION_COLUMNS, merged_connections(protocol, parts))
    write_json(out / RUN_JSON, meta)
    return meta
