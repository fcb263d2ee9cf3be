"""`--delay`: a replica that waits before answering each calculator request (a slow replica)."""

from __future__ import annotations

import time

import httpx
import pytest

from calcbench.core.service_config import ServiceConfig, parse_service_args
from calcbench.core.vocabulary import RestServerModel
from tests.calculator_rest.conftest import StartService, scrape, url

DELAY = 0.05


def _duration_sum(metrics_port: int) -> float:
    [(_, total)] = scrape(metrics_port)["calc_request_duration_seconds_sum"]
    return total


@pytest.mark.parametrize("model", list(RestServerModel))
def test_every_answer_waits_and_the_server_timer_counts_it(
    serve: StartService, client: httpx.Client, model: str
) -> None:
    replica = serve("division", delay=DELAY, server_model=model)
    # Lower bounds by construction (`sleep_at_least` on the same clock), however busy the
    # machine: a late timer only makes the wait longer.
    for op2, status in ((2, 200), (0, 400)):  # an invalid argument waits too
        started = time.perf_counter()
        reply = client.post(url(replica, "/division"), json={"op1": 1, "op2": op2})
        assert reply.status_code == status and time.perf_counter() - started >= DELAY
    # Inside the endpoint's timer, as a slow replica's own work would be.
    assert _duration_sum(replica.metrics_port) >= 2 * DELAY
    assert client.get(url(replica, "/healthz")).status_code == 200


def test_percentage_waits_before_calling_its_downstreams(
    serve: StartService, client: httpx.Client
) -> None:
    multiplication, division = serve("multiplication"), serve("division")
    downstream = {
        "multiplication": (f"127.0.0.1:{multiplication.port}",),
        "division": (f"127.0.0.1:{division.port}",),
    }
    replica = serve("percentage", downstream=downstream, delay=DELAY)
    started = time.perf_counter()
    reply = client.post(url(replica, "/percentage"), json={"op1": 50, "op2": 30})
    assert reply.json() == {"result": 15.0} and time.perf_counter() - started >= DELAY
    # Only percentage waited: multiplication's timer spans microseconds of arithmetic, which
    # a busy machine would have to stall for 50 ms to break this bound.
    assert _duration_sum(multiplication.metrics_port) < DELAY


def test_the_delay_flag() -> None:
    config = parse_service_args(
        ["addition", "--port", "0", "--metrics-port", "0", "--delay", "0.02"], prog="x"
    )
    assert config.delay == 0.02
    assert parse_service_args(["addition", "--port", "0", "--metrics-port", "0"], "x").delay == 0
    for bad in (-0.01, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="--delay must be a number of seconds >= 0"):
            ServiceConfig("addition", 0, 0, delay=bad)
