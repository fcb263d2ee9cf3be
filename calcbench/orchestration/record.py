"""The run directory's `run.json`, kept current as the run goes so an interrupt loses nothing."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calcbench import __version__
from calcbench.core.environment import git_commit, host, versions
from calcbench.orchestration.plan import Phase, RunSettings


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunRecord:
    """Creates the run directory and rewrites `run.json` after every change."""

    def __init__(self, settings: RunSettings) -> None:
        self.dir = settings.out_dir
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            (self.dir / "phases").mkdir(exist_ok=True)
        except OSError as exc:
            raise OSError(f"cannot create the output folder {self.dir}: {exc.strerror}") from exc
        self.data: dict[str, Any] = {
            "kind": "run",
            "calcbench_version": __version__,
            "git_commit": git_commit(),
            "started_at": utc_now(),
            "ended_at": None,
            "partial": True,
            "scenario": settings.scenario,
            "settings": _settings(settings),
            "host": host(),
            "versions": versions(),
            "phases": [],
            "warnings": [],
        }
        self.save()

    def phase_dir(self, phase: Phase) -> Path:
        return self.dir / "phases" / phase.name

    def add_phase(self, phase: Phase, completed: bool, warnings: list[str]) -> None:
        entry = {**asdict(phase), "name": phase.name, "dir": f"phases/{phase.name}"}
        self.data["phases"].append({**entry, "completed": completed})
        self.data["warnings"] += [f"{phase.name}: {w}" for w in warnings]
        self.save()

    def finish(self, partial: bool) -> None:
        self.data["partial"] = partial
        self.data["ended_at"] = utc_now()
        self.save()

    def save(self) -> None:
        save_run_json(self.dir, self.data)


def save_run_json(run_dir: Path, data: dict[str, Any]) -> None:
    """Write `run_dir/run.json`, then rename: a Ctrl-C never leaves half a run.json behind."""
    path = run_dir / "run.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=2, default=str) + "\n")
    temporary.replace(path)


def _settings(settings: RunSettings) -> dict[str, Any]:
    load = settings.load.to_dict()
    load.pop("protocol", None)
    if settings.fault is not None:
        load["fault"] = settings.fault.describe()
    return {
        **load,
        "rounds": settings.rounds,
        "replicas": settings.replicas,
        "balancing_modes": list(settings.balancing_modes),
        "host": settings.host,
        "server_model": settings.server_model or "default",
        "out_dir": str(settings.out_dir),
    }
