"""`calcbench run` through the real CLI: real stacks, a few seconds per phase."""

from __future__ import annotations

import csv
import itertools
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from loadgen.settings import LoadSettings
from loadgen.workload import requests

# Starts whole stacks: one xdist worker runs every such module, one after the other.
pytestmark = pytest.mark.xdist_group("stacks")

CALCBENCH = [sys.executable, "-m", "calcbench.cli"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLUMNS = {
    "summary.csv": "protocol,operation,requests,ok,errors,success_rate,rps,p50_ms,p90_ms,p95_ms,"
    "p99_ms,p999_ms,max_ms,mean_ms",
    "errors.csv": "protocol,operation,outcome,code,count",
    "services.csv": "protocol,service,replica,success_rate,rps,p50_ms,p95_ms,p99_ms,tcp_conn,"
    "cpu_us_per_request",
    "timeseries.csv": "protocol,operation,second,requests,errors,p50_ms,p99_ms",
    "replicas.csv": "protocol,service,replica,requests",
    "comparison.csv": "metric,operation,rest,grpc,ratio,ci_low,ci_high",
    "calibration.csv": "protocol,client,in_flight,requests,p50_ms,p90_ms,p99_ms,"
    "client_cpu_us_per_request",
    "wire.csv": "protocol,requests,sent_bytes_per_request,received_bytes_per_request",
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # No warm-up, so the client's counts are every request the servers saw.
    out = tmp_path_factory.mktemp("run") / "r"
    command = [*CALCBENCH, "run", "--rounds", "1", "--duration", "3", "--warmup", "0"]
    # A long call timeout: the tests compare exact client and server counts, and a call the
    # client gave up on a busy machine may not have reached its server.
    command += ["--timeout", "10"]
    done = subprocess.run(
        [*command, "--rate", "150", "--out", str(out)], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "LATENCY_P99" in done.stdout and str(out) in done.stdout
    return out


def test_every_file_with_its_columns(short_run: Path) -> None:
    for name, header in COLUMNS.items():
        first_line = (short_run / name).read_text().splitlines()[0]
        assert first_line.startswith(header), name
    for name in ("report.md", "report.html", "run.json"):
        assert (short_run / name).stat().st_size > 0
    charts = list((short_run / "charts").glob("*.png"))
    assert len(charts) >= 7
    for chart in charts:
        assert chart.read_bytes()[:8] == PNG_SIGNATURE
    html = (short_run / "report.html").read_text()
    assert "data:image/png;base64," in html and 'src="charts/' not in html
    run = json.loads((short_run / "run.json").read_text())
    assert run["partial"] is False and len(run["phases"]) == 2


def test_the_default_server_models_are_recorded_and_named(short_run: Path) -> None:
    run = json.loads((short_run / "run.json").read_text())
    assert run["settings"]["server_models"] == {"rest": "lean", "grpc": "sync"}
    report = (short_run / "report.md").read_text()
    assert "Servers: REST lean: uvicorn" in report and "gRPC sync: grpcio" in report


def test_the_calibration_measured_both_protocols_before_the_rounds(short_run: Path) -> None:
    clients = {(r["protocol"], r["client"]) for r in _rows(short_run / "calibration.csv")}
    assert {("rest", "calcbench"), ("grpc", "calcbench")} <= clients
    for protocol, tool in (("rest", "wrk"), ("grpc", "h2load")):
        assert ((protocol, tool) in clients) == (shutil.which(tool) is not None)
    wire = {r["protocol"]: r for r in _rows(short_run / "wire.csv")}
    assert set(wire) == {"rest", "grpc"}
    assert all(float(r["sent_bytes_per_request"]) > 16 for r in wire.values())


def _measured_divisions(settings: LoadSettings) -> tuple[int, int]:
    """(divisions, divisions by zero) among the requests a phase measures: those due in
    [warmup, warmup + duration). The pacer sends nothing due later; earlier is warm-up."""
    end = settings.warmup + settings.duration
    due = itertools.takewhile(lambda r: r.offset < end, requests(settings))
    divisions = [r for r in due if r.offset >= settings.warmup and r.service == "division"]
    return len(divisions), sum(r.op2 == 0 for r in divisions)


def test_success_rates_follow_the_injected_divisions_by_zero(short_run: Path) -> None:
    recorded = json.loads((short_run / "run.json").read_text())["settings"]
    assert (recorded["rate"], recorded["duration"], recorded["warmup"]) == (150, 3, 0)
    fields = ("seed", "div_zero", "rate", "arrivals", "duration", "warmup")
    settings = LoadSettings(
        mix=tuple(recorded["mix"].items()), **{name: recorded[name] for name in fields}
    )
    # The workload is a pure function of these settings, the same for both protocols:
    # every division with op2 = 0 fails (invalid argument), every other request succeeds.
    divisions, by_zero = _measured_divisions(settings)
    assert 0 < by_zero < divisions
    errors = _rows(short_run / "errors.csv")
    for row in _rows(short_run / "summary.csv"):
        rate = float(row["success_rate"])
        if row["operation"] == "division":
            assert (int(row["requests"]), int(row["ok"])) == (divisions, divisions - by_zero)
            assert rate == float(f"{(divisions - by_zero) / divisions:.6g}"), row  # as written
            (failed,) = [e for e in errors if (e["protocol"], e["operation"]) == (
                row["protocol"], "division")]  # fmt: skip
            assert (failed["outcome"], failed["expected"]) == ("invalid_argument", "true")
            assert int(failed["count"]) == by_zero
        elif row["operation"] != "all":
            assert rate == 1.0, row


def test_server_counts_match_what_the_client_sent(short_run: Path) -> None:
    services = _rows(short_run / "services.csv")
    for protocol in ("rest", "grpc"):
        client = {
            r["operation"]: int(r["requests"])
            for r in _rows(short_run / "summary.csv")
            if r["protocol"] == protocol
        }
        server = {r["service"]: int(r["requests"]) for r in services if r["protocol"] == protocol}
        # Percentage calls multiplication, then division (its products never overflow here).
        expected = dict(client)
        expected["multiplication"] += client["percentage"]
        expected["division"] += client["percentage"]
        for service in ("addition", "subtraction", "multiplication", "division", "percentage"):
            assert server[service] == expected[service], (protocol, service)


def _wait_for_completed_phase(run_json: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if run_json.exists():
            phases = json.loads(run_json.read_text())["phases"]
            if any(p["completed"] for p in phases):
                return
        time.sleep(0.2)
    raise AssertionError("no phase completed in time")


def test_sigint_keeps_what_was_measured_and_leaves_no_process(tmp_path: Path) -> None:
    out = tmp_path / "interrupted"
    command = [*CALCBENCH, "run", "--rounds", "2", "--duration", "4", "--warmup", "0"]
    command += ["--no-calibrate"]  # the interrupt comes in a phase; short_run calibrates
    process = subprocess.Popen(
        [*command, "--rate", "100", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    children: list[psutil.Process] = []
    try:
        _wait_for_completed_phase(out / "run.json", process)
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 10  # both stacks are up
        process.send_signal(signal.SIGINT)
        _stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive
    run = json.loads((out / "run.json").read_text())
    assert run["partial"] is True
    assert any(p["completed"] for p in run["phases"])
    assert "partial" in (out / "report.md").read_text().lower()
