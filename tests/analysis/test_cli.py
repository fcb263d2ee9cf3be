"""`calcbench report` / `calcbench compare` (and `python -m analysis`) as real subprocesses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.analysis.fixture import Spec, make_run

CALCBENCH = str(Path(sys.executable).parent / "calcbench")
SMALL = Spec(rounds=1, rate=100.0, duration=2)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli")
    return make_run(root / "a", SMALL), make_run(
        root / "b", Spec(rounds=1, rate=100.0, duration=2, seed=9)
    )


def test_report_command_builds_the_report(small_runs: tuple[Path, Path]) -> None:
    done = _run(CALCBENCH, "report", str(small_runs[0]))
    assert done.returncode == 0, done.stderr
    assert "LATENCY_P50" in done.stdout and "gRPC/REST" in done.stdout
    assert f"report: {small_runs[0] / 'report.html'}" in done.stdout
    assert (small_runs[0] / "services.csv").is_file()
    assert len(list((small_runs[0] / "charts").glob("*.png"))) == 7


def test_compare_command_writes_table_and_chart(
    small_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "side-by-side"
    done = _run(
        sys.executable, "-m", "analysis", "compare", *map(str, small_runs), "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "compare.csv")
    assert list(table["run"]) == ["a", "a", "b", "b"]
    assert list(table["protocol"]) == ["rest", "grpc", "rest", "grpc"]
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("command", ["report", "compare"])
def test_not_a_run_directory_is_a_one_line_error(tmp_path: Path, command: str) -> None:
    done = _run(CALCBENCH, command, str(tmp_path / "missing"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "missing: no such directory" in done.stderr
    assert "Traceback" not in done.stderr
