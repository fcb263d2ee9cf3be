"""The stretch goal of issue 5, end to end: one slow addition replica, round robin vs ewma.
The run is `balancing_run` (conftest), shared with the balancing module."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.bounds import round_robin_share
from tests.calcbench.conftest import SLOW_DELAY_MS, SLOW_FAULT

# Starts whole stacks: one xdist worker runs every such module, one after the other.
pytestmark = pytest.mark.xdist_group("stacks")


def _slow_share(run: Path, protocol: str, mode: str) -> float:
    """addition-1's share of addition's requests, counted by the client."""
    with (run / "replicas.csv").open(newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if (r["protocol"], r["balancing"], r["service"]) == (protocol, mode, "addition")
        ]
    counts = {r["replica"]: int(float(r["requests"])) for r in rows}
    # ~40 requests/s to addition for 3 s: enough for clear shares.
    assert set(counts) == {"addition-0", "addition-1"} and sum(counts.values()) >= 100, counts
    return counts["addition-1"] / sum(counts.values())


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_ewma_avoids_the_slow_replica_that_round_robin_feeds(
    balancing_run: Path, protocol: str
) -> None:
    # Round robin: per-request rotation (see ROUND_ROBIN_SLACK). ewma: the 20 ms replica is
    # tried again only once its decaying estimate falls below the fast one's cost, a handful
    # of times a run (measured: 2-3 of ~120 in 3 s); 15% bounds that far from 50%.
    assert round_robin_share(_slow_share(balancing_run, protocol, "round-robin"))
    assert _slow_share(balancing_run, protocol, "ewma") < 0.15


def test_the_fault_is_recorded_and_visible_in_server_latency(balancing_run: Path) -> None:
    settings = json.loads((balancing_run / "run.json").read_text())["settings"]
    assert settings["fault"] == SLOW_FAULT
    assert settings["balancing_modes"] == ["shared", "round-robin", "ewma"]
    with (balancing_run / "services.csv").open(newline="") as handle:
        p50 = {
            (r["protocol"], r["balancing"], r["replica"]): float(r["p50_ms"])
            for r in csv.DictReader(handle)
            if r["service"] == "addition" and r["p50_ms"]
        }
    for protocol in ("rest", "grpc"):
        # The delay is inside the replica's own timer and never shorter than asked
        # (`sleep_at_least`, `time.sleep`): every answer lands in the bucket above 100 ms (a
        # bucket bound) or a later one, where interpolation puts the median above 100 ms.
        assert p50[(protocol, "round-robin", "addition-1")] >= SLOW_DELAY_MS
        # The fast replica's timer spans microseconds: half its answers would need a 100 ms
        # stall inside it.
        assert p50[(protocol, "round-robin", "addition-0")] < SLOW_DELAY_MS
