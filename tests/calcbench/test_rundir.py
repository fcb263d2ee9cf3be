"""The run directory's format: phase names both ways, run.json's phase entries, CSV cells."""

from __future__ import annotations

import pytest

from calcbench.core.rundir import (
    LATENCY_COLUMNS,
    PERCENTILES,
    PhaseName,
    cell,
    parse_phase_name,
    phase_entry,
    phase_name,
)


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("r1-rest-shared", PhaseName(1, "rest", "shared")),
        ("r2-grpc-round-robin", PhaseName(2, "grpc", "round-robin")),
        ("r12-rest-ewma", PhaseName(12, "rest", "ewma")),
        ("r1-grpc-shared-tls", PhaseName(1, "grpc", "shared", True)),
        ("r3-rest-round-robin-tls", PhaseName(3, "rest", "round-robin", True)),
    ],
)
def test_phase_names_parse_back(name: str, parsed: PhaseName) -> None:
    assert parse_phase_name(name) == parsed
    assert phase_name(*parsed) == name


@pytest.mark.parametrize(
    "name", ["", "r0-rest-shared", "1-rest-shared", "r1-http-shared", "r1-rest"]
)
def test_other_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a phase name"):
        parse_phase_name(name)


def test_phase_entry_is_what_run_json_lists() -> None:
    assert phase_entry(3, "grpc", "round-robin", completed=False) == {
        "round": 3,
        "protocol": "grpc",
        "balancing": "round-robin",
        "name": "r3-grpc-round-robin",
        "dir": "phases/r3-grpc-round-robin",
        "completed": False,
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (True, "true"), (False, "false"), (0.1234567, 0.123457), (7, 7), ("400", "400")],
)
def test_cells(value: object, text: object) -> None:
    assert cell(value) == text


def test_latency_columns_follow_the_percentiles() -> None:
    assert LATENCY_COLUMNS == (
        "p50_ms",
        "p90_ms",
        "p95_ms",
        "p99_ms",
        "p999_ms",
        "max_ms",
        "mean_ms",
    )
    assert PERCENTILES["p999_ms"] == 99.9


def test_a_tls_phase_entry_says_so() -> None:
    entry = phase_entry(1, "rest", "shared", completed=True, tls=True)
    assert entry["tls"] is True and entry["dir"] == "phases/r1-rest-shared-tls"
