"""Writing the generator's run-directory files (the only file I/O of the load generator).

The names, the columns and how a value is spelled in a cell are `calcbench.core.rundir`'s; a
run directory describes itself: `run.json` holds every setting, the versions, the host and the
generator's health next to the measurements, so `analysis` needs nothing else.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from calcbench.core.rundir import cell

Row = list[object]


class CsvAppender:
    """A CSV file written row by row and flushed at once, so a killed run keeps its rows."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self._file: IO[str] = path.open("w", newline="")
        self._writer = csv.writer(self._file)
        self.write([list(columns)])

    def write(self, rows: Iterable[Row]) -> None:
        self._writer.writerows([cell(value) for value in row] for row in rows)
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Row]) -> None:
    appender = CsvAppender(path, columns)
    try:
        appender.write(rows)
    finally:
        appender.close()


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
