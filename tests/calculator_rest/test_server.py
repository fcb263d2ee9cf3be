"""start(): sockets it binds, ports it resolves, SO_REUSEPORT sharing, and stop()."""

from __future__ import annotations

import socket

import httpx
import pytest

from calcbench.core.listening import PortShare
from calcbench.core.service_config import RunningService, ServiceConfig
from calculator_rest.server import start
from tests.calculator_rest.conftest import StartService
from tests.sockets import is_released


def test_port_zero_is_resolved_and_own_port_answers_too(serve: StartService) -> None:
    replica: RunningService = serve("addition", own_port=0)  # the shape both stacks share
    assert replica.port > 0 and replica.own_port is not None and replica.own_port > 0
    assert len({replica.port, replica.own_port, replica.metrics_port}) == 3
    for port in (replica.port, replica.own_port):
        reply = httpx.post(f"http://127.0.0.1:{port}/addition", json={"op1": 1, "op2": 2})
        assert reply.json() == {"result": 3.0}


def test_replicas_with_reuse_port_share_one_port_and_both_get_connections(
    serve: StartService,
) -> None:
    first = serve("addition", share=PortShare.OPEN, replica_id="addition-0")
    port = first.port
    second = serve("addition", port=port, share=PortShare.JOIN, replica_id="addition-1")
    assert second.port == port
    seen: set[str] = set()
    for _ in range(200):  # new connections: the kernel hashes each to one of the two
        reply = httpx.post(f"http://127.0.0.1:{port}/addition", json={"op1": 1, "op2": 1})
        seen.add(reply.headers["x-calc-replica"])
        if len(seen) == 2:
            break
    assert seen == {"addition-0", "addition-1"}


def test_a_taken_port_is_an_error_naming_it(serve: StartService) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"^port {port} on 127.0.0.1 is already in use$"):
            serve("addition", port=port)
        with pytest.raises(OSError, match=f"^port {port} on 127.0.0.1 is already in use$"):
            serve("addition", metrics_port=port)


def test_stop_releases_the_port() -> None:
    replica = start(ServiceConfig("division", port=0, metrics_port=0, replica_id="d"))
    port = replica.port
    assert httpx.post(f"http://127.0.0.1:{port}/division", json={"op1": 1, "op2": 4}).json() == {
        "result": 0.25
    }
    replica.stop(grace=0.5)
    assert not replica.thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"http://127.0.0.1:{port}/division", json={"op1": 1, "op2": 4})
    assert is_released(port)
