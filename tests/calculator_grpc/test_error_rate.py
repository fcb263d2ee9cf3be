"""`--error-rate`: a replica answers a seeded fraction of its calls with INTERNAL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from tests.calculator_grpc.conftest import StartService, call, requests_total, rpc_error


def test_every_call_fails_at_rate_one(serve: StartService, channel: Callable[..., Any]) -> None:
    service = serve("addition", error_rate=1.0)
    stub = channel(service.port)
    errors = [rpc_error(stub, "addition", 1, 2) for _ in range(5)]
    assert {e.code() for e in errors} == {grpc.StatusCode.INTERNAL}
    assert "injected server error" in errors[0].details()
    assert requests_total(service.metrics_port, "server_error") == 5


def _outcome(stub: Any) -> str:
    try:
        call(stub, "addition", 1, 2)
    except grpc.RpcError as exc:
        return str(exc.code())
    return "ok"


def test_a_seeded_fraction_fails_the_same_calls_each_time(
    serve: StartService, channel: Callable[..., Any]
) -> None:
    patterns = []
    for _ in range(2):
        service = serve("addition", error_rate=0.3, replica_id="addition-0")
        stub = channel(service.port)
        patterns.append([_outcome(stub) for _ in range(40)])
    assert patterns[0] == patterns[1]
    # 40 draws at 0.3: the seeded pattern has failures and successes (no chance involved).
    assert set(patterns[0]) == {"ok", "StatusCode.INTERNAL"}
