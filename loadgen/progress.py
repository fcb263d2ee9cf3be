"""One line of progress, the same for `calcbench load` and `calcbench run`."""

from __future__ import annotations

from loadgen.collector import Progress


def progress_line(progress: Progress) -> str:
    """`rest measure   2.0/10 s  250 rps  errors 0  p99 1.20 ms`. Elapsed is shown at a tenth
    of a second and never past the phase's length (the drain after the last send is not)."""
    p99 = "-" if progress.p99_ms is None else f"{progress.p99_ms:.2f} ms"
    elapsed = min(progress.elapsed, progress.total)
    return (
        f"{progress.protocol} {progress.phase:<7} {elapsed:>5.1f}/{progress.total:g} s"
        f"  {progress.rps:>7.0f} rps  errors {progress.errors}  p99 {p99}"
    )
