"""Analysis of calcbench run directories: tables, charts and reports, from files only.

`build_report(run_dir)` writes everything into a run directory; `compare_runs(dirs, out)` puts
several runs side by side; `analysis.console.print_run_summary` prints the terminal summary.
Names are imported on first use, so that `calcbench serve` never pays for pandas and matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analysis.compute import Analysis, analyse, analyse_dir
    from analysis.errors import RunDirError
    from analysis.report import ReportFiles, build_report, compare_runs
    from analysis.rundir import Run, load_run

_HOMES = {
    "Analysis": "analysis.compute",
    "analyse": "analysis.compute",
    "analyse_dir": "analysis.compute",
    "RunDirError": "analysis.errors",
    "ReportFiles": "analysis.report",
    "build_report": "analysis.report",
    "compare_runs": "analysis.report",
    "Run": "analysis.rundir",
    "load_run": "analysis.rundir",
}
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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
