from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.compute import analyse
from analysis.findings import fault_findings, warnings
from analysis.recovery import recoveries, recovery_findings, recovery_seconds
from analysis.rundir import load_run
from tests.analysis.fixture import Spec, make_run


@pytest.mark.parametrize(
    ("errors", "kill", "expected"),
    [
        ([0, 4, 32, 19, 0, 0], 1.5, 2.5),  # back to zero in second 4
        ([0, 4, 32, 19], 1.5, None),  # never back within the phase
        ([2, 3, 9, 2, 1], 2.2, 0.8),  # back to the earlier level (3), not zero
        ([5, 0, 0], 0.4, 0.6),  # killed in second 0: nothing before, level 0
        ([0, 0, 0, 0], 1.5, 0.5),  # no error at all: the next whole second
    ],
)
def test_recovery_seconds(errors: list[int], kill: float, expected: float | None) -> None:
    got = recovery_seconds(pd.Series(errors, dtype=float), kill)
    assert got == (None if expected is None else pytest.approx(expected))


def test_recoveries_read_the_killed_services_operation() -> None:
    rows = [
        ("rest", op, s, e)
        for op, errs in (("addition", [0, 3, 9, 0]), ("all", [1, 5, 12, 1]))
        for s, e in enumerate(errs)
    ]
    timeseries = pd.DataFrame(rows, columns=["protocol", "operation", "second", "errors"])
    timeseries["round"], timeseries["balancing"] = 1, "shared"
    phases = pd.DataFrame(
        [{"phase": "r1-rest-shared", "round": 1, "balancing": "shared", "protocol": "rest"}]
    )
    events = [
        {"phase": "r1-rest-shared", "replica": "addition-0", "second": 1.5, "restarted_in": 1.2}
    ]
    table = recoveries(timeseries, phases, events)
    assert table["recovered_in"].tolist() == [pytest.approx(1.5)]
    (sentence,) = recovery_findings(table)
    assert sentence.startswith("REST time to recovery: addition-0 killed 1.5 s")
    assert "1.5 s after the kill" in sentence and "new connection" in sentence


def test_the_report_says_which_server_figures_are_partial(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", Spec(rounds=1))
    server = json.loads((run / "phases/r1-rest-shared/server.json").read_text())
    server["replicas"][0] |= {"restarts": 1, "partial": True}
    (run / "phases/r1-rest-shared/server.json").write_text(json.dumps(server))
    meta = json.loads((run / "run.json").read_text())
    died = {"kind": "died", "second": 1.2, "restarted_in": 0.5, "server_figures": "partial"}
    killed = {"kind": "kill", "second": 2.0, "restarted_in": 0.6, "server_figures": "spliced"}
    # Died before the phase (no second): restarted before its first reading, not a marker.
    before = {"kind": "died", "second": None, "restarted_in": 0.5, "server_figures": "whole"}
    meta["fault_events"] = [
        {"phase": "r1-rest-shared", "protocol": "rest", "replica": "addition-0", **died},
        {"phase": "r1-grpc-shared", "protocol": "grpc", "replica": "addition-0", **killed},
        {"phase": "r1-grpc-shared", "protocol": "grpc", "replica": "division-0", **before},
    ]
    (run / "run.json").write_text(json.dumps(meta))
    a = analyse(load_run(run))
    replica = server["replicas"][0]["replica"]
    assert any(
        w.startswith(f"r1-rest-shared: the server figures of {replica} cover only part")
        for w in warnings(a)
    )
    found = " ".join(fault_findings(a))
    assert "addition-0 died 1.2 s into r1-rest-shared" in found
    assert "addition-0 killed 2.0 s into r1-grpc-shared" in found
    assert "division-0" not in found
    assert "add up its two processes" in found


def test_no_recovery_sentence_for_events_between_phases_only() -> None:
    phases = pd.DataFrame(
        [{"phase": "r1-rest-shared", "round": 1, "balancing": "shared", "protocol": "rest"}]
    )
    events = [{"phase": "r1-rest-shared", "replica": "addition-0", "second": None}]
    assert recovery_findings(recoveries(pd.DataFrame(), phases, events)) == []
