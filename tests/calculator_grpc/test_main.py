"""`python -m calculator_grpc` as a supervisor runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from calcbench.core.service_main import GRACE_SECONDS, SIGNAL_POLL_SECONDS
from tests.calculator_grpc.conftest import call

Channel = Callable[..., Any]


def _entry_point(*args: str) -> list[str]:
    return [sys.executable, "-m", "calculator_grpc", *args]


def _ready_line(process: subprocess.Popen[str], timeout: float = 20.0) -> dict[str, Any]:
    """The JSON ready line, read with a deadline (a hung child fails the test, not the suite)."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            pytest.fail(f"no ready line within {timeout} s")
    line: dict[str, Any] = json.loads(process.stdout.readline())
    return line


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start the entry point; any child still running at teardown is killed and reaped."""
    children: list[subprocess.Popen[str]] = []

    def _spawn(*args: str) -> subprocess.Popen[str]:
        child = subprocess.Popen(
            _entry_point(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        children.append(child)
        return child

    yield _spawn
    for child in children:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)


@pytest.mark.parametrize("server_model", ["sync", "aio"])
def test_serves_until_sigterm_then_exits_zero(
    spawn: Callable[..., subprocess.Popen[str]], channel: Channel, server_model: str
) -> None:
    child = spawn(
        "addition", "--port", "0", "--own-port", "0", "--metrics-port", "0",
        "--replica-id", "addition-5", "--server-model", server_model,
    )  # fmt: skip
    ready = _ready_line(child)
    assert ready["event"] == "ready" and ready["pid"] == child.pid
    assert ready["service"] == "addition" and ready["replica"] == "addition-5"
    for port in (ready["port"], ready["own_port"]):
        result, answer = call(channel(port), "addition", 20, 22)
        assert result.result == 42
        assert ("x-calc-replica", "addition-5") in tuple(answer.initial_metadata())
    started = time.monotonic()
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=15)
    assert child.returncode == 0, stderr
    # By design at most SIGNAL_POLL_SECONDS for the main thread to see the signal, plus
    # GRACE_SECONDS for calls in flight (none here, so not waited), plus the interpreter's exit
    # (0.1 s measured). Five more seconds of room for that exit on a busy 2-core machine; a stop
    # that waited for something else (a 30 s Kubernetes-style grace) would still fail.
    assert time.monotonic() - started < SIGNAL_POLL_SECONDS + GRACE_SECONDS + 5.0


def test_a_port_in_use_is_a_one_line_error(
    spawn: Callable[..., subprocess.Popen[str]],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        child = spawn("division", "--port", str(port), "--metrics-port", "0")
        stdout, stderr = child.communicate(timeout=20)
    assert child.returncode == 2
    assert stderr == f"error: port {port} on 127.0.0.1 is already in use\n"
    # and one line for the supervisor, which tells a port in use from other failures
    assert json.loads(stdout) == {
        "event": "failed",
        "error": f"port {port} on 127.0.0.1 is already in use",
        "port_in_use": port,
    }


def test_percentage_without_downstreams_is_a_usage_error() -> None:
    env_free = {k: v for k, v in os.environ.items() if not k.endswith("_ENDPOINT")}
    child = subprocess.run(
        _entry_point("percentage", "--port", "0", "--metrics-port", "0"),
        capture_output=True, text=True, timeout=20, env=env_free,
    )  # fmt: skip
    assert child.returncode == 2
    assert "percentage needs its downstream addresses" in child.stderr
    assert "Traceback" not in child.stderr
