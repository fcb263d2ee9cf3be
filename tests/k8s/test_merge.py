"""N generator pods' results merge into exactly what one generator sending everything would
have written: the same counts, outcomes, replicas and HDR histograms, byte for byte."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from calcbench.orchestration.k8s.merge import GeneratorResult, merge_generators
from loadgen.settings import LoadSettings
from loadgen.stats import Tally
from tests.k8s.loads import made_up_tally, write_load_dir

PODS_A = {
    s: [f"{s}-a"] for s in ("addition", "subtraction", "multiplication", "division", "percentage")
}
PODS_B = {**PODS_A, "addition": ["addition-b"]}  # the second pod's connection landed elsewhere
LOAD = LoadSettings(protocol="grpc", balancing="shared", rate=100.0, duration=4.0)


def pods(tmp_path: Path) -> list[GeneratorResult]:
    found = []
    for index, layout in enumerate((PODS_A, PODS_B)):
        folder = tmp_path / f"pod-{index}"
        started = f"2025-01-01T00:00:0{index}+00:00"
        write_load_dir(folder / "run", "grpc", "shared", made_up_tally(index, layout), started)
        (folder / "pod.json").write_text(json.dumps({"index": index, "node": f"node-{index}"}))
        found.append(GeneratorResult.read(folder))
    return found


def test_the_merge_equals_one_generator_sending_everything(tmp_path: Path) -> None:
    merged = tmp_path / "merged"
    meta = merge_generators(pods(tmp_path), LOAD, merged)
    whole = Tally()
    for index, layout in enumerate((PODS_A, PODS_B)):
        whole.add(made_up_tally(index, layout))
    expected = write_load_dir(tmp_path / "expected", "grpc", "shared", whole, "")
    for name in (
        "summary.csv",
        "summary_actual.csv",
        "errors.csv",
        "replicas.csv",
        "histograms.json",
    ):
        assert (merged / name).read_text() == (expected / name).read_text(), name
    assert meta["totals"] == {"requests": 400, "ok": 380, "errors": 20}
    assert meta["settings"]["rate"] == 100.0 and meta["measured_seconds"] == 4.0
    assert [g["node"] for g in meta["generators"]] == ["node-0", "node-1"]
    assert meta["generator"]["cpu_seconds"] == 3.0 and meta["warmup"]["requests"] == 10
    replicas = {r["replica"] for r in csv.DictReader((merged / "replicas.csv").open())}
    assert {"addition-a", "addition-b"} <= replicas


def test_the_time_series_adds_counts_and_keeps_the_highest_percentiles(tmp_path: Path) -> None:
    merged = tmp_path / "merged"
    merge_generators(pods(tmp_path), LOAD, merged)
    rows = list(csv.DictReader((merged / "timeseries.csv").open()))
    assert [(r["second"], r["operation"]) for r in rows[:3]] == [
        ("0", "addition"),
        ("0", "all"),
        ("1", "addition"),
    ]
    assert (rows[1]["requests"], rows[1]["errors"], rows[1]["p99_ms"]) == ("100", "4", "9.0")
    connections = list(csv.DictReader((merged / "connections.csv").open()))
    assert {r["connections"] for r in connections} == {"2"}  # each pod's own, added


def test_pods_that_started_apart_are_warned_about(tmp_path: Path) -> None:
    results = pods(tmp_path)
    results[1].meta["started_at"] = "2025-01-01T00:00:09+00:00"
    meta = merge_generators(results, LOAD, tmp_path / "merged")
    assert any("started 9.0 s apart" in w for w in meta["generator"]["warnings"])
