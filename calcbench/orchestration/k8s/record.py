"""The run directory of one situation measured in a cluster: the layout `calcbench run` writes
(run.json of kind "run", a phase per stack under phases/), plus the situation, each
Deployment's pod count, the cluster, and each generator pod's own results under generators/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from calcbench import __version__
from calcbench.core.environment import git_commit, utc_now, versions
from calcbench.core.vocabulary import DEFAULT_SERVER_MODELS
from calcbench.orchestration.k8s.situation import Situation
from calcbench.orchestration.record import save_run_json
from loadgen.settings import LoadSettings


class BenchRecord:
    """Creates the run directory and rewrites its run.json after every change."""

    def __init__(
        self, out_dir: Path, situation: Situation, load: LoadSettings, cluster: dict[str, Any]
    ) -> None:
        self.dir = out_dir
        try:
            (self.dir / "phases").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(f"cannot create the output folder {self.dir}: {exc.strerror}") from exc
        settings = {k: v for k, v in load.to_dict().items() if k not in ("protocol", "balancing")}
        planned = situation.service_replicas
        self.data: dict[str, Any] = {
            "kind": "run",
            "calcbench_version": __version__,
            "git_commit": git_commit(),
            "started_at": utc_now(),
            "ended_at": None,
            "partial": True,
            "scenario": "kubernetes",
            "situation": situation.to_dict(),
            "settings": {
                **settings,
                "rounds": 1,
                "replicas": max(planned.values()),
                # Per Deployment, as counted when each stack was measured: what the analysis
                # measures each service's spread against.
                "service_replicas": {p: dict(planned) for p in situation.protocols},
                "balancing_modes": [situation.balancing],
                "generators": situation.generators,
                # The pods run each service's default server model.
                "server_models": dict(DEFAULT_SERVER_MODELS),
                "out_dir": str(out_dir),
            },
            "host": cluster,
            "versions": versions(),
            "phases": [],
            "warnings": [],
        }
        self.save()

    def phase_dir(self, name: str) -> Path:
        return self.dir / "phases" / name

    def generators_dir(self, name: str) -> Path:
        """Where each generator pod's own results of phase `name` are kept, as it sent them."""
        return self.dir / "generators" / name

    def add_phase(
        self,
        protocol: str,
        name: str,
        balancing: str,
        replicas: dict[str, int],
        warnings: list[str],
    ) -> None:
        entry = {"round": 1, "protocol": protocol, "balancing": balancing, "name": name}
        self.data["phases"].append({**entry, "dir": f"phases/{name}", "completed": True})
        self.data["settings"]["service_replicas"][protocol] = replicas
        self.data["warnings"] += [f"{name}: {warning}" for warning in warnings]
        self.save()

    def warn(self, message: str) -> None:
        self.data["warnings"].append(message)
        self.save()

    def finish(self, partial: bool) -> None:
        self.data["partial"] = partial
        self.data["ended_at"] = utc_now()
        self.save()

    def save(self) -> None:
        save_run_json(self.dir, self.data)
