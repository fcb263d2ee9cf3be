"""k8s/fetch-results.sh against a stand-in kubectl (no cluster runs here): what it fetches
becomes a run directory that the analysis reads like a local `calcbench run`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from analysis.rundir import load_run
from tests.k8s.manifests import NAMESPACES

K8S = Path(__file__).resolve().parents[2] / "k8s"

FETCH = K8S / "fetch-results.sh"

# A fake cluster lives under $FAKE_CLUSTER/<namespace>/: results/run (the pod's folder), done
# (the readiness marker) and replicas (what `kubectl get deployment -o jsonpath` prints).
FAKE_KUBECTL = """#!/usr/bin/env bash
set -euo pipefail
echo "$*" >>"$FAKE_CLUSTER/calls"
namespace=$2; shift 2
case "$1 $2" in
  "get pod") echo loadgen-5f7c9-x2x8q ;;
  "get deployment") cat "$FAKE_CLUSTER/$namespace/replicas" ;;
  "exec "*) test -e "$FAKE_CLUSTER/$namespace/results/done" ;;
  "cp -c") cp -r "$FAKE_CLUSTER/$namespace${4#*:}" "$5" ;;
  *) echo "fake kubectl: unexpected $*" >&2; exit 2 ;;
esac
"""


def fake_cluster(root: Path, finished: bool = True) -> Path:
    for protocol, namespace in NAMESPACES.items():
        run = root / namespace / "results" / "run"
        run.mkdir(parents=True)
        load = {"kind": "load", "protocol": protocol, "balancing": "shared",
                "settings": {"protocol": protocol, "rate": 250, "duration": 60, "seed": 1},
                "started_at": "2025-01-01T00:00:00+00:00", "interrupted": False,
                "ended_at": f"2025-01-01T00:01:0{len(protocol)}+00:00"}  # fmt: skip
        (run / "run.json").write_text(json.dumps(load))
        (run / "summary.csv").write_text("protocol,operation,requests\n")
        if finished:
            (run.parent / "done").touch()
        replicas = "addition=2\ndivision=2\nmultiplication=1\npercentage=1\nsubtraction=2\n"
        (root / namespace / "replicas").write_text(replicas)
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text(FAKE_KUBECTL)
    (bin_dir / "kubectl").chmod(0o755)
    return root


def fetch(
    cluster: Path, out: Path, python: str = sys.executable
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "FAKE_CLUSTER": str(cluster),
        "PATH": f"{cluster / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PYTHON": python,
    }
    return subprocess.run(
        ["bash", str(FETCH), str(out)], capture_output=True, text=True, env=environment, timeout=60
    )


def test_fetched_results_form_a_run_directory_the_analysis_reads(tmp_path: Path) -> None:
    cluster = fake_cluster(tmp_path / "cluster")
    proc = fetch(cluster, tmp_path / "run")
    assert proc.returncode == 0, proc.stderr
    assert f"calcbench report {tmp_path / 'run'}" in proc.stdout
    run = load_run(tmp_path / "run")
    assert [(p.protocol, p.balancing, p.round) for p in run.phases] == [
        ("rest", "shared", 1),
        ("grpc", "shared", 1),
    ]
    assert (run.phases[1].path / "summary.csv").is_file()
    assert run.replicas == 2 and run.settings["rate"] == 250 and not run.partial
    # Each Deployment's own count, not the largest: a one-pod service is never idle.
    assert [run.replicas_of("grpc", s) for s in ("addition", "multiplication")] == [2, 1]
    assert run.meta["ended_at"] == "2025-01-01T00:01:04+00:00"
    assert not (tmp_path / "run" / "incoming").exists()
    assert "cp -c loadgen" in (cluster / "calls").read_text()


def test_a_python_without_calcbench_installed_assembles_from_the_checkout(tmp_path: Path) -> None:
    """The operator's python3 need not have calcbench: `-S` hides every installed package."""
    cluster = fake_cluster(tmp_path / "cluster")
    bare = cluster / "bin" / "bare-python"
    bare.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    bare.chmod(0o755)
    proc = fetch(cluster, tmp_path / "run", python=str(bare))
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in load_run(tmp_path / "run").phases] == [
        "r1-rest-shared",
        "r1-grpc-shared",
    ]


def test_an_unfinished_loadgen_is_a_one_line_error(tmp_path: Path) -> None:
    cluster = fake_cluster(tmp_path / "cluster", finished=False)
    proc = fetch(cluster, tmp_path / "run")
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error: the load generator in rest-calculator")
    assert "cp " not in (cluster / "calls").read_text()


def test_an_existing_output_folder_is_refused(tmp_path: Path) -> None:
    cluster = fake_cluster(tmp_path / "cluster")
    (tmp_path / "run").mkdir()
    proc = fetch(cluster, tmp_path / "run")
    assert proc.returncode == 1 and "already exists" in proc.stderr
