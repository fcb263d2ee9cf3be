"""The terminal summary: linkerd-style tables, the client summary with ratios, warnings."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from analysis import ReportFiles
from analysis.console import print_run_summary
from analysis.tables import short_replica


def _printed(run_dir: Path, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    print_run_summary(run_dir, console)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()


def test_summary_prints_both_linkerd_tables_then_the_client_summary(default_run: Path) -> None:
    text = _printed(default_run, 120)
    rest, grpc, client = (
        text.index(t) for t in ("REST (HTTP/1.1)", "gRPC (HTTP/2)", "Client side")
    )
    assert rest < grpc < client < text.index("warning:")
    header = next(line for line in text.splitlines() if line.startswith("NAME"))
    assert header.split() == ["NAME", "REPLICA", "SUCCESS", "RPS", "LATENCY_P50", "LATENCY_P95",
                              "LATENCY_P99", "TCP_CONN"]  # fmt: skip
    division = next(line for line in text.splitlines() if line.startswith("division"))
    assert division.split()[2].endswith("%") and division.split()[3].endswith("rps")
    assert division.split()[4].endswith("ms")
    assert "gRPC/REST" in text and "within noise" in text
    assert "r2-grpc-shared" in text  # the generator-bound phase is warned about


def test_narrow_terminal_never_cuts_values(default_run: Path) -> None:
    text = _printed(default_run, 80)
    assert all(len(line) <= 80 for line in text.splitlines() if "warning" not in line)
    division = next(line for line in text.splitlines() if line.startswith("division"))
    assert len(division.split()) == 8 and division.split()[3].endswith("rps")


def test_multi_replica_run_prints_replica_tables(balancing_report: ReportFiles) -> None:
    text = _printed(balancing_report.run_dir, 120)
    assert "gRPC, shared: requests per replica" in text
    assert "Imbalance per service" in text
    assert "100%" in text and "0%" in text  # a pinned round on one replica, none on the other


def test_replica_ids_are_shortened_only_when_named_after_the_service() -> None:
    assert short_replica("addition", "addition-1") == "1"
    assert short_replica("addition", "calc-addition-7f9c") == "calc-addition-7f9c"
