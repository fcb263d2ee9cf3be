"""`calcbench k8s render`: the manifests as one YAML stream or as files in apply order, with
no kubectl and no cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from calcbench.orchestration.k8s.manifests import render
from loadgen.settings import LoadSettings
from tests.k8s.manifests import situation

REPO = Path(__file__).resolve().parents[2]


def calcbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from calcbench.cli import main; main()", *args],
        capture_output=True, text=True, timeout=60, cwd=REPO,
        env={**os.environ, "PATH": "/nonexistent", "COLUMNS": "200"},
    )  # fmt: skip


def test_the_stream_is_what_deploy_and_bench_apply() -> None:
    proc = calcbench(
        "k8s", "render", "--stack", "grpc", "--mesh", "linkerd", "--generators", "2",
        "--image", "registry.example/calcbench:abc", "--rate", "300",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    chosen = situation("grpc", "linkerd", generators=2, image="registry.example/calcbench:abc")
    assert docs == render(chosen, LoadSettings(rate=300.0))


def test_files_come_numbered_in_apply_order(tmp_path: Path) -> None:
    proc = calcbench("k8s", "render", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for namespace in ("rest-calculator", "grpc-calculator"):
        names = sorted(p.name for p in (tmp_path / namespace).iterdir())
        assert names[0].endswith(f"namespace-{namespace}.yaml")
        assert names[-1].endswith("job-loadgen.yaml")  # the load starts last
    total = sum(len(list(d.iterdir())) for d in tmp_path.iterdir())
    assert total == len(render(situation(), LoadSettings()))


def test_a_bad_knob_is_a_usage_error() -> None:
    proc = calcbench("k8s", "render", "--cpu-request", "lots")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --cpu-request 'lots': expected CPUs, e.g. 250m or 1"
