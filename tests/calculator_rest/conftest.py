"""Fixtures: real REST replicas on 127.0.0.1 port 0 (uvicorn in a thread), an HTTP client,
entry-point subprocesses, and a downstream that never answers.

Everything started here is stopped at teardown, also when the test fails.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from calcbench.core.service_config import ServiceConfig
from calculator_rest.server import RestService, start

StartService = Callable[..., RestService]
Spawn = Callable[..., tuple[subprocess.Popen[str], dict[str, Any]]]


@pytest.fixture
def serve() -> Iterator[StartService]:
    """`serve(service, **config)` starts a replica on port 0; all stop at teardown."""
    started: list[RestService] = []

    def _start(service: str, **settings: Any) -> RestService:
        settings = {"port": 0, "metrics_port": 0, "replica_id": f"{service}-test", **settings}
        started.append(start(ServiceConfig(service, **settings)))
        return started[-1]

    yield _start
    for service in reversed(started):
        service.stop(0)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, verify=False) as http:
        yield http


def url(service: RestService, path: str) -> str:
    return f"http://127.0.0.1:{service.port}{path}"


def requests_total(service: RestService, outcome: str) -> float:
    """calc_requests_total of `service` for one outcome, read from its registry."""
    samples = (
        sample
        for family in service.metrics.registry.collect()
        for sample in family.samples
        if sample.name == "calc_requests_total" and sample.labels["outcome"] == outcome
    )
    return sum(sample.value for sample in samples)


def scrape(metrics_port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    """/metrics over HTTP as {sample name: [(labels, value), ...]}."""
    text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


@pytest.fixture
def silent_downstream() -> Iterator[str]:
    """The address of a socket that accepts connections (the kernel's backlog does) and never
    answers: a downstream that times out."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """`spawn(*args)` runs `python -m calculator_rest *args` and waits for its ready line;
    every process still running at teardown is killed."""
    procs: list[subprocess.Popen[str]] = []

    def _spawn(*args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "calculator_rest", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        procs.append(proc)
        return proc, read_ready(proc)

    yield _spawn
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)


def read_ready(proc: subprocess.Popen[str], timeout: float = 20.0) -> dict[str, Any]:
    """The JSON ready line; fails the test with the process's stderr if it exits first."""
    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        readable, _, _ = select.select([proc.stdout], [], [], 0.1)
        if readable:
            if line := proc.stdout.readline():
                return dict(json.loads(line))
            proc.wait(timeout=10)
            raise AssertionError(f"exited {proc.returncode} before ready: {proc.stderr.read()}")
    raise AssertionError(f"no ready line within {timeout} s")
