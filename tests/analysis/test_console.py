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


def _table_rows(text: str, title: str) -> list[list[str]]:
    """The cells of each row of the table titled `title`, below its header, up to a blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title)) + 2
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    return [line.split() for line in lines[start:end]]


def _round_shares(rows: list[list[str]]) -> dict[str, list[list[str]]]:
    """Per service, the shares of each round (R1, R2, ...), one list per round over replicas."""
    by_service: dict[str, list[list[str]]] = {}
    for service, _replica, _client, _server, *shares, _conn in rows:
        by_service.setdefault(service, []).append(shares)
    return {service: [list(r) for r in zip(*replicas, strict=True)]
            for service, replicas in by_service.items()}  # fmt: skip


def test_multi_replica_run_prints_replica_tables(balancing_report: ReportFiles) -> None:
    text = _printed(balancing_report.run_dir, 120)
    assert "Imbalance per service" in text
    shares = _round_shares(_table_rows(text, "gRPC, shared: requests per replica"))
    rounds = [r for per_service in shares.values() for r in per_service]
    assert len(shares) == 5 and all(len(r) == 2 for r in rounds)  # 5 services, 2 replicas
    # One channel per service pins a round to one replica: 100% there, 0% on the other.
    assert ["0%", "100%"] in [sorted(r) for r in rounds]
    assert all(sum(int(s.rstrip("%")) for s in r) in (99, 100, 101) for r in rounds)


def test_replica_ids_are_shortened_only_when_named_after_the_service() -> None:
    assert short_replica("addition", "addition-1") == "1"
    assert short_replica("addition", "calc-addition-7f9c") == "calc-addition-7f9c"
