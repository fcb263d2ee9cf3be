"""The balancing scenario: imbalance per protocol x mode, per-replica charts and findings."""

from __future__ import annotations

import pandas as pd

from analysis import ReportFiles
from tests.analysis.fixture import by_key

BALANCING_COLUMNS = ["protocol", "balancing", "service", "replicas", "requests",
                     "max_share_over_fair", "cv", "idle_replicas"]  # fmt: skip


def test_balancing_csv(balancing_report: ReportFiles) -> None:
    table = pd.read_csv(balancing_report.csvs["balancing"])
    assert list(table.columns[: len(BALANCING_COLUMNS)]) == BALANCING_COLUMNS
    # The fixture pins each gRPC channel to one replica in shared mode.
    pinned = by_key(table, "protocol", "balancing", "service")[("grpc", "shared", "addition")]
    assert pinned["max_share_over_fair"] == 2.0 and pinned["idle_replicas"] == 1
    even = table[table["balancing"] == "round-robin"]
    assert (even["max_share_over_fair"] < 1.15).all() and (even["idle_replicas"] == 0).all()


def test_replicas_and_services_per_replica(balancing_report: ReportFiles) -> None:
    replicas = pd.read_csv(balancing_report.csvs["replicas"])
    assert {"server_requests", "share", "balancing", "round"} <= set(replicas.columns)
    services = pd.read_csv(balancing_report.csvs["services"])
    per_service = services[services["service"] == "division"]
    assert set(per_service["replica"]) == {"division-0", "division-1", "all"}
    rows = by_key(per_service[per_service["protocol"] == "rest"], "balancing", "replica")
    for mode in ("shared", "round-robin"):
        replicas = rows[(mode, "division-0")]["requests"] + rows[(mode, "division-1")]["requests"]
        assert rows[(mode, "all")]["requests"] == replicas


def test_replica_charts_and_findings(balancing_report: ReportFiles) -> None:
    assert {"replica_requests", "replica_connections"} <= set(balancing_report.charts)
    text = balancing_report.markdown.read_text()
    assert "gRPC shared: max replica share / fair share" in text
    assert "had an idle replica: addition (2/2 rounds)" in text
    assert "gRPC round-robin" in text and "every replica served requests in every round" in text
    assert "## Replicas" in text
