"""Run directories shared by the analysis tests: written once per session, reported once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest

from analysis import ReportFiles, build_report
from tests.analysis.fixture import Spec, make_run

matplotlib.use("Agg")

#: The default scenario with a generator-bound phase and a few unexpected errors.
DEFAULT = Spec(rounds=2, unexpected_errors=3, bound_phase="r2-grpc-shared")
BALANCING = Spec(scenario="balancing", replicas=2, rounds=2, rate=150.0, duration=3)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("default") / "run", DEFAULT)


@pytest.fixture(scope="session")
def default_report(default_run: Path) -> Iterator[ReportFiles]:
    yield build_report(default_run)


@pytest.fixture(scope="session")
def balancing_report(tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return build_report(make_run(tmp_path_factory.mktemp("balancing") / "run", BALANCING))
