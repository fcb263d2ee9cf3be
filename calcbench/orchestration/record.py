"""The run directory's `run.json`, kept current as the run goes so an interrupt loses nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from calcbench import __version__
from calcbench.core.environment import git_commit, host, utc_now, versions
from calcbench.core.rundir import PHASES, RUN_JSON, RUN_KIND, phase_dir, phase_entry
from calcbench.orchestration.plan import Phase, RunSettings


class RunRecord:
    """Creates the run directory and rewrites `run.json` after every change."""

    def __init__(self, settings: RunSettings) -> None:
        self.dir = settings.out_dir
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            (self.dir / PHASES).mkdir(exist_ok=True)
        except OSError as exc:
            raise OSError(f"cannot create the output folder {self.dir}: {exc.strerror}") from exc
        self.data: dict[str, Any] = {
            "kind": RUN_KIND,
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
            "fault_events": [],
        }
        self.save()

    def phase_dir(self, phase: Phase) -> Path:
        return self.dir / phase_dir(phase.name)

    def add_phase(self, phase: Phase, completed: bool, warnings: list[str]) -> None:
        entry = phase_entry(
            phase.round, phase.protocol, phase.balancing, completed=completed, tls=phase.tls
        )
        self.data["phases"].append(entry)
        self.data["warnings"] += [f"{phase.name}: {w}" for w in warnings]
        self.save()

    def add_fault_events(self, phase: Phase, events: list[dict[str, Any]]) -> None:
        """What went down in the phase, or before it with `second` null (see
        `chaos.FaultEvent`), for the report's markers, its time to recovery and which
        replicas' server figures are partial."""
        if events:
            entry = {"phase": phase.name, "protocol": phase.protocol}
            self.data["fault_events"] += [{**entry, **event} for event in events]
            self.save()

    def finish(self, partial: bool) -> None:
        self.data["partial"] = partial
        self.data["ended_at"] = utc_now()
        self.save()

    def save(self) -> None:
        save_run_json(self.dir, self.data)


def save_run_json(run_dir: Path, data: dict[str, Any]) -> None:
    """Write `run_dir/run.json`, then rename: a Ctrl-C never leaves half a run.json behind."""
    path = run_dir / RUN_JSON
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=2, default=str) + "\n")
    temporary.replace(path)


def _settings(settings: RunSettings) -> dict[str, Any]:
    load = settings.load.to_dict()
    load.pop("protocol", None)
    if settings.fault is not None:
        load["fault"] = settings.fault.describe()
    faults = [f for f in (settings.fault, *settings.kills, *settings.error_rates) if f]
    if settings.kills or settings.error_rates:
        load["faults"] = [f.describe() for f in faults]
    return {
        **load,
        "rounds": settings.rounds,
        "replicas": settings.replicas,
        "balancing_modes": list(settings.balancing_modes),
        "host": settings.host,
        "server_models": dict(settings.server_models),
        "out_dir": str(settings.out_dir),
        # The run's TLS, not the load's (which each phase sets): off, on or both.
        "tls": "both" if len(settings.tls_modes) > 1 else "on" if settings.tls_modes[0] else "off",
    }
