"""The parent's side of the per-second statistics: merge the workers' seconds, write the time
series as each second completes, and report progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from calcbench.core.rundir import TIMESERIES_PERCENTILES
from loadgen.percentiles import percentile_ms
from loadgen.recorder import SecondStats
from loadgen.rundir import CsvAppender, Row
from loadgen.stats import Histogram, new_histogram


@dataclass(frozen=True)
class Progress:
    """Where a run is, once per completed second (warm-up seconds included)."""

    protocol: str
    phase: str  # "warmup" or "measure"
    elapsed: float  # seconds since the start, warm-up included
    total: float  # warm-up + duration
    requests: int  # measured so far
    errors: int  # measured so far
    rps: float  # in the last second
    p99_ms: float | None  # measured so far, from the intended send time


def timeseries_rows(protocol: str, stats: SecondStats, all_histogram: Histogram) -> list[Row]:
    """`TIMESERIES_COLUMNS` rows: one per operation that saw requests, then `all` (always)."""
    rows = [_row(protocol, s, stats, stats.intended.get(s)) for s in sorted(stats.requests)]
    rows.append(_row(protocol, "all", stats, all_histogram))
    return rows


def _row(protocol: str, operation: str, stats: SecondStats, histogram: Histogram) -> Row:
    if operation == "all":
        requests, errors = stats.requests.total(), stats.errors.total()
    else:
        requests, errors = stats.requests[operation], stats.errors[operation]
    latency = [
        percentile_ms(histogram, p) if histogram is not None else None
        for p in TIMESERIES_PERCENTILES.values()
    ]
    return [protocol, operation, stats.second, requests, errors, *latency]


class Collector:
    """Merges each second once all `workers` have sent it; seconds complete in order because
    every worker sends its seconds in order."""

    def __init__(
        self,
        protocol: str,
        workers: int,
        timeseries: CsvAppender,
        total_seconds: float,
        warmup: float,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.protocol = protocol
        self.workers = workers
        self.timeseries = timeseries
        self.total_seconds = total_seconds
        self.warmup = warmup
        self.progress = progress
        self.requests = 0
        self.errors = 0
        self.histogram = new_histogram()
        self.progress_error: str | None = None
        self._waiting: dict[int, list[SecondStats]] = {}

    def add(self, stats: SecondStats) -> None:
        parts = self._waiting.setdefault(stats.second, [])
        parts.append(stats)
        if len(parts) == self.workers:
            self._complete(stats.second)

    def close(self) -> None:
        """Complete the seconds some worker never sent (it stopped early)."""
        for second in sorted(self._waiting):
            self._complete(second)

    def _complete(self, second: int) -> None:
        parts = self._waiting.pop(second)
        stats = parts[0] if len(parts) == 1 else SecondStats.merge(second, parts)
        if second >= 0:
            all_histogram = stats.all_histogram()
            self.timeseries.write(timeseries_rows(self.protocol, stats, all_histogram))
            self.requests += stats.requests.total()
            self.errors += stats.errors.total()
            self.histogram.add(all_histogram)
        if self.progress is not None:
            self._report(self._progress(stats))

    def _report(self, progress: Progress) -> None:
        """Call the progress callback; one that fails is dropped, never the run with it."""
        assert self.progress is not None
        try:
            self.progress(progress)
        except Exception as exc:
            self.progress = None
            self.progress_error = f"progress callback failed: {type(exc).__name__}: {exc}"

    def _progress(self, stats: SecondStats) -> Progress:
        return Progress(
            protocol=self.protocol,
            phase="measure" if stats.second >= 0 else "warmup",
            elapsed=min(self.warmup + stats.second + 1, self.total_seconds),
            total=self.total_seconds,
            requests=self.requests,
            errors=self.errors,
            rps=float(stats.requests.total()),
            p99_ms=percentile_ms(self.histogram, 99),
        )
