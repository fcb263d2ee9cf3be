"""`calcbench report` and `calcbench compare`: parse, call the library, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from analysis.errors import RunDirError
from calcbench.core.console import console, fail

#: A run directory that cannot be read is a usage error.
_BAD_INPUT = 2


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `calcbench run`.")],
) -> None:
    """Rebuild the CSVs, charts, report.md and report.html of a run directory."""
    # Imported here: every other `calcbench` command starts without pandas and matplotlib.
    from analysis.console import print_run_summary
    from analysis.report import build_report

    try:
        files = build_report(run_dir)
        print_run_summary(run_dir, console)
    except RunDirError as exc:
        raise fail(str(exc), _BAD_INPUT) from exc
    typer.echo(f"report: {files.html}")


def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Two or more run directories.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for compare.csv and compare.png.")
    ] = Path("results/compare"),
) -> None:
    """Put several runs side by side: a table and a chart of their key metrics."""
    from analysis.report import compare_runs

    try:
        table = compare_runs(run_dirs, out)
    except RunDirError as exc:
        raise fail(str(exc), _BAD_INPUT) from exc
    except OSError as exc:
        raise fail(f"{out}: {exc.strerror or exc}", _BAD_INPUT) from exc
    console.print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    typer.echo(f"compare: {out / 'compare.csv'} and {out / 'compare.png'}")


def app() -> typer.Typer:
    """A stand-alone app with both commands (`python -m analysis`)."""
    standalone = typer.Typer(add_completion=False, no_args_is_help=True)
    standalone.command("report")(report)
    standalone.command("compare")(compare)
    return standalone
