"""`calcbench load`: parse the flags, run the load, print where the results are.

Registered in `calcbench.cli` as `app.command("load")(load)`. A bad flag is a one-line error
(exit 2); an interrupted run keeps what it measured and exits 130.
"""

from __future__ import annotations

import csv
import dataclasses
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from calcbench.core.console import console, fail
from calcbench.core.endpoints import EndpointsTls
from calcbench.core.rundir import SUMMARY
from calcbench.core.tls import Pki
from loadgen.addressing import resolve_endpoints
from loadgen.collector import Progress
from loadgen.options import load_options, settings_from_options
from loadgen.progress import progress_line
from loadgen.report import LoadResult
from loadgen.runner import run_load
from loadgen.targets import client_tls


def default_out() -> Path:
    return Path("results") / datetime.now(UTC).strftime("load-%Y%m%dT%H%M%SZ")


@load_options()
def load(**options: Any) -> None:
    """Load one stack (REST or gRPC) and write a run directory (run.json, CSVs, histograms).

    Generator-bound runs (schedule lag p99 > 5 ms, or a worker > 90% CPU) are marked and warned.
    """
    try:
        settings = settings_from_options(options)
        endpoints = resolve_endpoints(
            settings.protocol,
            settings.services,
            options["endpoints_file"],
            options["endpoint"] or (),
        )
        if options["tls_dir"] is not None:
            ca = str(Pki(options["tls_dir"]).ca)
            endpoints = dataclasses.replace(endpoints, tls=EndpointsTls(ca, settings.mtls))
        client_tls(settings, endpoints)  # TLS asked of a plaintext stack, or the reverse
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    out = options["out"] or default_out()
    view = ProgressView(console)
    try:
        with view:
            result = run_load(settings, endpoints, out, view.update)
    except (OSError, RuntimeError, ValueError) as exc:
        raise fail(str(exc)) from exc
    print_result(console, result)
    if result.interrupted:
        raise typer.Exit(130)


class ProgressView:
    """A live line on a terminal, one plain line per second otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = Live(Text(""), console=console, transient=True) if console.is_terminal else None

    def __enter__(self) -> ProgressView:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def update(self, progress: Progress) -> None:
        line = progress_line(progress)
        if self.live is not None:
            self.live.update(Text(line))
        else:
            print(line, flush=True)


_SHOWN = (
    "operation",
    "requests",
    "errors",
    "success_rate",
    "rps",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
)


def summary_table(protocol: str, summary: Path) -> Table:
    """summary.csv as a table; latency from the intended send time."""
    table = Table(title=f"{protocol}: latency from the intended send time (ms)")
    for column in _SHOWN:
        table.add_column(
            column.removesuffix("_ms"), justify="left" if column == "operation" else "right"
        )
    with summary.open(newline="") as file:
        for row in csv.DictReader(file):
            table.add_row(*(_number(row[column]) for column in _SHOWN))
    return table


def _number(text: str) -> str:
    """Integers as written, other numbers to 3 decimals (1 us for milliseconds)."""
    try:
        return text if "." not in text else f"{float(text):.3f}"
    except ValueError:
        return text


def print_result(console: Console, result: LoadResult) -> None:
    console.print(summary_table(result.protocol, result.out_dir / SUMMARY))
    per_request = result.cpu_us_per_request
    cost = "-" if per_request is None else f"{per_request:.0f} us CPU/request"
    console.print(f"generator: {result.cpu_seconds:.2f} CPU s, {cost}")
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)
    if result.interrupted:
        seconds = f"{result.measured_seconds:.1f}"
        console.print(f"[yellow]interrupted:[/yellow] kept the first {seconds} s measured")
    console.print(f"results: {result.out_dir}", highlight=False, soft_wrap=True)


if __name__ == "__main__":  # `python -m loadgen.cli ...`, the same command on its own
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(load)
    sys.exit(app())
