"""What one replica served in a phase, across the restarts of its process (pure).

A replica's counters live in its process: one that is killed and started again counts from 0,
so after - before is wrong for the phase (negative, or the new process's count less the old
one's). The supervisor knows every restart it made (`Restart`), so the phase is added up from
the lives of the replica's processes in it:

* the process it started with, from the reading before the phase to its last reading: taken
  just before a kill (`Restart.last`), none when the process died by itself, whose counters
  since the phase began are then lost and the replica's figures `partial`;
* each process started in the phase, from its start (counters 0; CPU as on its ready line, so
  that its start-up is not counted as serving) to the next restart or the reading after.

A reset nobody announced (a counter or the CPU went down: a Kubernetes pod's container restarted)
is counted from 0 too, as Prometheus's `increase()` does, and makes the figures partial.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from calcbench.orchestration.scrape import Reading, Scrape

#: A process's counters as it starts.
ZERO = Scrape()


@dataclass(frozen=True)
class Restart:
    """The supervisor replaced the process of `replica`: `kind` is `kill` (it killed it) or
    `died` (it exited by itself); the new process `pid` was healthy `seconds` later."""

    replica: str
    kind: str
    #: The old process just before the kill; None when it died by itself (or was unreadable).
    last: Reading | None
    #: The new process's CPU seconds once it announced it was ready.
    ready_cpu: float
    pid: int
    seconds: float


@dataclass(frozen=True)
class Served:
    """A replica's counters and CPU seconds over a phase; `partial` when part was lost."""

    scrape: Scrape
    cpu_seconds: float
    partial: bool = False


def served(before: Reading, after: Reading, restarts: Sequence[Restart] = ()) -> Served:
    """What the replica served from `before` to `after`, its `restarts` (in order) between."""
    total, partial = Served(ZERO, 0.0), False
    start = before
    for restart in restarts:
        if restart.last is None:
            partial = True
        else:
            total = _plus(total, _between(start, restart.last))
        start = Reading(ZERO, restart.ready_cpu)
    total = _plus(total, _between(start, after))
    return Served(total.scrape, total.cpu_seconds, partial or total.partial)


def _between(start: Reading, end: Reading) -> Served:
    """One process from `start` to `end`; counted from 0 if it was reset in between."""
    reset = end.scrape.fell_below(start.scrape) or end.cpu_seconds < start.cpu_seconds
    if reset:
        return Served(end.scrape, end.cpu_seconds, partial=True)
    return Served(end.scrape.minus(start.scrape), end.cpu_seconds - start.cpu_seconds)


def _plus(first: Served, second: Served) -> Served:
    return Served(
        first.scrape.plus(second.scrape),
        first.cpu_seconds + second.cpu_seconds,
        first.partial or second.partial,
    )
