from __future__ import annotations

import pandas as pd
import pytest

from analysis.recovery import recoveries, recovery_findings, recovery_seconds


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
