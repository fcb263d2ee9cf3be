"""Interrupted runs: only completed phases count, and the report says so."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis import RunDirError, analyse, analyse_dir, build_report, load_run, render
from analysis.document import build_document
from tests.analysis.fixture import Spec, by_key, make_run


def test_partial_run_reports_completed_phases_only(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", Spec(rounds=2), incomplete=("r2-grpc-shared",))
    # What a killed phase leaves behind: a directory with a time series only.
    killed = run_dir / "phases" / "r2-grpc-shared"
    killed.mkdir(parents=True)
    (killed / "timeseries.csv").write_text("protocol,operation,second,requests,errors\n")
    # The same computation and document as build_report, without drawing the charts.
    a = analyse(load_run(run_dir))
    summary = by_key(a.summary, "protocol", "operation")
    assert summary[("rest", "all")]["requests"] == 2 * 800
    assert summary[("grpc", "all")]["requests"] == 800
    assert set(a.comparison["rounds"]) == {1}  # only round 1 has both protocols
    cpu = a.comparison[a.comparison["metric"] == "client_cpu_us_per_request"]
    assert list(cpu["verdict"]) == ["no interval"]  # one value per round, one round
    text = render.markdown(build_document(a, []))
    assert "PARTIAL RUN" in text
    assert "phases not completed: r2-grpc-shared" in text


def test_run_with_one_protocol_only_still_reports(tmp_path: Path) -> None:
    spec = Spec(rounds=1, rate=100.0, duration=2)
    run_dir = make_run(tmp_path / "run", spec, incomplete=("r1-grpc-shared",))
    files = build_report(run_dir)
    comparison = pd.read_csv(files.csvs["comparison"])
    assert comparison["grpc"].isna().all()
    assert set(comparison["verdict"]) == {"no interval"}
    assert all(path.stat().st_size > 0 for path in files.charts.values())
    text = files.markdown.read_text()
    assert "PARTIAL RUN" in text and "PARTIAL RUN" in files.html.read_text()


def test_missing_files_of_a_completed_phase_are_named(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", Spec(rounds=1, rate=100.0, duration=2))
    (run_dir / "phases" / "r1-rest-shared" / "server.json").unlink()
    run = load_run(run_dir)
    assert run.problems == ("phase r1-rest-shared: missing server.json",)


def test_no_completed_phase_is_an_error(tmp_path: Path) -> None:
    unfinished = ("r1-rest-shared", "r1-grpc-shared")
    run_dir = make_run(tmp_path / "run", Spec(rounds=1), incomplete=unfinished)
    with pytest.raises(RunDirError, match="no completed phase"):
        load_run(run_dir)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no run.json"), ('{"kind": "load"}', "not a calcbench run"), ("{", "unreadable")],
)
def test_not_a_run_directory(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "run.json").write_text(content)
    with pytest.raises(RunDirError, match=message):
        load_run(tmp_path)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no such directory"):
        load_run(tmp_path / "nowhere")


def test_phase_order_and_fields_come_from_run_json(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", Spec(rounds=1, rate=100.0, duration=2))
    meta = json.loads((run_dir / "run.json").read_text())
    run = load_run(run_dir)
    assert [p.name for p in run.phases] == [p["name"] for p in meta["phases"]]
    assert run.cpu_count == 2 and run.seed == 7 and not run.partial


def test_analysis_is_reused_only_while_the_input_is_unchanged(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", Spec(rounds=1, rate=100.0, duration=2))
    first = analyse_dir(run_dir)
    assert analyse_dir(run_dir) is first
    errors = run_dir / "phases" / "r1-rest-shared" / "errors.csv"
    errors.write_text(errors.read_text() + "rest,addition,timeout,504,2,false\n")
    again = analyse_dir(run_dir)
    assert again is not first
    assert "timeout" in set(again.errors["outcome"])


def test_phases_without_measurements_are_a_clear_error(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", Spec(rounds=1, rate=100.0, duration=2))
    for summary in run_dir.glob("phases/*/summary.csv"):
        summary.write_text("protocol,operation,requests,ok,errors\n")
    with pytest.raises(RunDirError, match="no measurements to report"):
        analyse(load_run(run_dir))
