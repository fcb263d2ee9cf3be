"""What `Run` reads from run.json beyond the phases: replicas per service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.rundir import load_run

PHASE: dict[str, object] = {
    "name": "r1-grpc-shared", "round": 1, "protocol": "grpc", "balancing": "shared",
    "dir": "phases/r1-grpc-shared", "completed": True,
}  # fmt: skip


def run_dir(tmp_path: Path, **fields: object) -> Path:
    (tmp_path / str(PHASE["dir"])).mkdir(parents=True)
    meta = {"kind": "run", "phases": [PHASE], **fields}
    (tmp_path / "run.json").write_text(json.dumps(meta))
    return tmp_path


@pytest.mark.parametrize(
    "fields",
    [
        {"settings": {"replicas": 2, "service_replicas": {"grpc": {"multiplication": 1}}}},
        # run directories assembled before service_replicas existed
        {"settings": {"replicas": 2}, "kubernetes": {"replicas": {"grpc": {"multiplication": 1}}}},
    ],
)
def test_replicas_of_a_service_come_from_its_own_count(
    tmp_path: Path, fields: dict[str, object]
) -> None:
    run = load_run(run_dir(tmp_path, **fields))
    assert run.replicas_of("grpc", "multiplication") == 1
    assert run.replicas_of("grpc", "addition") == 2  # not recorded: the run's count
    assert run.replicas_of("rest", "multiplication") == 2


def test_a_local_run_has_one_count_for_every_service(tmp_path: Path) -> None:
    run = load_run(run_dir(tmp_path, settings={"replicas": 3}))
    assert run.service_replicas == {} and run.replicas_of("grpc", "percentage") == 3
