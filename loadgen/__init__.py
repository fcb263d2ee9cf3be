"""The load generator: paced, checked, HDR-measured calls to either stack (issue 3).

`run_load(settings, endpoints, out_dir)` runs one load and writes its run directory;
`calcbench load` (`loadgen.cli.load`) is its command line.
"""

from loadgen.collector import Progress
from loadgen.report import LoadResult
from loadgen.runner import run_load
from loadgen.settings import LoadSettings

__all__ = ["LoadResult", "LoadSettings", "Progress", "run_load"]
