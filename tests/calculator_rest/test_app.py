"""The REST contract of one replica: routes, status codes, error bodies, replica header.

Runs against real uvicorn servers on port 0, once per server model (`lean`, `fastapi`).
"""

from __future__ import annotations

import httpx
import pytest

from calcbench.core.vocabulary import RestServerModel
from tests.calculator_rest.conftest import StartService, requests_total, url


@pytest.fixture(params=list(RestServerModel))
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize(
    ("service", "op1", "op2", "expected"),
    [
        ("addition", 2, 3.5, 5.5),
        ("subtraction", 2, 3.5, -1.5),
        ("multiplication", 2, 3.5, 7.0),
        ("division", 7, 2, 3.5),
        ("division", -1.0, 4, -0.25),
    ],
)
def test_every_local_operation(
    serve: StartService,
    client: httpx.Client,
    model: str,
    service: str,
    op1: float,
    op2: float,
    expected: float,
) -> None:
    replica = serve(service, server_model=model)
    reply = client.post(url(replica, f"/{service}"), json={"op1": op1, "op2": op2})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"result": expected}
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-calc-replica"] == f"{service}-test"
    assert requests_total(replica, "ok") == 1


INVALID_ARGUMENTS = [
    (b'{"op1": 1, "op2": 0}', "division by zero"),
    (b'{"op1": 1e400, "op2": 2}', "operands must be finite numbers"),
    (b'{"op1": 1, "op2": -Infinity}', "operands must be finite numbers"),
    (b'{"op1": 1e308, "op2": 1e-10}', "result is not a finite number"),
]


def test_invalid_arguments_are_400_with_one_line_detail(
    serve: StartService, client: httpx.Client, model: str
) -> None:
    replica = serve("division", server_model=model)
    for body, detail in INVALID_ARGUMENTS:
        reply = client.post(url(replica, "/division"), content=body)
        assert (reply.status_code, reply.json()) == (400, {"detail": detail}), body
        assert reply.headers["x-calc-replica"] == "division-test"
    assert requests_total(replica, "invalid_argument") == len(INVALID_ARGUMENTS)
    tiny = client.post(url(replica, "/division"), json={"op1": 1e-320, "op2": 1e10})
    assert tiny.json() == {"result": 0.0}  # underflow to zero is finite, so an answer


MALFORMED = [
    b"not json",
    b'{"op1": 1, "op2": 2',
    b'{"op1": "1", "op2": 2}',
    b'{"op1": true, "op2": 2}',
    b'{"op1": null, "op2": 2}',
    b'{"op1": 1}',
    b"[1, 2]",
    b"",
]


def test_malformed_or_wrongly_typed_bodies_are_422(
    serve: StartService, client: httpx.Client, model: str
) -> None:
    replica = serve("addition", server_model=model)
    for body in MALFORMED:
        reply = client.post(url(replica, "/addition"), content=body)
        assert reply.status_code == 422, body
        assert isinstance(reply.json()["detail"], str)
        assert reply.headers["x-calc-replica"] == "addition-test"
    assert requests_total(replica, "malformed") == len(MALFORMED)
    assert requests_total(replica, "ok") == 0


def test_healthz_and_unknown_routes_carry_the_replica_header(
    serve: StartService, client: httpx.Client, model: str
) -> None:
    replica = serve("subtraction", server_model=model, replica_id="sub-7")
    health = client.get(url(replica, "/healthz"))
    assert (health.status_code, health.headers["x-calc-replica"]) == (200, "sub-7")
    missing = client.post(url(replica, "/addition"), json={"op1": 1, "op2": 2})
    assert (missing.status_code, missing.headers["x-calc-replica"]) == (404, "sub-7")
    wrong_method = client.get(url(replica, "/subtraction"))
    assert (wrong_method.status_code, wrong_method.headers["x-calc-replica"]) == (405, "sub-7")
    assert requests_total(replica, "ok") == 0  # only calculator requests are counted


def test_openapi_documents_the_route_and_its_body(
    serve: StartService, client: httpx.Client, model: str
) -> None:
    replica = serve("multiplication", server_model=model)
    document = client.get(url(replica, "/openapi.json")).json()
    operation = document["paths"]["/multiplication"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["op1", "op2"]
    assert schema["properties"]["op1"]["type"] == "number"
    assert schema["properties"]["op2"]["type"] == "number"
    assert set(operation["responses"]) >= {"200", "400", "413", "422"}
    result = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert result == {"$ref": "#/components/schemas/Result"}
    assert document["components"]["schemas"]["Result"]["properties"]["result"]["type"] == "number"
    assert set(document["paths"]) == {"/multiplication", "/healthz"}
