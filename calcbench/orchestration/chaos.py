"""Faults during one measured phase: the replica kills of `--fault kill-replica`, and the
replicas that die by themselves, each restarted on its ports and recorded as an event.

Both run on threads of their own beside the load (whose loop must not block): a timer per kill
and a watchdog that looks for dead replicas a few times a second. The load's clock starts only
once its clients are set up, so the timers are armed by its first progress report (one second
in), against the start that report implies: a kill is due `warmup + seconds` after the load's
own start, at the earliest one second in, and its event records the second it really fell on.
A replica that cannot start again stops the load (as Ctrl-C would) and leaves its one-line
error in `error`, for the run to raise.
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
from calcbench.orchestration.supervisor import Stack, StackError
from loadgen import Progress

#: How often the watchdog looks for a replica that exited by itself.
WATCH_INTERVAL: Final = 0.25


@dataclass(frozen=True)
class FaultEvent:
    """A replica went down in a phase: killed (`kill`) or by itself (`died`), `second`
    seconds into the measured phase, and was healthy again `recovered_in` seconds later."""

    kind: str
    replica: str
    second: float
    recovered_in: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "replica": self.replica,
            "second": round(self.second, 3),
            "restarted_in": None if self.recovered_in is None else round(self.recovered_in, 3),
        }


class PhaseFaults:
    """Use around one phase's load: `with PhaseFaults(stack, kills, warmup) as faults:`."""

    def __init__(self, stack: Stack, kills: Sequence[KillReplica], warmup: float) -> None:
        self.events: list[FaultEvent] = []
        self.error: str | None = None
        self._stack = stack
        self._kills = kills
        self._warmup = warmup
        self._started = time.monotonic()
        self._done = threading.Event()
        self._timers: list[threading.Timer] = []
        self._watchdog = threading.Thread(target=self._watch, name="watchdog", daemon=True)

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

    def _second(self) -> float:
        return time.monotonic() - self._started - self._warmup

    def _kill(self, replica: str) -> None:
        second = self._second()
        try:
            took = self._stack.kill_and_restart(replica)
        except StackError as exc:
            self._fail(str(exc), FaultEvent("kill", replica, second, None))
            return
        self.events.append(FaultEvent("kill", replica, second, took))

    def _watch(self) -> None:
        while not self._done.wait(WATCH_INTERVAL):
            second = self._second()
            try:
                revived = self._stack.revive()
            except StackError as exc:
                self._fail(str(exc), FaultEvent("died", "?", second, None))
                return
            self.events += [FaultEvent("died", r, second, t) for r, t in revived.items()]

    def _fail(self, error: str, event: FaultEvent) -> None:
        self.events.append(event)
        if self.error is None:
            self.error = error
            # The load stops on SIGINT as on Ctrl-C, keeping what it measured; the run then
            # raises `error` instead of reporting an interrupt.
            os.kill(os.getpid(), signal.SIGINT)
