"""`--delay` in both server models: every answer waits, inside the server's own timer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc

from tests.calculator_grpc.conftest import StartService, call, rpc_error, scrape

Channel = Callable[..., Any]
DELAY = 0.05


def _duration_sum(metrics_port: int) -> float:
    return sum(
        value
        for (name, _), value in scrape(metrics_port).items()
        if name == "calc_request_duration_seconds_sum"
    )


def test_every_answer_waits_and_the_server_timer_counts_it(
    serve: StartService, channel: Channel
) -> None:
    replica = serve("division", delay=DELAY)
    # Lower bounds by construction, however busy the machine: the aio model's
    # `sleep_at_least` and the sync model's `time.sleep` never end early by perf_counter.
    started = time.perf_counter()
    result, _ = call(channel(replica.port), "division", 1, 2)
    assert result.result == 0.5 and time.perf_counter() - started >= DELAY
    started = time.perf_counter()
    error = rpc_error(channel(replica.port), "division", 1, 0)  # an invalid argument waits too
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert time.perf_counter() - started >= DELAY
    assert _duration_sum(replica.metrics_port) >= 2 * DELAY


def test_percentage_waits_before_calling_its_downstreams(
    serve: StartService, channel: Channel
) -> None:
    multiplication, division = serve("multiplication"), serve("division")
    downstream = {
        "multiplication": (f"127.0.0.1:{multiplication.port}",),
        "division": (f"127.0.0.1:{division.port}",),
    }
    replica = serve("percentage", downstream=downstream, delay=DELAY)
    started = time.perf_counter()
    result, _ = call(channel(replica.port), "percentage", 50, 30)
    assert result.result == 15.0 and time.perf_counter() - started >= DELAY
    # Only percentage waited: multiplication's timer spans microseconds of arithmetic, which
    # a busy machine would have to stall for 50 ms to break this bound.
    assert _duration_sum(multiplication.metrics_port) < DELAY
    assert _duration_sum(replica.metrics_port) >= DELAY
