"""Reading a `calcbench run` directory: its run.json, and the files of its completed phases.

The only input of the analysis. Phases not marked `completed` (an interrupted run) are left out
and named in `Run.skipped`, so every summary states what it was built from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import RunDirError
from calcbench.core.rundir import (
    ERRORS,
    HISTOGRAMS,
    REPLICAS,
    RUN_JSON,
    RUN_KIND,
    SERVER,
    SUMMARY,
    TIMESERIES,
    phase_dir,
)

__all__ = ["Phase", "Run", "RunDirError", "load_run", "read_phase_json", "read_table"]

#: A phase lacking one of these is reported as a problem. Not summary_actual.csv or
#: connections.csv: older run directories have neither, and the report does without them.
CHECKED_FILES = (RUN_JSON, SUMMARY, ERRORS, TIMESERIES, REPLICAS, HISTOGRAMS, SERVER)
#: Columns read as text whatever they look like (a status code `14` is a label, not a number).
_TEXT_COLUMNS = {"protocol": str, "operation": str, "service": str, "replica": str, "code": str}


@dataclass(frozen=True)
class Phase:
    """One load-generator run (one protocol, one balancing mode, one round) inside the run."""

    name: str
    round: int
    protocol: str
    balancing: str
    path: Path
    meta: Mapping[str, Any]
    tls: bool = False

    @property
    def measured_seconds(self) -> float:
        seconds = self.meta.get("measured_seconds")
        if seconds is None:
            seconds = self.meta.get("settings", {}).get("duration", 0.0)
        return float(seconds)

    @property
    def generator(self) -> Mapping[str, Any]:
        return dict(self.meta.get("generator") or {})


@dataclass(frozen=True)
class Run:
    path: Path
    meta: Mapping[str, Any]
    phases: tuple[Phase, ...]
    skipped: tuple[str, ...]
    problems: tuple[str, ...]
    #: With plaintext and TLS phases in one run (`--tls both`), `phases` holds the plaintext
    #: ones (every other table compares protocols over plaintext) and this the TLS ones.
    tls_phases: tuple[Phase, ...] = ()

    @property
    def settings(self) -> Mapping[str, Any]:
        return dict(self.meta.get("settings") or {})

    @property
    def partial(self) -> bool:
        return bool(self.meta.get("partial")) or bool(self.skipped)

    @property
    def cpu_count(self) -> int | None:
        count = (self.meta.get("host") or {}).get("cpu_count")
        return None if count is None else int(count)

    @property
    def seed(self) -> int:
        seed = self.settings.get("seed")
        return 0 if seed is None else int(seed)

    @property
    def replicas(self) -> int:
        return int(self.settings.get("replicas") or 1)

    @property
    def service_replicas(self) -> dict[str, dict[str, int]]:
        """Replicas per protocol and service where they differ per service (a Kubernetes run
        records each Deployment's count in `settings.service_replicas`; runs assembled before
        that kept them in `kubernetes.replicas`); empty when every service has `replicas`."""
        recorded = self.settings.get("service_replicas")
        if recorded is None:
            recorded = (self.meta.get("kubernetes") or {}).get("replicas") or {}
        return {
            str(protocol): {str(service): int(n) for service, n in counts.items()}
            for protocol, counts in recorded.items()
        }

    def replicas_of(self, protocol: str, service: str) -> int:
        """How many replicas (pods) `service` of `protocol` had in this run."""
        count = self.service_replicas.get(protocol, {}).get(service)
        return self.replicas if count is None else count

    @property
    def balancing_modes(self) -> list[str]:
        """Balancing modes in the order the run used them."""
        modes = [p.balancing for p in self.phases]
        return list(dict.fromkeys(modes))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(data, dict):
        raise RunDirError(f"{path}: not a JSON object")
    return data


def _phase(run_dir: Path, entry: Mapping[str, Any]) -> Phase:
    path = run_dir / str(entry.get("dir") or phase_dir(str(entry["name"])))
    load = path / RUN_JSON
    meta = _read_json(load) if load.is_file() else {}
    return Phase(
        name=str(entry["name"]),
        round=int(entry.get("round") or 1),
        protocol=str(entry.get("protocol") or meta.get("protocol")),
        balancing=str(entry.get("balancing") or meta.get("balancing") or "shared"),
        path=path,
        meta=meta,
        tls=bool(entry.get("tls", False)),
    )


def load_run(run_dir: Path) -> Run:
    """Read `run_dir/run.json` and its completed phases; raise RunDirError if unusable."""
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such directory")
    if not (run_dir / RUN_JSON).is_file():
        raise RunDirError(f"{run_dir}: not a calcbench run directory (no {RUN_JSON})")
    meta = _read_json(run_dir / RUN_JSON)
    if meta.get("kind") != RUN_KIND:
        raise RunDirError(f"{run_dir}: run.json is not a calcbench run (kind={meta.get('kind')!r})")
    phases, skipped, problems = [], [], []
    for entry in meta.get("phases") or []:
        phase = _phase(run_dir, entry)
        if not entry.get("completed") or not phase.path.is_dir():
            skipped.append(phase.name)
            continue
        missing = [f for f in CHECKED_FILES if not (phase.path / f).is_file()]
        if missing:
            problems.append(f"phase {phase.name}: missing {', '.join(missing)}")
        phases.append(phase)
    if not phases:
        raise RunDirError(f"{run_dir}: no completed phase to report on")
    plain = tuple(p for p in phases if not p.tls)
    tls = tuple(p for p in phases if p.tls)
    if plain and tls:
        return Run(run_dir, meta, plain, tuple(skipped), tuple(problems), tls)
    return Run(run_dir, meta, tuple(phases), tuple(skipped), tuple(problems))


def read_table(run: Run, filename: str) -> pd.DataFrame:
    """One CSV from every completed phase, stacked, with `phase`, `round`, `balancing` added."""
    frames = []
    for phase in run.phases:
        path = phase.path / filename
        if not path.is_file():
            continue
        frame = pd.read_csv(path, dtype=_TEXT_COLUMNS, keep_default_na=False, na_values=[""])
        if "protocol" not in frame.columns:
            frame["protocol"] = phase.protocol
        frames.append(frame.assign(phase=phase.name, round=phase.round, balancing=phase.balancing))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def read_phase_json(phase: Phase, filename: str) -> dict[str, Any] | None:
    """A phase's JSON file, or None when it is missing (counted as a problem by load_run)."""
    path = phase.path / filename
    return _read_json(path) if path.is_file() else None


def read_run_table(run: Run, filename: str, columns: Sequence[str]) -> pd.DataFrame:
    """A CSV of the run directory itself (not of a phase); empty with `columns` when absent,
    as in a run made with --no-calibrate or before calcbench calibrated."""
    path = run.path / filename
    if not path.is_file():
        return pd.DataFrame(columns=list(columns))
    return pd.read_csv(path, keep_default_na=False, na_values=[""])
