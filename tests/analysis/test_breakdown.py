"""Where the time goes: breakdown.csv from the calibration and the run (pure), and the report."""

from __future__ import annotations

import math
import shutil
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from analysis.breakdown import Inputs, breakdown, explain, value
from analysis.report import build_report
from calcbench.core.rundir import (
    BREAKDOWN_COLUMNS,
    CALIBRATION,
    CALIBRATION_COLUMNS,
    WIRE,
    WIRE_COLUMNS,
)

CALIBRATION_ROWS = [
    ("rest", "calcbench", 1, 5000, 0.30, 0.40, 0.90, 180.0),
    ("rest", "wrk", 1, 20000, 0.08, 0.10, 0.30, 12.0),
    ("grpc", "calcbench", 1, 4000, 0.42, 0.55, 1.20, 230.0),
    ("grpc", "h2load", 1, 9000, 0.14, 0.20, 0.50, 22.0),
]
WIRE_ROWS = [("rest", 4000, 150.0, 170.0), ("grpc", 2000, 80.0, 105.0)]


def _services() -> pd.DataFrame:
    rows = [
        ("rest", "addition", "0", 0.020),
        ("rest", "percentage", "0", 2.020),
        ("grpc", "addition", "0", 0.012),
        ("grpc", "percentage", "0", 3.012),
    ]
    return pd.DataFrame(rows, columns=["protocol", "service", "replica", "p50_ms"])


def _phases() -> pd.DataFrame:
    columns = ["protocol", "requests", "all_requests", "client_cpu_us", "server_cpu_us"]
    rows = [("rest", 100, 110, 50_000, 66_000), ("grpc", 100, 110, 60_000, 99_000)]
    return pd.DataFrame(rows, columns=columns)


def _inputs(calibration: Sequence[tuple[object, ...]] = CALIBRATION_ROWS) -> Inputs:
    return Inputs(
        pd.DataFrame(calibration, columns=list(CALIBRATION_COLUMNS)),
        pd.DataFrame(WIRE_ROWS, columns=list(WIRE_COLUMNS)),
        _services(),
        _phases(),
    )


@pytest.mark.parametrize(
    ("protocol", "component", "expected"),
    [
        ("rest", "native_floor_p50", 0.08),
        ("rest", "client_overhead_p50", 0.22),
        ("grpc", "client_overhead_p50", 0.28),
        ("grpc", "handler_p50", 0.012),
        ("grpc", "percentage_downstream_p50", 3.0),
        ("rest", "client_cpu_per_request", 500.0),
        ("grpc", "server_cpu_per_request", 900.0),
        ("grpc", "native_client_cpu_per_request", 22.0),
        ("rest", "bytes_received_per_request", 170.0),
    ],
)
def test_each_component(protocol: str, component: str, expected: float) -> None:
    frame = breakdown(_inputs())
    assert list(frame.columns) == list(BREAKDOWN_COLUMNS)
    assert value(frame, protocol, component) == pytest.approx(expected)


def test_the_findings_split_the_difference_into_floor_and_client() -> None:
    text = " ".join(explain(breakdown(_inputs())))
    # 0.42 - 0.30 = 0.12 ms: 0.06 from the floor (0.14 - 0.08), 0.06 from the client.
    assert "0.120 ms above REST's" in text
    assert "account for 0.060 ms and calcbench's client for 0.060 ms" in text
    assert "about equally" in text
    assert "REST 150 B out / 170 B back, gRPC 80 / 105 B" in text


def test_without_native_rows_there_is_no_floor_and_no_split() -> None:
    mine_only = [row for row in CALIBRATION_ROWS if row[1] == "calcbench"]
    frame = breakdown(_inputs(mine_only))
    assert math.isnan(value(frame, "rest", "native_floor_p50"))
    assert value(frame, "rest", "calcbench_p50") == pytest.approx(0.30)
    assert not any("account for" in line for line in explain(frame))


def test_no_calibration_no_breakdown() -> None:
    assert breakdown(_inputs([])).empty and explain(breakdown(_inputs([]))) == []


def test_the_report_has_the_breakdown_of_a_calibrated_run(
    default_run: Path, tmp_path: Path
) -> None:
    run = shutil.copytree(default_run, tmp_path / "run")
    report = build_report(run)
    assert "breakdown" not in report.csvs
    assert "Not calibrated" in report.markdown.read_text()
    pd.DataFrame(CALIBRATION_ROWS, columns=list(CALIBRATION_COLUMNS)).to_csv(
        run / CALIBRATION, index=False
    )
    pd.DataFrame(WIRE_ROWS, columns=list(WIRE_COLUMNS)).to_csv(run / WIRE, index=False)
    report = build_report(run)
    written = pd.read_csv(report.csvs["breakdown"])
    assert list(written.columns) == list(BREAKDOWN_COLUMNS) and len(written) >= 18
    markdown = report.markdown.read_text()
    assert "Where the time goes" in markdown and "schedule lag" in markdown
    assert report.charts["time_breakdown"].read_bytes()[:4] == b"\x89PNG"
