"""`python -m calculator_rest`: ready line, graceful exit on signals, one-line port errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest

from tests.calculator_rest.conftest import Spawn


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_after_the_ready_line_and_exits_0_on_a_signal(spawn: Spawn, sig: int) -> None:
    proc, ready = spawn(
        "multiplication", "--port", "0", "--metrics-port", "0", "--replica-id", "m-1"
    )
    assert ready["event"] == "ready" and ready["service"] == "multiplication"
    assert ready["replica"] == "m-1" and ready["pid"] == proc.pid
    reply = httpx.post(
        f"http://127.0.0.1:{ready['port']}/multiplication", json={"op1": 3, "op2": 4}
    )
    assert (reply.json(), reply.headers["x-calc-replica"]) == ({"result": 12.0}, "m-1")
    metrics = httpx.get(f"http://127.0.0.1:{ready['metrics_port']}/metrics").text
    assert 'calc_requests_total{outcome="ok",replica="m-1",service="multiplication"} 1.0' in metrics
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_a_second_replica_joins_the_port_the_first_opened(spawn: Spawn) -> None:
    common = ("addition", "--metrics-port", "0", "--own-port", "0")
    _, first = spawn(*common, "--port", "0", "--reuse-port", "--replica-id", "addition-0")
    port = str(first["port"])
    _, second = spawn(*common, "--port", port, "--join-port", "--replica-id", "addition-1")
    assert second["port"] == first["port"] > 0
    for ready in (first, second):  # each also answers on its own port
        reply = httpx.post(
            f"http://127.0.0.1:{ready['own_port']}/addition", json={"op1": 1, "op2": 1}
        )
        assert reply.headers["x-calc-replica"] == ready["replica"]


@pytest.mark.parametrize("flag", ["--port", "--metrics-port", "--own-port"])
def test_a_port_in_use_is_a_one_line_error_and_exit_2(flag: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {"--port": "0", "--metrics-port": "0", flag: str(port)}
        argv = [sys.executable, "-m", "calculator_rest", "addition"]
        argv += [part for item in ports.items() for part in item]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr == f"error: port {port} on 127.0.0.1 is already in use\n"
    assert json.loads(done.stdout) == {
        "event": "failed",
        "error": f"port {port} on 127.0.0.1 is already in use",
        "port_in_use": port,
    }


def test_percentage_without_downstream_is_a_usage_error() -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_ENDPOINT")}
    argv = [sys.executable, "-m", "calculator_rest", "percentage", "--port", "0"]
    argv += ["--metrics-port", "0"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 2
    assert "percentage needs its downstream addresses" in done.stderr
    assert "Traceback" not in done.stderr
