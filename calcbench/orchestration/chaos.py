"""Faults during one measured phase: the replica kills of `--fault kill-replica`, and the
replicas that die by themselves, each restarted on its ports and recorded as an event.

Both run on threads of their own beside the load (whose loop must not block): a timer per kill
and a watchdog that looks for dead replicas a few times a second. The load's clock starts only
once its clients are set up, so the timers are armed by its first progress report (one second
in), against the start that report implies: a kill is due `warmup + seconds` after the load's
own start, at the earliest one second in, and its event records the second it really fell on.
A replica that cannot start again stops the load (as Ctrl-C would) and leaves its one-line
error in `error`, for the run to raise. The restarts themselves are kept (`restarts`) for the
phase's server-side figures (`calcbench.orchestration.served`).

Between phases nobody watches: `revive_between` restarts what died there before the next phase
of its stack takes its first reading.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from calcbench.orchestration.fault import KillReplica
from calcbench.orchestration.supervisor import Restart, Stack, StackError
from loadgen import Progress

#: How often the watchdog looks for a replica that exited by itself.
WATCH_INTERVAL: Final = 0.25


@dataclass(frozen=True)
class FaultEvent:
    """A replica went down: killed (`kill`) or by itself (`died`), `second` seconds into the
    measured phase (None: between phases), and was healthy again `restarted_in` seconds later.
    `lost` when what it served in the phase before it went down could not be read: the phase's
    server figures for it are then partial."""

    kind: str
    replica: str
    second: float | None
    restarted_in: float | None
    lost: bool = False

    @classmethod
    def of(cls, restart: Restart, second: float | None) -> FaultEvent:
        return cls(restart.kind, restart.replica, second, restart.seconds, restart.last is None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "replica": self.replica,
            "second": None if self.second is None else round(self.second, 3),
            "restarted_in": None if self.restarted_in is None else round(self.restarted_in, 3),
            "server_figures": _figures(self),
        }


def _figures(event: FaultEvent) -> str:
    """How the phase's server figures count the replica (see `served`)."""
    if event.second is None:
        return "whole"  # restarted before the phase's first reading
    return "partial" if event.lost else "spliced"


def revive_between(stack: Stack) -> list[FaultEvent]:
    """Restart the replicas of `stack` that died since its last phase (StackError if one
    cannot start): an event each, with no second, for run.json."""
    return [FaultEvent.of(restart, None) for restart in stack.revive()]


class PhaseFaults:
    """Use around one phase's load: `with PhaseFaults(stack, kills, warmup) as faults:`."""

    def __init__(self, stack: Stack, kills: Sequence[KillReplica], warmup: float) -> None:
        self.events: list[FaultEvent] = []
        self.error: str | None = None
        self._stack = stack
        self._kills = kills
        self._warmup = warmup
        self._started = time.monotonic()
        self._first = len(stack.restarts)
        self._done = threading.Event()
        self._timers: list[threading.Timer] = []
        self._watchdog = threading.Thread(target=self._watch, name="watchdog", daemon=True)

    @property
    def restarts(self) -> list[Restart]:
        """The stack's restarts since this was made, in the order they were made."""
        return self._stack.restarts[self._first :]

    def __enter__(self) -> PhaseFaults:
        self._started = time.monotonic()
        self._watchdog.start()
        return self

    def progress(self, report: Callable[[Progress], None]) -> Callable[[Progress], None]:
        """`report`, arming the kills on the load's first progress report."""

        def progress(snapshot: Progress) -> None:
            if not self._timers and not self._done.is_set():
                self._arm(time.monotonic() - snapshot.elapsed)
            report(snapshot)

        return progress

    def _arm(self, load_started: float) -> None:
        self._started = load_started
        for kill in self._kills:
            due = load_started + self._warmup + kill.seconds - time.monotonic()
            timer = threading.Timer(max(0.0, due), self._kill, (kill.replica_id,))
            timer.daemon = True
            timer.start()
            self._timers.append(timer)

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        for timer in self._timers:
            timer.cancel()
            timer.join()
        self._watchdog.join()
        if self.error is None:
            # One last look: a replica dead since the watchdog's would fail the closing scrape.
            self._look()

    def _second(self) -> float:
        return time.monotonic() - self._started - self._warmup

    def _kill(self, replica: str) -> None:
        second = self._second()
        try:
            restart = self._stack.kill_and_restart(replica)
        except StackError as exc:
            self._fail(str(exc), FaultEvent("kill", replica, second, None, lost=True))
            return
        self._record([restart], second)

    def _watch(self) -> None:
        while not self._done.wait(WATCH_INTERVAL) and self._look():
            pass

    def _look(self) -> bool:
        """Restart the replicas that died; False if one could not start."""
        second = self._second()
        try:
            revived = self._stack.revive()
        except StackError as exc:
            self._fail(str(exc), FaultEvent("died", "?", second, None, lost=True))
            return False
        self._record(revived, second)
        return True

    def _record(self, restarts: list[Restart], second: float) -> None:
        # From the timers and the watchdog alike: one `extend` of a list is atomic.
        self.events.extend([FaultEvent.of(restart, second) for restart in restarts])

    def _fail(self, error: str, event: FaultEvent) -> None:
        self.events.append(event)
        if self.error is None:
            self.error = error
            # The load stops on SIGINT as on Ctrl-C, keeping what it measured; the run then
            # raises `error` instead of reporting an interrupt. Once it is over, only the latter.
            if not self._done.is_set():
                os.kill(os.getpid(), signal.SIGINT)
