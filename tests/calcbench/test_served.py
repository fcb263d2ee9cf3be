"""What a replica served in a phase across restarts: the phase diff, as a table of lives."""

from __future__ import annotations

import pytest

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
