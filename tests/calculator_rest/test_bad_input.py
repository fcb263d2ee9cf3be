"""Bad input against a real replica, once per server model: every case gets its documented
status and a JSON `detail`, none a 500, and the replica keeps answering.

Every request to the calculator route (`POST /<service>`) is counted once in
`calc_requests_total`: 413, 415, 422 and a body cut off by the client as `malformed`. What
never reaches that route is not a calculator call and is not counted: unknown paths (404),
wrong methods (405), and what uvicorn's HTTP parser refuses (its plain-text 400) or never
finishes reading (a request whose head never ends).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from calcbench.core.service_config import ServiceConfig
from calcbench.core.vocabulary import SERVER_OUTCOMES, RestServerModel
from calculator_rest.guard import MAX_BODY_BYTES
from calculator_rest.server import RestService, start
from tests.calculator_rest.conftest import url

VALID = b'{"op1": 6, "op2": 3}'
JSON_HEADERS = {"content-type": "application/json"}


@pytest.fixture(scope="module", params=list(RestServerModel))
def replica(request: pytest.FixtureRequest) -> Iterator[RestService]:
    """One division replica per server model for the whole module (a stop takes 0.2 s; each
    test checks what its own requests added to the counts)."""
    config = ServiceConfig(
        "division", port=0, metrics_port=0, replica_id="division-bad", server_model=request.param
    )
    service = start(config)
    yield service
    service.stop(0)


BODIES = [
    # (case, body, status, detail starts with)
    ("malformed JSON", b'{"op1": 1, "op2": ', 422, "body is not valid JSON"),
    ("not an object", b"[6, 3]", 422, "body must be a JSON object"),
    ("missing field", b'{"op1": 6}', 422, "op2 is missing"),
    ("string operand", b'{"op1": "6", "op2": 3}', 422, "op1 must be a number, not a string"),
    ("boolean operand", b'{"op1": 6, "op2": false}', 422, "op2 must be a number, not a boolean"),
    ("null operand", b'{"op1": null, "op2": 3}', 422, "op1 must be a number, not null"),
    ("nested object", b'{"op1": {"v": 6}, "op2": 3}', 422, "op1 must be a number, not an object"),
    ("deep nesting", b"[" * 50_000, 422, "body is not valid JSON"),
    ("empty body", b"", 422, "body is not valid JSON"),
    ("not UTF-8", b'{"op1": 6, "op2": 3, "x": "\xff"}', 422, "body is not valid JSON"),
    ("overflow to infinity", b'{"op1": 1e400, "op2": 3}', 400, "operands must be finite"),
    ("5,000-digit integer", b'{"op1": ' + b"9" * 5000 + b', "op2": 3}', 400, "operands must"),
    ("NaN literal", b'{"op1": NaN, "op2": 3}', 400, "operands must be finite numbers"),
    ("Infinity literal", b'{"op1": 6, "op2": -Infinity}', 400, "operands must be finite"),
    ("division by zero", b'{"op1": 6, "op2": 0}', 400, "division by zero"),
    ("result overflows", b'{"op1": 1e308, "op2": 1e-308}', 400, "result is not a finite number"),
    ("body over 64 KiB", b'{"op1": 6, "op2": 3, "x": "' + b"x" * MAX_BODY_BYTES + b'"}', 413, ""),
]


@pytest.mark.parametrize(
    ("body", "status", "detail"), [case[1:] for case in BODIES], ids=[case[0] for case in BODIES]
)
def test_bad_bodies_get_their_status_and_a_json_detail(
    replica: RestService, client: httpx.Client, body: bytes, status: int, detail: str
) -> None:
    before = counts(replica)
    reply = client.post(url(replica, "/division"), content=body, headers=JSON_HEADERS)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["detail"].startswith(detail)
    assert reply.headers["x-calc-replica"] == "division-bad"
    outcome = "invalid_argument" if status == 400 else "malformed"
    assert added(replica, before) == {outcome: 1}
    assert_still_answers(replica, client)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_declared_non_json_content_type_is_415(
    replica: RestService, client: httpx.Client, content_type: str
) -> None:
    before = counts(replica)
    reply = client.post(
        url(replica, "/division"), content=VALID, headers={"content-type": content_type}
    )
    assert reply.status_code == 415
    assert reply.json() == {
        "detail": f"content-type must be application/json, not {content_type!r}"
    }
    assert added(replica, before) == {"malformed": 1}


@pytest.mark.parametrize(
    "headers", [{}, {"content-type": "application/json; charset=utf-8"}], ids=["none", "charset"]
)
def test_json_with_parameters_or_no_content_type_is_read(
    replica: RestService, client: httpx.Client, headers: dict[str, str]
) -> None:
    reply = client.post(url(replica, "/division"), content=VALID, headers=headers)
    assert (reply.status_code, reply.json()) == (200, {"result": 2.0})


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/division", 405),
        ("PUT", "/division", 405),
        ("DELETE", "/division", 405),
        ("POST", "/addition", 404),
        ("POST", "/division/extra", 404),
        ("GET", "/", 404),
    ],
)
def test_unknown_paths_and_wrong_methods_are_json_404_405_not_counted(
    replica: RestService, client: httpx.Client, method: str, path: str, status: int
) -> None:
    before = counts(replica)
    reply = client.request(method, url(replica, path), content=VALID, headers=JSON_HEADERS)
    assert reply.status_code == status
    assert isinstance(reply.json()["detail"], str)
    assert reply.headers["x-calc-replica"] == "division-bad"
    if status == 405:
        assert reply.headers["allow"] == "POST"
    assert added(replica, before) == {}
    assert_still_answers(replica, client)


def test_very_long_headers_are_not_limited_and_the_server_stays_up(
    replica: RestService, client: httpx.Client
) -> None:
    # httptools (llhttp) sets no limit on a header's size or count, and uvicorn adds none: a
    # 1 MiB header, or 5,000 headers, are read whole and the request served; no 431, no 400.
    # (uvicorn's h11 parser, not used here, refuses a head over 16 KiB with a plain 400.)
    for headers in ([b"x-padding: " + b"p" * (1 << 20)], [b"x-h%d: v" % i for i in range(5000)]):
        with socket.create_connection(("127.0.0.1", replica.port), timeout=10) as conn:
            conn.sendall(post(VALID, headers))
            answer = read_response(conn)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert answer.endswith(b'\r\n\r\n{"result":2.0}')
    assert_still_answers(replica, client)


@pytest.mark.parametrize(
    "head",
    [
        b"POST /division HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",
        b"POST /division?" + b"q" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",  # HTTP/2 prior knowledge
    ],
    ids=["bad content-length", "URL over 64 KiB", "TLS hello", "HTTP/2 preface"],
)
def test_what_the_http_parser_refuses_is_its_plain_400_and_not_counted(
    replica: RestService, client: httpx.Client, head: bytes
) -> None:
    before = counts(replica)
    with socket.create_connection(("127.0.0.1", replica.port), timeout=10) as conn:
        conn.sendall(head)
        answer = read_until_closed(conn)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert answer.endswith(b"\r\n\r\nInvalid HTTP request received.")
    assert added(replica, before) == {}
    assert_still_answers(replica, client)


def test_a_client_holding_half_a_request_does_not_stop_others(
    replica: RestService, client: httpx.Client
) -> None:
    # uvicorn has no timeout for a request's head or body (its keep-alive timeout only runs
    # between requests), so these two are held until they close; others are served meanwhile.
    before = counts(replica)
    half_head = socket.create_connection(("127.0.0.1", replica.port), timeout=10)
    half_body = socket.create_connection(("127.0.0.1", replica.port), timeout=10)
    try:
        half_head.sendall(b"POST /division HTTP/1.1\r\nHost: x\r\nContent-Le")
        half_body.sendall(b"POST /division HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n{")
        for _ in range(3):
            assert_still_answers(replica, client)
    finally:
        half_head.close()
        half_body.close()
    # The cut-off body is a call the replica could not read; the unfinished head never was one.
    assert wait_for_added(replica, before, {"ok": 3, "malformed": 1}) == {"ok": 3, "malformed": 1}


def test_a_body_cut_off_by_the_client_is_never_answered_as_complete(
    replica: RestService, client: httpx.Client
) -> None:
    # The first 17 of 40 declared bytes are a whole JSON object; it must not be computed.
    before = counts(replica)
    with socket.create_connection(("127.0.0.1", replica.port), timeout=10) as conn:
        conn.sendall(b"POST /division HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n")
        conn.sendall(b'{"op1":6,"op2":3}')
    assert wait_for_added(replica, before, {"malformed": 1}) == {"malformed": 1}
    assert_still_answers(replica, client)


def assert_still_answers(replica: RestService, client: httpx.Client) -> None:
    reply = client.post(url(replica, "/division"), content=VALID, headers=JSON_HEADERS)
    assert (reply.status_code, reply.json()) == (200, {"result": 2.0})


def counts(replica: RestService) -> dict[str, float]:
    """calc_requests_total by outcome, from the replica's registry: the fuzz tests read the
    metrics port, whose connection gauge (a scan of the process's sockets) would cost more
    here than the request under test."""
    counter = replica.metrics.registry.restricted_registry(["calc_requests_total"])
    return {
        sample.labels["outcome"]: sample.value
        for family in counter.collect()
        for sample in family.samples
        if sample.name == "calc_requests_total"
    }


def added(replica: RestService, before: dict[str, float]) -> dict[str, float]:
    """What each outcome's count gained since `before`; outcomes that gained nothing left out."""
    now = counts(replica)
    return {
        outcome: now[outcome] - before[outcome]
        for outcome in SERVER_OUTCOMES
        if now[outcome] != before[outcome]
    }


def wait_for_added(
    replica: RestService, before: dict[str, float], expected: dict[str, float]
) -> dict[str, float]:
    """`added` once it is `expected`, or as it is after 10 s: the server notices a closed
    connection a moment after the client closes it."""
    deadline = time.monotonic() + 10.0
    while (gained := added(replica, before)) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return gained


def post(body: bytes, headers: list[bytes]) -> bytes:
    """A raw `POST /division` with `headers` (each `name: value`) and `body`."""
    head = [b"POST /division HTTP/1.1", b"Host: x", b"Content-Length: %d" % len(body), *headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def read_response(conn: socket.socket) -> bytes:
    """One response whose body is a JSON object (it ends with `}`)."""
    data = b""
    while not data.endswith(b"}"):
        chunk = conn.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data


def read_until_closed(conn: socket.socket) -> bytes:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data
