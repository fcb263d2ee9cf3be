"""`calcbench run`: both stacks, the same seeded workload, alternating rounds, one run directory.

The orchestration only: what a phase measures is in `calcbench.orchestration.phase`, what the
numbers mean is in `analysis`, which reads the run directory this writes.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from calcbench.core.rundir import CALIBRATION, CALIBRATION_DIR, LOGS, WIRE
from calcbench.core.vocabulary import PROTOCOLS
from calcbench.orchestration.calibration import CalibrationRow, calibrate, write_calibration
from calcbench.orchestration.chaos import FaultEvent, PhaseFaults, revive_between
from calcbench.orchestration.interrupt import Interrupted, latch
from calcbench.orchestration.phase import run_phase
from calcbench.orchestration.plan import Phase, RunSettings, plan_phases
from calcbench.orchestration.record import RunRecord
from calcbench.orchestration.supervisor import Stack, StackError, StackSettings
from calcbench.orchestration.tls_phases import (
    Pki,
    StackKey,
    measure_tls_wire,
    run_pki,
    tls_load,
    tls_stack,
)
from calcbench.orchestration.wire import WireBytes, measure_bytes, write_wire
from loadgen import LoadResult, Progress


class RunDisplay(Protocol):
    """What the run tells the person watching it (a terminal, or plain log lines)."""

    def status(self, message: str) -> None: ...

    def phase_started(self, phase: Phase, number: int, total: int) -> None: ...

    def progress(self, snapshot: Progress) -> None: ...

    def phase_finished(self, phase: Phase, result: LoadResult) -> None: ...

    def calibrated(self, rows: list[CalibrationRow]) -> None: ...


@dataclass
class RunOutcome:
    out_dir: Path
    planned: int = 0
    partial: bool = True
    completed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The signal that interrupted the run, if one did.
    signum: int | None = None


@contextlib.contextmanager
def _stacks(
    settings: RunSettings, mode: str, log_dir: Path, pki: Pki | None
) -> Iterator[dict[StackKey, Stack]]:
    """Both stacks (each plaintext and/or TLS) running, percentage's downstream calls following
    `mode`; always stopped."""
    stacks = {
        (protocol, tls): Stack(
            tls_stack(
                StackSettings(
                    protocol=protocol,
                    replicas=settings.replicas,
                    host=settings.host,
                    downstream_balancing=mode,
                    server_model=settings.server_models[protocol],
                    log_dir=log_dir,
                    slow_replica=settings.fault,
                    error_rates=settings.error_rates,
                    # REST percentage's downstream budget: the load's call timeout, as gRPC's
                    # percentage gets it with its caller's deadline.
                    downstream_timeout=settings.load.timeout,
                ),
                pki if tls else None,
                settings.load.mtls,
            )
        )
        for protocol in PROTOCOLS
        for tls in settings.tls_modes
    }
    with contextlib.ExitStack() as exits:
        for stack in stacks.values():
            exits.callback(stack.stop)
            stack.spawn()  # both stacks boot side by side: half the wait on 2 cores
        for stack in stacks.values():
            stack.wait_started()
        latch.check()
        yield stacks


def _calibrate(stacks: dict[StackKey, Stack], record: RunRecord, display: RunDisplay) -> None:
    """The floor of each protocol, and its bytes per request, before the measured rounds: on
    the plaintext stacks, which the native tools reach as they are (none under --tls on)."""
    plaintext = {protocol: stack for (protocol, tls), stack in stacks.items() if not tls}
    if not plaintext:
        display.status("calibration skipped: it measures plaintext stacks (--tls on)")
        return
    rows: list[CalibrationRow] = []
    wire: list[WireBytes] = []
    work = record.dir / CALIBRATION_DIR
    for protocol, stack in plaintext.items():
        endpoints = stack.endpoints
        assert endpoints is not None  # a started stack has its endpoints
        display.status(f"calibrating {protocol}: one call in flight against addition")
        rows += calibrate(protocol, endpoints, work)
        wire.append(measure_bytes(protocol, endpoints, work / f"{protocol}-wire"))
    write_calibration(record.dir / CALIBRATION, rows)
    write_wire(record.dir / WIRE, wire)
    display.calibrated(rows)


def _run_mode(
    settings: RunSettings,
    mode: str,
    phases: list[Phase],
    record: RunRecord,
    display: RunDisplay,
    outcome: RunOutcome,
    pki: Pki | None = None,
) -> None:
    display.status(f"starting both stacks ({settings.replicas} replica(s), balancing {mode})")
    with _stacks(settings, mode, record.dir / LOGS, pki) as stacks:
        if settings.calibrate and not outcome.completed:
            _calibrate(stacks, record, display)
        for phase in phases:
            latch.check()
            number = len(outcome.completed) + 1
            display.phase_started(phase, number, outcome.planned)
            stack = stacks[phase.protocol, phase.tls]
            revived = revive_between(stack)
            endpoints = stack.endpoints
            assert endpoints is not None  # a started stack has its endpoints
            load = tls_load(replace(settings.load, balancing=phase.balancing), phase.tls)
            faults = PhaseFaults(stack, settings.kills, load.warmup)
            progress = faults.progress(display.progress)
            result = run_phase(load, endpoints, record.phase_dir(phase), progress, faults)
            events = revived + faults.events
            warnings = list(result.warnings) + _died(events)
            record.add_phase(phase, completed=not result.interrupted, warnings=warnings)
            record.add_fault_events(phase, [event.to_dict() for event in events])
            outcome.warnings += [f"{phase.name}: {w}" for w in warnings]
            display.phase_finished(phase, result)
            if faults.error is not None:
                raise StackError(faults.error)
            if result.interrupted:
                raise Interrupted(result.stop_signal or signal.SIGINT)
            outcome.completed.append(phase.name)
        if len(settings.tls_modes) > 1:
            display.status("bytes per request, plaintext and TLS")
            measure_tls_wire(settings, stacks, mode, record.dir)
        display.status("stopping both stacks")


def _died(events: list[FaultEvent]) -> list[str]:
    """A warning per replica that died by itself (and was restarted) before or in the phase."""
    return [_died_warning(e) for e in events if e.kind == "died"]


def _died_warning(event: FaultEvent) -> str:
    if event.second is None:
        return f"{event.replica} had exited by itself before the phase and was restarted"
    return (
        f"{event.replica} exited by itself {event.second:.1f} s into the phase and was "
        "restarted; its server figures cover only the phase since then"
    )


def run_comparison(settings: RunSettings, display: RunDisplay) -> RunOutcome:
    """Run every phase; on Ctrl-C/SIGTERM keep what was measured and mark the run partial.

    Raises OSError (unwritable folder) and StackError (a port in use, a service that never
    became healthy) with one-line messages; every started process is stopped either way.
    """
    latch.reset()
    record = RunRecord(settings)
    phases = plan_phases(settings)
    outcome = RunOutcome(out_dir=record.dir, planned=len(phases))
    try:
        with run_pki(settings) as pki:
            for mode, group in itertools.groupby(phases, key=lambda p: p.balancing):
                _run_mode(settings, mode, list(group), record, display, outcome, pki)
        outcome.partial = False
    except KeyboardInterrupt as exc:
        outcome.signum = getattr(exc, "signum", signal.SIGINT)
        display.status("interrupted: keeping what was measured")
    finally:
        record.finish(outcome.partial)
    return outcome
