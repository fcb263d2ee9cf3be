"""`calcbench k8s deploy`, `bench` and `delete` against a stand-in `kubectl` on PATH (no API
server runs here): what they ask the cluster, in which order, what they bring back, and the one
`error:` line each gives when something is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis.compute import analyse
from analysis.report import compare_runs
from analysis.rundir import load_run
from calcbench.orchestration.k8s.bench import BenchFailed, BenchSettings, bench
from calcbench.orchestration.k8s.cluster import Waits
from calcbench.orchestration.k8s.kubectl import Kubectl
from loadgen.settings import LoadSettings
from tests.k8s import fake_kubectl
from tests.k8s.loads import generator_log
from tests.k8s.manifests import NAMESPACES, situation

REPO = Path(__file__).resolve().parents[2]
LOAD = LoadSettings(rate=100.0, duration=4.0, warmup=1.0)
FAST = Waits(rollout=30.0, poll=0.01, delete=30.0)


def pod_names(protocol: str, balancing: str) -> dict[str, list[str]]:
    """Who answers the made-up generators: in shared mode the first pod of each service only."""
    two = {"addition", "subtraction", "division"}
    return {
        s: [f"{s}-0", f"{s}-1"] if s in two and balancing == "round-robin" else [f"{s}-0"]
        for s in ("addition", "subtraction", "multiplication", "division", "percentage")
    }


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A pretend cluster whose generator pods (two per Job) left results in their logs."""
    root = tmp_path / "cluster"
    for protocol, namespace in NAMESPACES.items():
        (root / "logs" / namespace).mkdir(parents=True)
        for index in range(2):
            log = generator_log(
                tmp_path / "work", index, protocol, "shared", pod_names(protocol, "shared")
            )
            (root / "logs" / namespace / f"{index}.log").write_text(log)
    fake_kubectl.install(root / "bin")
    monkeypatch.setenv("FAKE_CLUSTER", str(root))
    monkeypatch.setenv("PATH", f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}")
    yield root


def verbs(root: Path) -> list[str]:
    """Each call as its verb and object: `apply`, `get deployments`, `get job`..."""
    found = []
    for argv in fake_kubectl.calls(root):
        words = [a for a in argv if not a.startswith("-")]
        if argv[:2] == ["get", "--raw"]:
            found.append("get raw " + argv[2].split("/")[-1])
        elif words[0] in ("get", "delete", "logs"):
            found.append(" ".join(words[:2]))
        else:
            found.append(words[0])
    return found


def test_bench_deploys_measures_each_stack_with_the_job_and_deletes(
    cluster: Path, tmp_path: Path
) -> None:
    settings = BenchSettings((situation(generators=2),), LOAD, tmp_path / "out", 0.0, FAST)
    (run_dir,) = bench(Kubectl(), settings, lambda _line: None)
    calls = verbs(cluster)
    first = calls.index
    # Applied, then rolled out, then the headless Services checked, before any Job.
    assert first("apply") < first("get deployments") < first("get endpointslices")
    jobs = [i for i, c in enumerate(calls) if c == "apply"][1:]
    assert len(jobs) == 2  # one Job per stack, the second after the first was deleted
    rest_job, grpc_job = jobs
    assert first("get endpointslices") < rest_job
    between = calls[rest_job:grpc_job]
    assert (
        between.index("get job") < between.index("logs loadgen-0-x") < between.index("delete job")
    )
    assert calls.count("logs loadgen-0-x") == calls.count("logs loadgen-1-x") == 2
    # Metrics scraped around each Job: before it was applied and after it completed.
    assert "get raw metrics" in calls[:rest_job][-3:] and "get raw metrics" in between
    assert calls[-3:] == ["delete namespace", "get namespace", "get namespace"]

    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["situation"]["mesh"] == "none" and meta["situation"]["generators"] == 2
    assert meta["situation"]["replicas"]["multiplication"] == 1
    assert [p["name"] for p in meta["phases"]] == [
        "r1-rest-shared-unmeshed",
        "r1-grpc-shared-unmeshed",
    ]
    assert meta["settings"]["service_replicas"]["grpc"] == {
        "addition": 2, "division": 2, "multiplication": 1, "percentage": 1, "subtraction": 2,
    }  # fmt: skip
    assert not meta["partial"] and meta["host"]["cpu_count"] == 4
    phase = run_dir / "phases" / "r1-grpc-shared-unmeshed"
    merged = json.loads((phase / "run.json").read_text())
    assert merged["totals"]["requests"] == 400 and len(merged["generators"]) == 2
    server = json.loads((phase / "server.json").read_text())
    assert {r["replica"] for r in server["replicas"]} >= {
        "addition-0",
        "addition-1",
        "percentage-0",
    }
    assert all(r["cpu_seconds"] > 0 for r in server["replicas"])
    assert (run_dir / "generators" / "r1-grpc-shared-unmeshed" / "1" / "pod.json").is_file()

    analysis = analyse(load_run(run_dir))
    idle = analysis.balancing.set_index(["protocol", "service"])["idle_replicas"]
    assert idle[("grpc", "addition")] == 1  # pinned: the fake's addition-1 served nothing
    assert idle[("grpc", "multiplication")] == 0 and idle[("grpc", "percentage")] == 0


def test_a_failed_job_says_why_and_what_stays_applied(
    cluster: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_JOB_FAILS", "1")
    settings = BenchSettings((situation("grpc"),), LOAD, tmp_path / "out", 0.0, FAST)
    with pytest.raises(BenchFailed) as caught:
        bench(Kubectl(), settings, lambda _line: None)
    message = str(caught.value)
    assert "BackoffLimitExceeded" in message and "resolves to 1 address(es), not 2" in message
    assert (
        "grpc-calculator stay applied; `calcbench k8s delete --stack grpc` removes them" in message
    )
    assert json.loads((tmp_path / "out" / "unmeshed-shared" / "run.json").read_text())["partial"]
    assert "delete namespace" not in verbs(cluster)


def test_a_situation_that_cannot_be_deployed_leaves_nothing_behind(
    cluster: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NO_LINKERD", "1")
    chosen = (situation("grpc", "none"), situation("grpc", "linkerd"))
    settings = BenchSettings(chosen, LOAD, tmp_path / "out", 0.0, FAST)
    with pytest.raises(BenchFailed, match="needs Linkerd") as caught:
        bench(Kubectl(), settings, lambda _line: None)
    assert "stay applied" not in str(caught.value)  # nothing of it was
    assert caught.value.completed == [tmp_path / "out" / "unmeshed-shared"]  # reported anyway
    assert verbs(cluster).count("apply") == 2  # the unmeshed situation and its Job only
    assert not (tmp_path / "out" / "linkerd-shared").exists()


def test_without_the_pod_proxy_a_phase_has_no_server_side_and_says_so(
    cluster: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NO_POD_PROXY", "1")
    settings = BenchSettings((situation("grpc"),), LOAD, tmp_path / "out", 0.0, FAST)
    (run_dir,) = bench(Kubectl(), settings, lambda _line: None)
    meta = json.loads((run_dir / "run.json").read_text())
    assert (
        not meta["partial"]
        and not (run_dir / "phases" / meta["phases"][0]["name"] / "server.json").exists()
    )
    assert any(
        "no server-side metrics for this phase" in w and "forbidden" in w for w in meta["warnings"]
    )


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from calcbench.cli import main; main()", "k8s", *args],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**env, "COLUMNS": "200", "NO_COLOR": "1"},
    )  # fmt: skip


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return errors[0]


def test_without_kubectl_nothing_runs(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    line = one_error_line(cli("deploy", env={**os.environ, "PATH": str(empty)}))
    assert line.startswith("error: kubectl is not on PATH")


@pytest.mark.parametrize(
    ("knob", "args", "expected", "applied"),
    [
        (
            "FAKE_NO_ACCESS",
            ("deploy",),
            "error: no cluster access: kubectl get --raw /version failed: The connection",
            False,
        ),
        (
            "FAKE_NO_LINKERD",
            ("deploy", "--mesh", "linkerd"),
            "--mesh linkerd needs Linkerd in the cluster",
            False,
        ),
        (
            "FAKE_ROLLOUT_FAIL",
            ("deploy",),
            'deployment "division" exceeded its progress deadline',
            True,
        ),
        (
            "FAKE_NO_INJECTOR",
            ("deploy", "--mesh", "linkerd"),
            "lacks Linkerd's proxy (linkerd-shared)",
            True,
        ),
    ],
)
def test_a_missing_piece_is_one_error_line_that_says_what_stays_applied(
    cluster: Path, knob: str, args: tuple[str, ...], expected: str, applied: bool
) -> None:
    line = one_error_line(cli(*args, env={**os.environ, knob: "division"}))
    assert expected in line
    assert ("stay applied; `calcbench k8s delete --stack both` removes them" in line) == applied
    assert ("apply" in verbs(cluster)) == applied


def test_deploy_then_delete_waits_until_gone(cluster: Path) -> None:
    proc = cli("deploy", "--mesh", "linkerd-unmeshed-client", env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert "deployed: linkerd-unmeshed-client-shared" in proc.stdout
    proc = cli("delete", env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    calls = verbs(cluster)
    assert calls[-3:] == ["delete namespace", "get namespace", "get namespace"]
    deleted = fake_kubectl.calls(cluster)[-3]
    assert {"rest-calculator", "grpc-calculator", "--wait=true"} <= set(deleted)


def test_the_bench_command_measures_each_mesh_in_turn_and_compares(
    cluster: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    proc = cli(
        "bench", "--stack", "grpc", "--mesh", "none,linkerd", "--generators", "2",
        "--rate", "100", "--duration", "4", "--warmup", "1", "--start-delay", "0",
        "--out", str(out), env=dict(os.environ),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    calls = verbs(cluster)
    deletes = [i for i, c in enumerate(calls) if c == "delete namespace"]
    applies = [i for i, c in enumerate(calls) if c == "apply"]
    # unmeshed: applied, measured, deleted; then Linkerd checked, applied, measured, deleted
    assert len(deletes) == 2 and len(applies) == 4
    assert applies[1] < deletes[0] < calls.index("get deployment") < applies[2] < deletes[1]
    assert (out / "unmeshed-shared" / "report.html").is_file()
    linkerd = json.loads((out / "linkerd-shared" / "run.json").read_text())
    assert linkerd["phases"][0]["name"] == "r1-grpc-shared-linkerd"
    assert (out / "linkerd-shared" / "report.md").is_file()
    compare = (out / "compare" / "compare.csv").read_text()
    assert "unmeshed-shared" in compare and "linkerd-shared" in compare
    # Runs are labelled by the situation they recorded, wherever their folders are.
    moved = [tmp_path / "a" / "run", tmp_path / "b" / "run"]
    for source, target in zip(("unmeshed-shared", "linkerd-shared"), moved, strict=True):
        shutil.copytree(out / source, target)
    table = compare_runs(moved, tmp_path / "compared")
    assert list(dict.fromkeys(table["run"])) == ["unmeshed-shared", "linkerd-shared"]
