"""build_report on a synthetic run directory: every file, its columns, its images, its text."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest

from analysis import ReportFiles
from analysis.compute import analyse
from analysis.findings import server_models
from analysis.rundir import load_run
from analysis.style import fmt_pct
from tests.analysis.fixture import by_key

SUMMARY = ["protocol", "operation", "requests", "ok", "errors", "success_rate", "rps", "p50_ms",
           "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"]  # fmt: skip
LEADING_COLUMNS = {
    "summary": SUMMARY,
    "summary_actual": SUMMARY,
    "errors": ["protocol", "operation", "outcome", "code", "count", "expected"],
    "timeseries": ["protocol", "operation", "second", "requests", "errors", "p50_ms", "p99_ms"],
    "replicas": ["protocol", "service", "replica", "requests", "server_requests", "share"],
    "services": ["protocol", "service", "replica", "success_rate", "rps", "p50_ms", "p95_ms",
                 "p99_ms", "tcp_conn", "cpu_us_per_request"],
    "comparison": ["metric", "operation", "rest", "grpc", "ratio", "ci_low", "ci_high"],
}  # fmt: skip
CHARTS = {"rps_per_service", "latency_per_service", "latency_spectrum", "timeseries",
          "success_per_service", "tcp_connections", "cpu_per_request"}  # fmt: skip


def _csv(report: ReportFiles, name: str) -> pd.DataFrame:
    return pd.read_csv(report.run_dir / f"{name}.csv", dtype={"code": str})


@pytest.mark.parametrize("name", sorted(LEADING_COLUMNS))
def test_csv_columns_lead_with_the_contract(default_report: ReportFiles, name: str) -> None:
    columns = list(_csv(default_report, name).columns)
    assert columns[: len(LEADING_COLUMNS[name])] == LEADING_COLUMNS[name]
    assert "balancing" in columns


def test_errors_spell_expected_as_the_phases_do(default_report: ReportFiles) -> None:
    """The fixture's phases spell it `True` (Python's csv module); the report, like the load
    generator, writes `true`."""
    expected = set(pd.read_csv(default_report.csvs["errors"], dtype=str)["expected"])
    assert "true" in expected and expected <= {"true", "false"}


def test_every_file_is_written(default_report: ReportFiles) -> None:
    assert set(default_report.charts) == CHARTS
    assert all(path.is_file() and path.stat().st_size > 0 for path in default_report.all)
    assert "balancing" not in default_report.csvs  # one replica: no imbalance table


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_charts_are_real_pngs(default_report: ReportFiles, chart: str) -> None:
    path = default_report.charts[chart]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = matplotlib.image.imread(path).shape[:2]
    assert width >= 800 and height >= 400


def test_html_is_self_contained(default_report: ReportFiles) -> None:
    page = default_report.html.read_text()
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == len(CHARTS)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'(href|src)="(https?:|/|\.)', page)


def test_summary_merges_rounds(default_report: ReportFiles, default_run: Path) -> None:
    summary = by_key(_csv(default_report, "summary"), "protocol", "operation")
    phases = [pd.read_csv(p) for p in sorted(default_run.glob("phases/*-rest-*/summary.csv"))]
    sent = sum(by_key(p, "operation")["all"]["requests"] for p in phases)
    assert summary[("rest", "all")]["requests"] == sent
    assert summary[("rest", "all")]["rps"] == pytest.approx(200.0)  # requests / seconds
    assert summary[("grpc", "all")]["p50_ms"] < summary[("rest", "all")]["p50_ms"]


def test_services_count_what_the_client_sent_plus_internal_calls(
    default_report: ReportFiles,
) -> None:
    services = by_key(_csv(default_report, "services"), "protocol", "service")
    summary = by_key(_csv(default_report, "summary"), "protocol", "operation")
    for protocol in ("rest", "grpc"):
        sent = summary[(protocol, "addition")]["requests"]
        assert services[(protocol, "addition")]["requests"] == sent
        internal = summary[(protocol, "percentage")]["requests"]
        served = services[(protocol, "multiplication")]["requests"]
        assert served == summary[(protocol, "multiplication")]["requests"] + internal


def test_comparison_has_every_metric_and_reads_the_fixture(default_report: ReportFiles) -> None:
    comparison = _csv(default_report, "comparison")
    rows = by_key(comparison[comparison["operation"] == "all"], "metric")
    expected = {"p50_ms", "p95_ms", "p99_ms", "mean_ms", "success_rate", "rps",
                "client_cpu_us_per_request", "server_cpu_us_per_request"}  # fmt: skip
    assert expected <= set(rows)
    assert set(comparison["operation"]) >= {"all", "division", "percentage"}
    # The fixture's gRPC latency is half of REST's: a difference well outside the noise.
    assert rows["p50_ms"]["ci_high"] < 1 and rows["p50_ms"]["verdict"] == "gRPC lower"
    assert rows["rps"]["ci_low"] <= 1 <= rows["rps"]["ci_high"]
    assert rows["rps"]["verdict"] == "within noise"


def test_findings_quote_the_data(default_report: ReportFiles) -> None:
    text = default_report.markdown.read_text()
    summary = by_key(_csv(default_report, "summary"), "protocol", "operation")
    division = fmt_pct(float(summary[("rest", "division")]["success_rate"]))
    assert division in text
    assert "shared this machine's 2 CPU cores" in text
    assert "gRPC faster" in text
    assert "Phases marked generator-bound: 1 of 4" in text


def test_warnings_name_the_bound_phase_and_unexpected_errors(default_report: ReportFiles) -> None:
    text = default_report.markdown.read_text()
    warnings = text.split("## Warnings")[1].split("##")[0]
    assert "r2-grpc-shared" in warnings and "lag p99 above 10ms" in warnings
    assert "unavailable" in warnings and "not the injected division by zero" in warnings
    assert "invalid_argument" not in warnings  # the injected divisions by zero are expected


def test_report_shows_setup_and_tables(default_report: ReportFiles) -> None:
    text = default_report.markdown.read_text()
    for needle in ("abc1234", "testhost", "LATENCY_P99", "TCP_CONN", "gRPC/REST", "95% CI",
                   "charts/latency_spectrum.png", "div_zero"):  # fmt: skip
        assert needle in text
    assert "PARTIAL" not in text


def test_the_report_opens_with_each_stacks_server_model(default_report: ReportFiles) -> None:
    opening = default_report.markdown.read_text().split("## ")[0]
    assert (
        "Servers: REST fastapi: uvicorn (uvloop, httptools), the calculator route through "
        in opening
    )
    assert "gRPC sync: grpcio's synchronous server, a thread pool." in opening


def test_a_run_without_server_models_says_they_were_not_recorded(default_run: Path) -> None:
    meta = json.loads((default_run / "run.json").read_text())
    del meta["settings"]["server_models"]
    run = replace(load_run(default_run), meta=meta)
    assert server_models(analyse(run)) == (
        "Servers: REST not recorded (a run before server models were); gRPC not recorded (a "
        "run before server models were)."
    )
