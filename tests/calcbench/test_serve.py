"""`calcbench serve` as a user runs it: a real subprocess, real services, then Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import httpx
import psutil
import pytest

from calcbench.core.endpoints import Endpoints
from calcbench.core.protos.calculator.v1 import calculator_pb2
from calcbench.core.rpc import METHOD_PATHS

# Starts whole stacks: one xdist worker runs every such module, one after the other.
pytestmark = pytest.mark.xdist_group("stacks")

CALCBENCH = [sys.executable, "-m", "calcbench.cli"]
#: Each service's answer to (6, 3).
EXPECTED = {
    "addition": 9.0,
    "subtraction": 3.0,
    "multiplication": 18.0,
    "division": 2.0,
    "percentage": 0.18,
}


def _wait_for_file(path: Path, process: subprocess.Popen[str], timeout: float = 60) -> Endpoints:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.communicate()}")
        if path.exists() and path.stat().st_size:
            return Endpoints.load(path)
        time.sleep(0.1)
    raise AssertionError("endpoints file never written")


def _call(protocol: str, address: str, service: str, op1: float, op2: float) -> float:
    if protocol == "rest":
        reply = httpx.post(f"http://{address}/{service}", json={"op1": op1, "op2": op2})
        reply.raise_for_status()
        return float(reply.json()["result"])
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary(
            METHOD_PATHS[service],
            request_serializer=calculator_pb2.Operands.SerializeToString,
            response_deserializer=calculator_pb2.Result.FromString,
        )
        return float(call(calculator_pb2.Operands(op1=op1, op2=op2), timeout=5).result)


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_serve_answers_and_leaves_nothing_behind(protocol: str, tmp_path: Path) -> None:
    endpoints_file = tmp_path / "endpoints.json"
    command = [*CALCBENCH, "serve", protocol, "--base-port", "0", "--replicas", "2"]
    process = subprocess.Popen(
        [*command, "--endpoints-file", str(endpoints_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pids: list[int] = []
    try:
        endpoints = _wait_for_file(endpoints_file, process)
        pids = [r.pid for s in endpoints.services.values() for r in s.replicas if r.pid]
        assert endpoints.protocol == protocol and len(pids) == 10
        for service, value in EXPECTED.items():
            shared = endpoints.services[service].address
            assert _call(protocol, shared, service, 6, 3) == pytest.approx(value)
            for replica in endpoints.services[service].replicas:
                assert _call(protocol, replica.address, service, 6, 3) == pytest.approx(value)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "addition-1" in out and "stopped" in out
    assert not [pid for pid in pids if psutil.pid_exists(pid) and _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _serve(protocol: str, endpoints_file: Path, *flags: str) -> subprocess.Popen[str]:
    command = [*CALCBENCH, "serve", protocol, "--endpoints-file", str(endpoints_file), *flags]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


def _fixed_base() -> int:
    """A base port below the kernel's ephemeral range, where outgoing connections never take
    a port, one block per xdist worker so that parallel workers never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return 20000 + 1000 * int(worker or 0)


def test_port_in_use_is_one_line() -> None:
    base = _fixed_base()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", base + 1))  # addition's shared port in the documented layout
        holder.listen()
        result = subprocess.run(
            [*CALCBENCH, "serve", "rest", "--base-port", str(base)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "200"},
        )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: port {base + 1} on 127.0.0.1 is already in use"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_a_stack_restarts_at_once_on_its_fixed_ports(protocol: str, tmp_path: Path) -> None:
    """Calls and scrapes leave the servers' side of their connections in TIME_WAIT when the
    stack stops; the same ports must be bound again at once."""
    base = _fixed_base() + 500
    endpoints_file = tmp_path / "endpoints.json"
    for _ in range(2):
        endpoints_file.unlink(missing_ok=True)
        process = _serve(protocol, endpoints_file, "--base-port", str(base))
        try:
            endpoints = _wait_for_file(endpoints_file, process)
            assert endpoints.services["addition"].address == f"127.0.0.1:{base + 1}"
            assert _call(protocol, endpoints.services["addition"].address, "addition", 1, 2) == 3
            for service in endpoints.services.values():
                metrics = f"http://{service.replicas[0].metrics}/metrics"
                assert "calc_requests_total" in httpx.get(metrics).text
        finally:
            _stop(process)
        assert process.returncode == 0


def test_three_stacks_of_each_protocol_start_side_by_side(tmp_path: Path) -> None:
    """Every replica binds port 0 and announces its port: no two can draw the same one."""
    files = {(p, i): tmp_path / f"{p}-{i}.json" for p in ("rest", "grpc") for i in range(3)}
    flags = ("--base-port", "0", "--replicas", "4")
    processes = [_serve(protocol, path, *flags) for (protocol, _), path in files.items()]
    try:
        # 120 replicas starting at once on 2 cores: about half a second of CPU each.
        stacks = [
            _wait_for_file(path, p, timeout=240)
            for path, p in zip(files.values(), processes, strict=True)
        ]
        addresses = set()
        for endpoints in stacks:
            for name, service in endpoints.services.items():
                addresses |= {service.address} | {r.address for r in service.replicas}
                for replica in service.replicas:
                    answer = _call(endpoints.protocol, replica.address, name, 6, 3)
                    assert answer == pytest.approx(EXPECTED[name])
        assert len(addresses) == 6 * 5 * (1 + 4)  # shared and own addresses, all distinct
    finally:
        for process in processes:
            _stop(process)
    assert [p.returncode for p in processes] == [0] * 6


def test_bad_flag_is_one_line() -> None:
    result = subprocess.run(
        [*CALCBENCH, "serve", "rest", "--replicas", "0"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--replicas" in result.stderr


def test_endpoints_file_is_json(tmp_path: Path) -> None:
    # The format other tools read: written with the exact keys of the issue.
    sample = {
        "protocol": "rest",
        "services": {
            "addition": {
                "address": "127.0.0.1:8001",
                "replicas": [{"id": "addition-0", "address": "a:1", "metrics": "a:2", "pid": 1}],
            }
        },
    }
    path = tmp_path / "e.json"
    Endpoints.from_dict(sample).dump(path)
    assert json.loads(path.read_text()) == sample
