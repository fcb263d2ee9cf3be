"""`--error-rate`: a replica answers a seeded fraction of its calls with HTTP 500."""

from __future__ import annotations

import httpx

from tests.calculator_rest.conftest import StartService, requests_total, url


def test_every_call_fails_at_rate_one(serve: StartService, client: httpx.Client) -> None:
    service = serve("addition", error_rate=1.0)
    answers = [client.post(url(service, "/addition"), json={"op1": 1, "op2": 2}) for _ in range(5)]
    assert {a.status_code for a in answers} == {500}
    assert "injected server error" in answers[0].json()["detail"]
    assert requests_total(service, "server_error") == 5


def test_a_seeded_fraction_fails_the_same_calls_each_time(
    serve: StartService, client: httpx.Client
) -> None:
    patterns = []
    for _ in range(2):
        service = serve("addition", error_rate=0.3, replica_id="addition-0")
        path = url(service, "/addition")
        answers = [client.post(path, json={"op1": 1, "op2": 2}) for _ in range(40)]
        patterns.append([a.status_code for a in answers])
    assert patterns[0] == patterns[1]
    # 40 draws at 0.3: the seeded pattern has failures and successes (no chance involved).
    assert set(patterns[0]) == {200, 500}
