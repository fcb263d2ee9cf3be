"""The parent merges the workers' seconds and writes the time series as they complete."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from calcbench.core.rundir import TIMESERIES_COLUMNS
from loadgen.collector import Collector, Progress
from loadgen.recorder import Recorder, SecondStats
from loadgen.rundir import CsvAppender


def worker_seconds(per_second: list[int], errors: int = 0) -> list[SecondStats]:
    """The seconds one worker emits for `per_second[s]` addition calls in second s."""
    emitted: list[SecondStats] = []
    recorder = Recorder(warmup=1.0, duration=len(per_second) - 1, emit=emitted.append)
    for index, count in enumerate(per_second):
        second = index - 1
        for i in range(count):
            recorder.begin(second)
            outcome = "unavailable" if i < errors else "ok"
            recorder.record(second, "addition", 0.001 * (i + 1), 0.001, outcome, "x", False, None)
    recorder.finish(len(per_second))
    return emitted


def test_seconds_merge_across_workers_and_rows_are_flushed(tmp_path: Path) -> None:
    path = tmp_path / "timeseries.csv"
    appender = CsvAppender(path, TIMESERIES_COLUMNS)
    seen: list[Progress] = []
    collector = Collector("grpc", 2, appender, total_seconds=3, warmup=1, progress=seen.append)
    a, b = worker_seconds([5, 10, 10]), worker_seconds([5, 20, 30], errors=3)
    for stats in a + b[:2]:
        collector.add(stats)
    # Second 0 is complete (both workers sent it) and already on disk; second 1 is not.
    rows = list(csv.DictReader(path.open()))
    assert [(r["operation"], r["second"], r["requests"], r["errors"]) for r in rows] == [
        ("addition", "0", "30", "3"),
        ("all", "0", "30", "3"),
    ]
    # Worker b's 20th call took 20 ms; HDR keeps 3 significant digits.
    assert float(rows[1]["p99_ms"]) == pytest.approx(20.0, rel=1e-3)
    collector.add(b[2])
    collector.close()
    appender.close()
    rows = list(csv.DictReader(path.open()))
    assert [r["requests"] for r in rows if r["operation"] == "all"] == ["30", "40"]
    assert [p.phase for p in seen] == ["warmup", "measure", "measure"]
    assert (seen[-1].requests, seen[-1].errors, seen[-1].rps, seen[-1].elapsed) == (70, 6, 40, 3)


def test_close_completes_seconds_a_stopped_worker_never_sent(tmp_path: Path) -> None:
    appender = CsvAppender(tmp_path / "t.csv", TIMESERIES_COLUMNS)
    collector = Collector("rest", 2, appender, total_seconds=3, warmup=1)
    for stats in worker_seconds([1, 2, 3]):
        collector.add(stats)
    collector.close()
    appender.close()
    assert collector.requests == 5


def test_a_failing_progress_callback_is_dropped_not_the_run(tmp_path: Path) -> None:
    appender = CsvAppender(tmp_path / "t.csv", TIMESERIES_COLUMNS)
    calls: list[Progress] = []

    def progress(update: Progress) -> None:
        calls.append(update)
        raise RuntimeError("display gone")

    collector = Collector("rest", 1, appender, total_seconds=3, warmup=1, progress=progress)
    for stats in worker_seconds([1, 2, 3]):
        collector.add(stats)
    appender.close()
    assert len(calls) == 1 and collector.requests == 5
    assert collector.progress_error == "progress callback failed: RuntimeError: display gone"
