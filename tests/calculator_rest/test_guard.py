"""Body limit (413, declared or streamed) and the replica header on every response."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from calcbench.core.vocabulary import RestServerModel
from calculator_rest.guard import MAX_BODY_BYTES
from tests.calculator_rest.conftest import StartService, requests_total, url


@pytest.fixture(params=list(RestServerModel))
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_declared_oversize_body_is_413_before_any_body_byte(
    serve: StartService, model: str
) -> None:
    replica = serve("addition", server_model=model, replica_id="a-9")
    head = (
        "POST /addition HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * MAX_BODY_BYTES}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", replica.port), timeout=5) as conn:
        conn.sendall(head.encode())  # and no body: the answer must not wait for it
        answer = read_response(conn)
    status_line, _, rest = answer.partition("\r\n")
    assert status_line.startswith("HTTP/1.1 413 ")
    assert "x-calc-replica: a-9" in rest
    assert f"larger than {MAX_BODY_BYTES} bytes" in rest
    assert requests_total(replica, "malformed") == 1


def read_response(conn: socket.socket) -> str:
    """One whole response with a JSON object body (headers may come in a separate segment)."""
    data = b""
    while not data.endswith(b"}"):
        chunk = conn.recv(4096)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data.decode()


def chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    yield b'{"op1": 1, "op2": 2, "padding": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


def test_streamed_oversize_body_is_413_and_the_server_stays_up(
    serve: StartService, client: httpx.Client, model: str
) -> None:
    replica = serve("addition", server_model=model)
    # A generator body goes out chunked, with no Content-Length to check up front.
    reply = client.post(url(replica, "/addition"), content=chunks(4 * MAX_BODY_BYTES))
    assert reply.status_code == 413
    assert reply.request.headers["transfer-encoding"] == "chunked"
    assert reply.headers["x-calc-replica"] == "addition-test"
    # The same keep-alive client and a fresh one both still get answers.
    again = client.post(url(replica, "/addition"), json={"op1": 1, "op2": 2})
    assert again.json() == {"result": 3.0}
    assert httpx.post(url(replica, "/addition"), json={"op1": 2, "op2": 2}).json() == {
        "result": 4.0
    }
    assert requests_total(replica, "malformed") == 1
    assert requests_total(replica, "ok") == 2


def test_bodies_up_to_the_limit_are_read(
    serve: StartService, client: httpx.Client, model: str
) -> None:
    replica = serve("addition", server_model=model)
    prefix, suffix = b'{"op1": 1, "op2": 2, "padding": "', b'"}'
    body = prefix + b"x" * (MAX_BODY_BYTES - len(prefix) - len(suffix)) + suffix
    assert len(body) == MAX_BODY_BYTES
    assert client.post(url(replica, "/addition"), content=body).json() == {"result": 3.0}
    chunked = client.post(url(replica, "/addition"), content=iter([body[:1000], body[1000:]]))
    assert chunked.json() == {"result": 3.0}
    over = client.post(url(replica, "/addition"), content=body + b" ")
    assert over.status_code == 413
