"""`calcbench load` as a user runs it: a real subprocess against real services."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from calcbench.core.rundir import LOAD_FILES
from loadgen.wakeups import realtime_permitted
from tests.loadgen.conftest import FIVE, LocalStack

LOAD = [sys.executable, "-m", "calcbench.cli", "load"]


def _seconds(series: Path) -> dict[int, int]:
    """Requests per completed second in timeseries.csv; the `all` row is a second's last."""
    if not series.exists():
        return {}
    with series.open(newline="") as file:
        rows = [r for r in csv.DictReader(file) if r["operation"] == "all"]
    return {int(r["second"]): int(r["requests"]) for r in rows}


def _summary_table(stdout: str) -> tuple[list[str], list[list[str]]]:
    """The printed summary table's header and body rows, as cells (rich's box characters:
    "┃" between header cells, "│" between body cells)."""

    def cells(line: str, bar: str) -> list[str]:
        return [cell.strip() for cell in line.strip().strip(bar).split(bar)]

    lines = stdout.splitlines()
    header = next(cells(line, "┃") for line in lines if line.startswith("┃"))
    return header, [cells(line, "│") for line in lines if line.startswith("│")]


def test_load_writes_every_file(stack: LocalStack, tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.json"
    stack.endpoints.dump(endpoints)
    out = tmp_path / "run"
    flags = [
        "--protocol",
        stack.protocol,
        "--endpoints-file",
        str(endpoints),
        "--rate",
        "100",
        "--duration",
        "1",
        "--warmup",
        "0.5",
        "--out",
        str(out),
    ]
    done = subprocess.run([*LOAD, *flags], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == set(LOAD_FILES)
    assert f"results: {out}" in done.stdout
    header, rows = _summary_table(done.stdout)
    assert header[:2] == ["operation", "requests"] and "p99" in header
    assert [row[0] for row in rows] == [*FIVE, "all"]
    assert rows[-1][1] == "100"  # the "all" row counts every measured request
    # Not a terminal: one plain progress line per second, warm-up included.
    assert done.stdout.count(f"{stack.protocol} measure") == 1
    run = json.loads((out / "run.json").read_text())
    assert run["settings"]["rate"] == 100 and run["totals"]["requests"] == 100


@pytest.mark.parametrize("stack", ["grpc"], indirect=True)  # flag parsing is protocol-free
def test_one_service_from_an_endpoint_flag(stack: LocalStack, tmp_path: Path) -> None:
    address = stack.services["addition"].address
    flags = [
        "--protocol",
        stack.protocol,
        "--mix",
        "addition=1",
        "--endpoint",
        f"addition={address}",
        "--concurrency",
        "2",
        "--duration",
        "0.5",
        "--warmup",
        "0",
        "--out",
        str(tmp_path),
    ]
    done = subprocess.run([*LOAD, *flags], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with (tmp_path / "summary.csv").open() as file:
        services = [row["operation"] for row in csv.DictReader(file)]
    assert services == ["addition", "all"]


TO_ADDITION = ["--protocol", "rest", "--mix", "addition=1", "--endpoint", "addition=127.0.0.1:9"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--protocol", "rest", "--rate", "-1"], "--rate must be a number > 0"),
        (["--protocol", "rest", "--mix", "addition=1"], "no endpoint for addition"),
        (["--protocol", "soap"], "--protocol"),
        ([*TO_ADDITION, "--tls"], "--tls: the endpoints name no CA"),
    ],
)
def test_bad_flags_give_one_line(flags: list[str], message: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [*LOAD, *flags, "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin"},
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "x").exists()


def _without_cap_sys_nice() -> list[str]:
    """A command prefix that runs its command without CAP_SYS_NICE (root keeps the rest)."""
    if os.geteuid() != 0:
        return []  # unprivileged already
    return ["setpriv", "--inh-caps=-sys_nice", "--bounding-set=-sys_nice"]


def test_realtime_without_privilege_gives_one_line(tmp_path: Path) -> None:
    command = [*_without_cap_sys_nice(), *LOAD, *TO_ADDITION, "--realtime"]
    done = subprocess.run(
        [*command, "--out", str(tmp_path / "x")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--realtime needs root, CAP_SYS_NICE" in lines[0], done.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("stack", ["grpc"], indirect=True)  # the loop is protocol-free
def test_realtime_run_records_it(stack: LocalStack, tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.json"
    stack.endpoints.dump(endpoints)
    flags = ["--protocol", stack.protocol, "--endpoints-file", str(endpoints), "--rate", "100"]
    flags += ["--duration", "1", "--warmup", "0", "--realtime", "--out", str(tmp_path / "run")]
    done = subprocess.run([*LOAD, *flags], capture_output=True, text=True, timeout=60)
    if not realtime_permitted():  # this machine's user may not: the one-line refusal
        assert done.returncode == 2 and "--realtime needs root" in done.stderr
        return
    assert done.returncode == 0, done.stderr
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["settings"]["realtime"] is True and run["totals"]["requests"] == 100
    assert run["generator"]["lag_ms"]["p99"] is not None


# The interrupt path does not depend on the protocol; one stack is enough.
@pytest.mark.parametrize("stack", ["grpc"], indirect=True)
@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_keeps_what_was_measured(stack: LocalStack, tmp_path: Path, workers: str) -> None:
    endpoints = tmp_path / "endpoints.json"
    stack.endpoints.dump(endpoints)
    out = tmp_path / "run"
    flags = [
        "--protocol",
        "grpc",
        "--endpoints-file",
        str(endpoints),
        "--rate",
        "100",
        "--duration",
        "60",
        "--warmup",
        "0",
        "--workers",
        workers,
        "--out",
        str(out),
    ]
    process = subprocess.Popen(
        [*LOAD, *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        series = out / "timeseries.csv"
        deadline = time.monotonic() + 30  # the services are up: a second completes in ~1 s
        while not (complete := _seconds(series)):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)  # polling the file, not waiting for a race to settle
        process.send_signal(signal.SIGINT)
        # Stopping drains calls in flight (the call timeout plus a second), then the workers
        # hand over their histograms and the report is written: seconds of work that a
        # 2-core machine at load 25 stretched past 15 s once. A hang still fails here.
        stdout, _ = process.communicate(timeout=90)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "interrupted" in stdout
    run = json.loads((out / "run.json").read_text())
    # At least the completed second ran; the signal came within 9 s more of that, however
    # busy the machine (the 60 s run would otherwise say so).
    assert run["interrupted"] is True and 1 <= run["measured_seconds"] < 10
    assert {p.name for p in out.iterdir()} == set(LOAD_FILES)
    with (out / "summary.csv").open() as file:
        requests = int(next(r for r in csv.DictReader(file) if r["operation"] == "all")["requests"])
    # Seconds completed before the signal hold all 100 requests due in them, and the total is
    # the time series' sum (none lost). No request leaves before it is due, so none is counted
    # beyond the latest stop: bounds by construction, not by timing.
    final = _seconds(series)
    assert all(final[second] == 100 for second in complete), final
    assert requests == sum(final.values()) <= 100 * run["measured_seconds"] + 1
