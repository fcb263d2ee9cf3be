"""Percentage over the network: real multiplication and division replicas behind it."""

from __future__ import annotations

import time

import httpx
import pytest

from calculator_rest.server import RestService
from tests.calculator_rest.conftest import StartService, requests_total, scrape, url
from tests.sockets import closed_port


def address(replica: RestService) -> str:
    return f"127.0.0.1:{replica.port}"


def percentage(serve: StartService, multiplication: list[str], division: list[str]) -> RestService:
    downstream = {"multiplication": tuple(multiplication), "division": tuple(division)}
    return serve("percentage", downstream=downstream)


@pytest.fixture
def backends(serve: StartService) -> tuple[RestService, RestService]:
    return serve("multiplication"), serve("division")


def test_percentage_calls_multiplication_then_division(
    serve: StartService, client: httpx.Client, backends: tuple[RestService, RestService]
) -> None:
    multiplication, division = backends
    service = percentage(serve, [address(multiplication)], [address(division)])
    for op1, op2, expected in ((200, 15, 30.0), (50, 50, 25.0), (-8, 12.5, -1.0)):
        reply = client.post(url(service, "/percentage"), json={"op1": op1, "op2": op2})
        assert reply.json() == {"result": expected}
        assert reply.headers["x-calc-replica"] == "percentage-test"
    assert requests_total(multiplication, "ok") == 3
    assert requests_total(division, "ok") == 3
    assert requests_total(service, "ok") == 3
    # One pooled keep-alive connection per downstream, reused by every call.
    [(_, held)] = scrape(multiplication.metrics_port)["calc_tcp_open_connections"]
    assert held == 1


def test_requests_rotate_over_several_multiplication_replicas(
    serve: StartService, client: httpx.Client
) -> None:
    replicas = [serve("multiplication", replica_id=f"multiplication-{i}") for i in range(2)]
    division = serve("division")
    service = percentage(serve, [address(r) for r in replicas], [address(division)])
    for _ in range(10):
        reply = client.post(url(service, "/percentage"), json={"op1": 10, "op2": 10})
        assert reply.json() == {"result": 1.0}
    assert [requests_total(r, "ok") for r in replicas] == [5, 5]  # round robin per request


def test_invalid_arguments_come_back_as_400(
    serve: StartService, client: httpx.Client, backends: tuple[RestService, RestService]
) -> None:
    multiplication, division = backends
    service = percentage(serve, [address(multiplication)], [address(division)])
    overflow = client.post(url(service, "/percentage"), json={"op1": 1e200, "op2": 1e200})
    assert (overflow.status_code, overflow.json()) == (
        400,
        {"detail": "result is not a finite number"},
    )
    assert requests_total(multiplication, "invalid_argument") == 1  # it came from downstream
    infinite = client.post(url(service, "/percentage"), content=b'{"op1": 1e400, "op2": 1}')
    assert infinite.status_code == 400
    assert infinite.json() == {"detail": "operands must be finite numbers"}
    assert requests_total(multiplication, "ok") + requests_total(division, "ok") == 0
    assert requests_total(service, "invalid_argument") == 2
    malformed = client.post(url(service, "/percentage"), json={"op1": "1", "op2": 1})
    assert malformed.status_code == 422


def test_unreachable_downstream_is_502_naming_it(
    serve: StartService, client: httpx.Client, backends: tuple[RestService, RestService]
) -> None:
    multiplication, division = backends
    with closed_port() as port:
        _unreachable_is_502(serve, client, f"127.0.0.1:{port}", multiplication, division)


def _unreachable_is_502(
    serve: StartService,
    client: httpx.Client,
    closed: str,
    multiplication: RestService,
    division: RestService,
) -> None:
    for names, service in (
        ("multiplication", percentage(serve, [closed], [address(division)])),
        ("division", percentage(serve, [address(multiplication)], [closed])),
    ):
        reply = client.post(url(service, "/percentage"), json={"op1": 1, "op2": 2})
        assert reply.status_code == 502
        assert reply.json()["detail"].startswith(f"{names} unavailable: ")
        assert reply.headers["x-calc-replica"] == "percentage-test"
        assert requests_total(service, "unavailable") == 1


def test_a_downstream_answering_off_contract_is_502(
    serve: StartService, client: httpx.Client, backends: tuple[RestService, RestService]
) -> None:
    multiplication, _ = backends
    addition = serve("addition")  # answers 404 for /division
    service = percentage(serve, [address(multiplication)], [address(addition)])
    reply = client.post(url(service, "/percentage"), json={"op1": 1, "op2": 2})
    assert (reply.status_code, reply.json()) == (502, {"detail": "division failed: HTTP 404"})
    assert requests_total(service, "server_error") == 1


def test_silent_downstream_is_504_after_one_second(
    serve: StartService,
    client: httpx.Client,
    backends: tuple[RestService, RestService],
    silent_downstream: str,
) -> None:
    _, division = backends
    service = percentage(serve, [silent_downstream], [address(division)])
    started = time.monotonic()
    reply = client.post(url(service, "/percentage"), json={"op1": 1, "op2": 2})
    elapsed = time.monotonic() - started
    assert reply.status_code == 504
    assert reply.json() == {"detail": "multiplication timed out after 1 s"}
    # The documented 1 s budget per downstream call. The client's timer on uvloop may fire ~1 ms
    # early, far inside 0.1 s; above, 2 s for the rest of the round trip on a busy machine.
    assert 0.9 < elapsed < 3.0
    assert requests_total(service, "timeout") == 1
