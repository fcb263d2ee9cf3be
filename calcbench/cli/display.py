"""How `calcbench run` shows its progress: a live line on a terminal, plain lines otherwise."""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from calcbench.orchestration.calibration import CalibrationRow, missing_tools
from calcbench.orchestration.plan import Phase
from loadgen import LoadResult, Progress
from loadgen.progress import progress_line


class ConsoleDisplay:
    """A `RunDisplay` on a rich console; plain, rate-limited lines when not a terminal."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._live: Live | None = None
        self._phase = ""
        self._last_plain = 0.0

    def status(self, message: str) -> None:
        self._stop_live()
        self.console.print(f"[bold]calcbench[/bold] {message}")

    def phase_started(self, phase: Phase, number: int, total: int) -> None:
        self._stop_live()
        self._phase = (
            f"[{number}/{total}] {phase.protocol:<4} {phase.balancing:<11} round {phase.round}"
        )
        if self.console.is_terminal:
            self._live = Live(Text(self._phase), console=self.console, transient=True)
            self._live.start()
        else:
            self.console.print(self._phase)

    def progress(self, snapshot: Progress) -> None:
        line = f"{self._phase}  {progress_line(snapshot)}"
        if self._live is not None:
            self._live.update(Text(line))
        elif time.monotonic() - self._last_plain >= 5:
            self._last_plain = time.monotonic()
            self.console.print(line, highlight=False)

    def phase_finished(self, phase: Phase, result: LoadResult) -> None:
        self._stop_live()
        state = "interrupted" if result.interrupted else "done"
        self.console.print(
            f"{self._phase}  {state}: {result.requests} requests, {result.errors} errors",
            highlight=False,
        )

    def calibrated(self, rows: list[CalibrationRow]) -> None:
        self._stop_live()
        self.console.print(calibration_table(rows))
        for protocol, package in missing_tools().items():
            self.console.print(
                f"no native floor for {protocol}: install the Debian package {package}",
                highlight=False,
            )

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def calibration_table(rows: list[CalibrationRow]) -> Table:
    """The floor as measured: one call in flight against addition, per protocol and client."""
    table = Table(title="Calibration: one call in flight against addition (closed loop)")
    for column in ("PROTOCOL", "CLIENT", "REQUESTS", "P50", "P90", "P99", "CLIENT_CPU_US/REQ"):
        table.add_column(column, justify="left" if column in ("PROTOCOL", "CLIENT") else "right")
    for row in rows:
        table.add_row(
            row.protocol,
            row.client,
            str(row.requests),
            *(f"{value:.3f}ms" for value in (row.p50_ms, row.p90_ms, row.p99_ms)),
            f"{row.client_cpu_us_per_request:.0f}",
        )
    return table
