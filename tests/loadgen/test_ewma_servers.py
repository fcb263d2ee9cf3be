"""`--balancing ewma` against real replicas: one of two addition replicas answers 20 ms late."""

from __future__ import annotations

import asyncio
import csv
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from calcbench.core.endpoints import Endpoints, Replica, ServiceEndpoint
from loadgen import LoadSettings, run_load
from loadgen.target import Target
from loadgen.targets import make_target
from tests.bounds import round_robin_share
from tests.loadgen.conftest import LocalStack

SLOW_DELAY = 0.02


@pytest.fixture(scope="module", params=["rest", "grpc"])
def slow_pair(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """addition-0 answers at once, addition-1 after 20 ms."""
    started = LocalStack(str(request.param))
    try:
        started.add("addition", count=2, delays=(0.0, SLOW_DELAY))
        yield started
    finally:
        started.stop()


def _shares(stack: LocalStack, balancing: str, out: Path) -> dict[str, float]:
    """Run 2 s at 200 requests/s over addition; each replica's share of the answers (client)."""
    settings = LoadSettings(
        protocol=stack.protocol,
        mix=(("addition", 1.0),),
        rate=200,
        duration=2,
        warmup=0,
        balancing=balancing,
        # Every request answered (the counts are exact): a busy 2-core machine can hold a
        # loopback call past the default second, never past ten.
        timeout=10.0,
    )
    result = run_load(settings, stack.endpoints, out)
    assert result.requests == 400
    with (out / "replicas.csv").open(newline="") as file:
        counts = {row["replica"]: int(row["requests"]) for row in csv.DictReader(file)}
    assert sum(counts.values()) == 400  # every request answered, each naming its replica
    return {replica: count / 400 for replica, count in counts.items()}


def test_round_robin_ignores_the_slow_replica(slow_pair: LocalStack, tmp_path: Path) -> None:
    shares = _shares(slow_pair, "round-robin", tmp_path)
    # Per-request rotation: 200/200 for REST; gRPC's round_robin may send a few calls before
    # its second subchannel is READY (see ROUND_ROBIN_SLACK).
    assert round_robin_share(shares["addition-1"]), shares


def test_ewma_sends_most_requests_to_the_fast_replica(
    slow_pair: LocalStack, tmp_path: Path
) -> None:
    shares = _shares(slow_pair, "ewma", tmp_path)
    # The slow replica's estimate peaks at 20 ms with its first answer; the fast one's stays
    # near its loopback round trip (~0.5 ms, a few ms on a busy 2-core machine). The slow one
    # gets a request only when its decaying estimate falls below the fast one's cost, i.e.
    # when the fast replica has ~40 (or, on a slow machine, several) calls in flight, or
    # after tau * ln(20 ms / fast estimate) >= 1 s without an answer: a handful of requests
    # in 2 s, not the 200 round robin sends. 15% is far above that and far below 50%.
    assert shares.get("addition-1", 0.0) < 0.15, shares
    assert shares["addition-0"] > 0.85, shares


def test_a_replica_that_refuses_connections_is_tried_once(
    slow_pair: LocalStack, tmp_path: Path
) -> None:
    """A refused connection fails in microseconds; counted as a whole timeout, it makes the
    dead replica the most expensive one instead of the fastest."""
    live = slow_pair.services["addition"].replicas[0]
    with socket.socket() as reserved:  # bound, not listening: connections are refused
        reserved.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{reserved.getsockname()[1]}"
        endpoint = ServiceEndpoint(live.address, (live, Replica("addition-x", dead, "")))
        endpoints = Endpoints(slow_pair.protocol, {"addition": endpoint})
        settings = LoadSettings(
            protocol=slow_pair.protocol, mix=(("addition", 1.0),), balancing="ewma"
        )
        outcomes = asyncio.run(_sequential_calls(make_target(settings, endpoints), 200))
    # Untried replicas look cheapest, so the dead one is tried early; its 1 s penalty then
    # decays below a live round trip (~1 ms) only after tau * ln(1000) ~ 7 s: tried once.
    # 200 sequential loopback calls take a fraction of a second; 7 s would need 35 ms each.
    assert outcomes == {"ok": 199, "unavailable": 1}


async def _sequential_calls(target: Target, count: int) -> Counter[str]:
    await target.connect()
    try:
        replies = [await target.call("addition", 1.0, 2.0) for _ in range(count)]
    finally:
        await target.close()
    return Counter(reply.outcome for reply in replies)
