"""Analysis of calcbench run directories: tables, charts and reports, from files only.

`build_report(run_dir)` writes everything into a run directory; `compare_runs(dirs, out)` puts
several runs side by side; `analysis.console.print_run_summary` prints the terminal summary.
"""

from __future__ import annotations

from analysis.compute import Analysis, analyse, analyse_dir
from analysis.report import ReportFiles, build_report, compare_runs
from analysis.rundir import Run, RunDirError, load_run

__all__ = [
    "Analysis",
    "ReportFiles",
    "Run",
    "RunDirError",
    "analyse",
    "analyse_dir",
    "build_report",
    "compare_runs",
    "load_run",
]
