"""`--fault kill-replica` and `--fault error-rate` through the real CLI (with a replica that dies
between phases too), and the run's exits on SIGTERM mid-run and SIGINT during start-up: exit
status, run.json, the killed replicas' server figures, and no process left."""

from __future__ import annotations

import csv
import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

# Starts whole stacks: one xdist worker runs every such module, one after the other.
pytestmark = pytest.mark.xdist_group("stacks")

CALCBENCH = [sys.executable, "-m", "calcbench.cli"]
ERROR_RATE = 0.2
SHORT = ["run", "--rounds", "1", "--warmup", "0", "--no-calibrate", "--timeout", "10"]
# The models that are not the defaults (test_run_e2e runs those): faults meet each model.
MODELS = ["--rest-server-model", "fastapi", "--grpc-server-model", "aio"]
FAULTS = [
    "--fault",
    "kill-replica=addition:0@1.5",
    "--fault",
    f"error-rate=subtraction:{ERROR_RATE}",
]


@dataclass
class Watched:
    """A `calcbench run` subprocess and every process it started, seen while it ran."""

    process: subprocess.Popen[str]
    seen: dict[int, psutil.Process] = field(default_factory=dict)
    commands: dict[int, list[str]] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""

    def look(self) -> None:
        # Restarted replicas are new pids: look until the run exits, not once.
        try:
            for child in psutil.Process(self.process.pid).children(recursive=True):
                if self.seen.setdefault(child.pid, child) is child:
                    self.commands[child.pid] = child.cmdline()
        except psutil.NoSuchProcess:
            pass

    def left_alive(self) -> list[psutil.Process]:
        _gone, alive = psutil.wait_procs(list(self.seen.values()), timeout=10)
        return alive


def _watch(command: list[str], until: Callable[[Watched], bool] = lambda w: False) -> Watched:
    """Run `command`, recording its process tree every 0.1 s; once `until` holds, return the
    watched run still going (the caller signals it) or, when it never holds, finished."""
    process = subprocess.Popen(
        [*CALCBENCH, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    watched = Watched(process)
    deadline = time.monotonic() + 180
    while process.poll() is None and time.monotonic() < deadline:
        watched.look()
        if until(watched):
            return watched
        time.sleep(0.1)
    return _finish(watched)


def _finish(watched: Watched) -> Watched:
    """Wait for the run to exit (killing it after 90 s), still recording its processes."""
    stop = threading.Event()

    def keep_looking() -> None:
        while not stop.wait(0.1):
            watched.look()

    looker = threading.Thread(target=keep_looking, daemon=True)
    looker.start()
    try:
        watched.stdout, watched.stderr = watched.process.communicate(timeout=90)
    finally:
        stop.set()
        looker.join()
        if watched.process.poll() is None:
            watched.process.kill()
            watched.process.communicate()
    return watched


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _replica(watched: Watched, protocol: str, replica: str) -> psutil.Process:
    (found,) = [
        p
        for p in watched.seen.values()
        if f"calculator_{protocol}" in (cmd := p.cmdline()) and replica in cmd
    ]
    return found


def _first_phase_only(out: Path) -> Callable[[Watched], bool]:
    """True once the first phase (REST's) has begun, before the second (gRPC's)."""
    return lambda _: (out / "phases/r1-rest-shared").is_dir()


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Watched]]:
    out = tmp_path_factory.mktemp("faults") / "r"
    command = [*SHORT, "--duration", "4", "--rate", "100", *MODELS, *FAULTS, "--out", str(out)]
    watched = _watch(command, until=_first_phase_only(out))
    # The gRPC stack idles through REST's 4 s: its addition-0 dies between gRPC's phases.
    assert not (out / "phases/r1-grpc-shared").exists(), watched.stderr
    _replica(watched, "grpc", "addition-0").kill()
    yield out, _finish(watched)


def test_the_run_completes_and_leaves_no_process(fault_run: tuple[Path, Watched]) -> None:
    _out, watched = fault_run
    assert watched.process.returncode == 0, watched.stderr + watched.stdout
    # 5 services x 2 stacks, plus the two killed addition replicas and gRPC's dead one again.
    assert len(watched.seen) >= 13
    assert not watched.left_alive()


def test_each_stack_ran_the_server_model_asked_and_the_report_names_it(
    fault_run: tuple[Path, Watched],
) -> None:
    out, watched = fault_run
    for protocol, model in (("rest", "fastapi"), ("grpc", "aio")):
        replicas = [c for c in watched.commands.values() if f"calculator_{protocol}" in c]
        assert replicas and all(f"--server-model {model}" in " ".join(c) for c in replicas)
    # REST percentage's downstream budget is the run's --timeout (gRPC passes its deadline on).
    rest_percentage = ["calculator_rest", "percentage"]
    (percentage,) = [c for c in watched.commands.values() if c[2:4] == rest_percentage]
    assert " --downstream-timeout 10.0" in " ".join(percentage)
    assert json.loads((out / "run.json").read_text())["settings"]["server_models"] == {
        "rest": "fastapi",
        "grpc": "aio",
    }
    report = (out / "report.md").read_text()
    assert "Servers: REST fastapi: uvicorn" in report and "gRPC aio: grpc.aio" in report


def test_one_kill_per_phase_is_recorded(fault_run: tuple[Path, Watched]) -> None:
    out, _ = fault_run
    events = json.loads((out / "run.json").read_text())["fault_events"]
    kills = [e for e in events if e["kind"] == "kill"]
    assert sorted((e["phase"], e["protocol"], e["replica"]) for e in kills) == [
        ("r1-grpc-shared", "grpc", "addition-0"),
        ("r1-rest-shared", "rest", "addition-0"),
    ]
    for event in kills:
        # Armed by the first progress report (1 s in), due at 1.5 s: late only by scheduling.
        assert 1.5 <= event["second"] < 2.5
        assert event["restarted_in"] is not None
        assert event["server_figures"] == "spliced"  # read just before the kill


def test_a_replica_dead_between_phases_is_restarted_before_the_next(
    fault_run: tuple[Path, Watched],
) -> None:
    out, _ = fault_run
    meta = json.loads((out / "run.json").read_text())
    (died,) = [e for e in meta["fault_events"] if e["kind"] == "died"]
    assert died.pop("restarted_in") > 0
    assert died == {
        "phase": "r1-grpc-shared",
        "protocol": "grpc",
        "kind": "died",
        "replica": "addition-0",
        "second": None,
        "server_figures": "whole",
    }
    assert any("addition-0 had exited by itself before" in w for w in meta["warnings"])


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_a_killed_replicas_server_figures_span_both_its_processes(
    fault_run: tuple[Path, Watched], protocol: str
) -> None:
    out, _ = fault_run
    server = json.loads((out / f"phases/r1-{protocol}-shared/server.json").read_text())
    rows = {row["replica"]: row for row in server["replicas"]}
    for row in rows.values():
        assert min(row["requests"].values()) >= 0 and row["cpu_seconds"] >= 0, row
    killed = rows["addition-0"]
    assert (killed["restarts"], killed["partial"]) == (1, False)
    # The client counts every answer it got from addition; the server side, what the old
    # process had answered by the reading just before the kill plus all the new one did. They
    # differ only by the answers lost with the process or given in the moment between.
    (client,) = [
        r
        for r in _rows(out / "summary.csv")
        if (r["protocol"], r["operation"]) == (protocol, "addition")
    ]
    assert abs(killed["requests"]["ok"] - int(client["ok"])) <= 2, (killed, client)
    (service,) = [
        r
        for r in _rows(out / "services.csv")
        if (r["protocol"], r["replica"]) == (protocol, "addition-0")
    ]
    assert float(service["cpu_us_per_request"]) > 0 and float(service["requests"]) >= 0


def test_the_killed_replica_is_unavailable_and_the_failing_one_errs(
    fault_run: tuple[Path, Watched],
) -> None:
    out, _ = fault_run
    errors = {(r["protocol"], r["operation"], r["outcome"]) for r in _rows(out / "errors.csv")}
    for protocol in ("rest", "grpc"):
        assert (protocol, "subtraction", "server_error") in errors
    # REST's calls find the port closed for the half second its restart takes. gRPC's need not
    # fail: the first call after the kill makes the channel reconnect, and when the replica is
    # already back (its restart takes 0.2 s on a quiet machine) it succeeds (seen: 1 run in 4).
    assert ("rest", "addition", "unavailable") in errors


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_server_errors_are_the_seeded_draw(fault_run: tuple[Path, Watched], protocol: str) -> None:
    out, _ = fault_run
    # One subtraction replica, seeded with its id, draws once per call it receives; nothing
    # but the client calls subtraction, no warm-up, and the 10 s call timeout means every call
    # the client counts reached it. So the n calls fail exactly where the first n draws fall
    # below the rate, in both protocols alike.
    (summary,) = [
        r
        for r in _rows(out / "summary.csv")
        if (r["protocol"], r["operation"]) == (protocol, "subtraction")
    ]
    draw = random.Random("subtraction-0").random
    expected = sum(draw() < ERROR_RATE for _ in range(int(summary["requests"])))
    server_errors = sum(
        int(r["count"])
        for r in _rows(out / "errors.csv")
        if (r["protocol"], r["operation"], r["outcome"])
        == (protocol, "subtraction", "server_error")
    )
    assert 0 < server_errors == expected < int(summary["requests"])


def _measuring(out: Path) -> Callable[[Watched], bool]:
    """True once the first phase has written its first file: the load is running."""
    return lambda _: any((out / "phases").glob("*/*"))


def test_sigterm_mid_run_exits_143_and_leaves_no_process(tmp_path: Path) -> None:
    out = tmp_path / "terminated"
    command = [*SHORT, "--duration", "6", "--rate", "50", "--out", str(out)]
    watched = _watch(command, until=_measuring(out))
    assert watched.process.poll() is None, watched.stderr
    time.sleep(1)  # into the measured seconds
    watched.process.send_signal(signal.SIGTERM)
    watched = _finish(watched)
    assert watched.process.returncode == 128 + signal.SIGTERM, watched.stderr
    assert "Traceback" not in watched.stderr
    assert json.loads((out / "run.json").read_text())["partial"] is True
    assert len(watched.seen) >= 10 and not watched.left_alive()


def test_sigint_during_start_up_exits_130_and_leaves_no_process(tmp_path: Path) -> None:
    out = tmp_path / "interrupted"
    command = [*SHORT, "--duration", "4", "--rate", "50", "--out", str(out)]
    # The run directory is made before the stacks start: signal while they boot.
    watched = _watch(command, until=lambda _: (out / "run.json").exists())
    assert watched.process.poll() is None, watched.stderr
    watched.process.send_signal(signal.SIGINT)
    watched = _finish(watched)
    assert watched.process.returncode == 128 + signal.SIGINT, watched.stderr
    assert "Traceback" not in watched.stderr
    assert out.is_dir() and json.loads((out / "run.json").read_text())["partial"] is True
    assert not list((out / "phases").iterdir())
    assert not watched.left_alive()


def test_the_report_says_which_errors_the_faults_caused(fault_run: tuple[Path, Watched]) -> None:
    out, _ = fault_run
    lines = [
        line for line in (out / "report.md").read_text().splitlines() if "errors (code" in line
    ]
    caused = [line for line in lines if "subtraction" in line and "server_error" in line]
    assert caused and all(
        f"from the injected error-rate=subtraction:{ERROR_RATE:g}." in line for line in caused
    )
    assert not any("subtraction" in line and "division by zero" in line for line in lines)
