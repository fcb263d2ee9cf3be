"""The calibration: calcbench's closed loop and the native tools against a real `addition`."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from calcbench.core.endpoints import Endpoints
from calcbench.core.rundir import CALIBRATION_COLUMNS
from calcbench.orchestration import native
from calcbench.orchestration.calibration import (
    calibrate,
    missing_tools,
    write_calibration,
)
from tests.tools import required_tool

SECONDS = 1.0


def test_the_native_tool_measures_the_floor(addition: Endpoints, tmp_path: Path) -> None:
    tool = native.TOOLS[addition.protocol]  # type: ignore[index]
    required_tool(tool, f"the {addition.protocol} floor needs it (Debian: {native.PACKAGES[tool]})")
    address = addition.services["addition"].address
    floor = native.measure(addition.protocol, address, SECONDS, tmp_path)
    assert floor.client == tool and floor.requests > 0
    assert 0 < floor.p50_ms <= floor.p90_ms <= floor.p99_ms
    assert floor.client_cpu_us_per_request > 0


def test_calibration_rows_and_file(addition: Endpoints, tmp_path: Path) -> None:
    rows = calibrate(addition.protocol, addition, tmp_path, SECONDS)
    clients = [row.client for row in rows]
    tool = native.available(addition.protocol)
    assert clients == ["calcbench"] + ([tool] if tool else [])
    for row in rows:
        assert (row.protocol, row.in_flight) == (addition.protocol, 1) and row.requests > 0
        assert 0 < row.p50_ms <= row.p90_ms <= row.p99_ms
    write_calibration(tmp_path / "calibration.csv", rows)
    with (tmp_path / "calibration.csv").open(newline="") as handle:
        written = list(csv.DictReader(handle))
    assert list(written[0]) == list(CALIBRATION_COLUMNS)
    assert [r["client"] for r in written] == clients


def test_without_the_tools_only_calcbench_is_measured_and_the_packages_are_named(
    addition: Endpoints, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no wrk, no h2load
    assert missing_tools() == {"rest": "wrk", "grpc": "nghttp2-client"}
    rows = calibrate(addition.protocol, addition, tmp_path, SECONDS)
    assert [row.client for row in rows] == ["calcbench"]
