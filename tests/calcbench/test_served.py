"""What a replica served in a phase across restarts: the phase diff, as a table of lives."""

from __future__ import annotations

import pytest

from calcbench.orchestration.phase import Member, server_report
from calcbench.orchestration.scrape import Reading, Scrape
from calcbench.orchestration.served import Restart, served


def _at(ok: float, errors: float = 0.0, cpu: float = 0.0) -> Reading:
    """A replica process whose counters show `ok` and `errors` answers and `cpu` seconds."""
    total = ok + errors
    scrape = Scrape(
        requests={"ok": ok, "server_error": errors},
        buckets={"0.001": total, "+Inf": total},
        sum_seconds=total * 0.0005,
        count=total,
    )
    return Reading(scrape, cpu)


def _restart(last: Reading | None, ready_cpu: float = 0.3) -> Restart:
    kind = "died" if last is None else "kill"
    return Restart("addition-0", kind, last, ready_cpu, pid=4242, seconds=0.5)


# Each case: the reading before, the restarts, the reading after (of the latest process); the
# ok answers, errors, CPU seconds the phase gets, and whether it is partial.
CASES = {
    "no restart: after - before": (_at(100, 2, 10.0), [], _at(160, 3, 10.5), (60, 1, 0.5, False)),
    # Killed at ok=130: 30 before the kill, and the new process's 25 from 0; its CPU from
    # its ready line (0.3 s of start-up are not serving).
    "killed, read just before": (
        _at(100, 2, 10.0),
        [_restart(_at(130, 2, 10.2))],
        _at(25, 1, 0.4),
        (55, 1, 0.3, False),
    ),
    # Died by itself: what it served since the reading before is lost; the new process's is
    # counted, and the figures say they are partial.
    "died, its counters lost": (
        _at(100, 2, 10.0),
        [_restart(None)],
        _at(25, 1, 0.4),
        (25, 1, 0.1, True),
    ),
    "killed twice": (
        _at(100, 0, 10.0),
        [_restart(_at(110, 0, 10.1)), _restart(_at(5, 0, 0.35))],
        _at(7, 0, 0.32),
        (10 + 5 + 7, 0, 0.1 + 0.05 + 0.02, False),
    ),
    # Nobody said: the counters went down, so the process started again from 0 (a pod's
    # container restarted). Counted from 0, start-up CPU and all, and partial.
    "a reset nobody announced": (_at(100, 2, 10.0), [], _at(25, 1, 0.4), (25, 1, 0.4, True)),
}


@pytest.mark.parametrize(("before", "restarts", "after", "expected"), CASES.values(), ids=CASES)
def test_a_phase_adds_up_every_process_of_the_replica(
    before: Reading,
    restarts: list[Restart],
    after: Reading,
    expected: tuple[float, float, float, bool],
) -> None:
    ok, errors, cpu, partial = expected
    window = served(before, after, restarts)
    assert window.scrape.requests == {"ok": ok, "server_error": errors}
    assert window.scrape.count == ok + errors
    assert window.scrape.buckets == {"0.001": ok + errors, "+Inf": ok + errors}
    assert window.cpu_seconds == pytest.approx(cpu)
    assert window.partial is partial


def test_server_json_never_holds_a_negative_count_or_cpu() -> None:
    # What a kill did before: the restarted process's counters and CPU, less the old one's.
    group = [Member("addition", "addition-0", "", None), Member("addition", "addition-1", "", 1)]
    before = {"addition-0": _at(900, 9, 40.0), "addition-1": _at(900, 9, 40.0)}
    after = {"addition-0": _at(20, 0, 0.5), "addition-1": _at(950, 9, 40.2)}
    killed = Restart("addition-0", "kill", _at(930, 9, 40.1), 0.45, pid=7, seconds=0.6)
    report = server_report(group, before, after, {}, 4.0, [killed])
    rows = {row["replica"]: row for row in report["replicas"]}
    assert rows["addition-0"]["requests"] == {"ok": 50, "server_error": 0}
    assert rows["addition-0"]["cpu_seconds"] == pytest.approx(0.15)
    assert (rows["addition-0"]["restarts"], rows["addition-0"]["partial"]) == (1, False)
    assert rows["addition-1"]["requests"] == {"ok": 50, "server_error": 0}
    assert (rows["addition-1"]["restarts"], rows["addition-1"]["partial"]) == (0, False)
    for row in rows.values():
        assert min(row["requests"].values()) >= 0 and row["cpu_seconds"] >= 0
        assert all(count >= 0 for _, count in row["buckets"])
