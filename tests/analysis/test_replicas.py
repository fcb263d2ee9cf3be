"""Imbalance figures per service: max share over fair share, CV, idle replicas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.replicas import balancing_rounds, imbalance, replica_table, summarize_balancing


@pytest.mark.parametrize(
    ("counts", "replicas", "share", "cv", "idle"),
    [
        ([50, 50], 2, 1.0, 0.0, 0),  # perfectly even
        ([100, 0], 2, 2.0, 1.0, 1),  # pinned to one replica of two
        ([100], 2, 2.0, 1.0, 1),  # the idle replica never appeared in the counts
        ([60, 40], 2, 1.2, 0.2, 0),
        ([30, 30, 0], 3, 1.5, math.sqrt(0.5), 1),
    ],
)
def test_imbalance(counts: list[int], replicas: int, share: float, cv: float, idle: int) -> None:
    got = imbalance(np.array(counts), replicas)
    assert got[0] == pytest.approx(share)
    assert got[1] == pytest.approx(cv)
    assert got[2] == idle


def test_imbalance_of_nothing_is_undefined() -> None:
    share, cv, idle = imbalance(np.array([0, 0]), 2)
    assert math.isnan(share) and math.isnan(cv) and idle == 2


def _client() -> pd.DataFrame:
    rows = [
        # round 1 pinned to replica 0, round 2 pinned to replica 1: merged they look even
        ("grpc", "shared", 1, "addition", "addition-0", 100),
        ("grpc", "shared", 2, "addition", "addition-1", 100),
        ("grpc", "round-robin", 1, "addition", "addition-0", 51),
        ("grpc", "round-robin", 1, "addition", "addition-1", 49),
    ]
    columns = ["protocol", "balancing", "round", "service", "replica", "requests"]
    return pd.DataFrame(rows, columns=columns)


def _server() -> pd.DataFrame:
    rows = [
        ("grpc", "shared", 1, "addition", "addition-0", 100, 1),
        ("grpc", "shared", 1, "addition", "addition-1", 0, 0),
        ("grpc", "shared", 2, "addition", "addition-0", 0, 0),
        ("grpc", "shared", 2, "addition", "addition-1", 100, 1),
        ("grpc", "round-robin", 1, "addition", "addition-0", 51, 1),
        ("grpc", "round-robin", 1, "addition", "addition-1", 49, 1),
    ]
    columns = ["protocol", "balancing", "round", "service", "replica", "requests", "tcp_conn"]
    return pd.DataFrame(rows, columns=columns)


def test_pinning_that_moves_between_rounds_is_still_seen() -> None:
    table = replica_table(_client(), _server())
    summary = summarize_balancing(balancing_rounds(table, replicas=2)).set_index("balancing")
    assert summary.loc["shared", "max_share_over_fair"] == pytest.approx(2.0)
    assert summary.loc["shared", "rounds_with_idle"] == 2
    assert summary.loc["shared", "idle_replicas"] == pytest.approx(1.0)
    assert summary.loc["round-robin", "max_share_over_fair"] == pytest.approx(1.02)
    assert summary.loc["round-robin", "idle_replicas"] == 0
    assert set(summary["source"]) == {"server"}


def test_replica_table_joins_client_and_server_counts() -> None:
    table = replica_table(_client(), _server())
    idle = table[(table["balancing"] == "shared") & (table["round"] == 1)].set_index("replica")
    assert idle.loc["addition-1", "requests"] == 0  # never seen by the client
    assert idle.loc["addition-1", "server_requests"] == 0
    assert idle.loc["addition-0", "share"] == pytest.approx(1.0)
    assert list(idle["tcp_conn"]) == [1, 0]  # the server's connections, per round


def test_client_counts_are_used_without_server_metrics() -> None:
    empty = pd.DataFrame(columns=_server().columns)
    rounds = balancing_rounds(replica_table(_client(), empty), replicas=2)
    shared = rounds[rounds["balancing"] == "shared"]
    assert set(shared["source"]) == {"client"}
    assert list(shared["idle_replicas"]) == [1, 1]


@pytest.mark.parametrize("counts", [[100], [0], []])
def test_a_single_replica_is_never_idle(counts: list[int]) -> None:
    assert imbalance(np.array(counts), 1)[2] == 0


def test_each_service_is_measured_against_its_own_replica_count() -> None:
    """The Kubernetes shape: two pods of addition, one of multiplication. Counted against the
    run's largest count, multiplication would show an idle pod that never existed."""
    rows = [
        ("grpc", "shared", 1, "addition", "addition-a", 100),
        ("grpc", "shared", 1, "multiplication", "multiplication-a", 100),
    ]
    columns = ["protocol", "balancing", "round", "service", "replica", "requests"]
    table = replica_table(pd.DataFrame(rows, columns=columns), pd.DataFrame())
    counts = {"addition": 2, "multiplication": 1}
    per_round = balancing_rounds(table, lambda _protocol, service: counts[service])
    got = per_round.set_index("service")
    assert got.loc["addition", "idle_replicas"] == 1
    assert got.loc["addition", "max_share_over_fair"] == pytest.approx(2.0)
    assert got.loc["multiplication", "idle_replicas"] == 0
    assert got.loc["multiplication", "max_share_over_fair"] == pytest.approx(1.0)
