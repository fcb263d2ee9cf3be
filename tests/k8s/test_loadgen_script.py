"""The load generator pod's program (k8s/base/loadgen/run-load.sh) run outside a cluster: real
bash, the real `calcbench load`, a real local stack from `calcbench serve`; only the Services'
DNS names are `localhost` instead."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from calcbench.core.endpoints import Endpoints
from calcbench.core.vocabulary import SERVICES
from tests.k8s.manifests import K8S

# Starts whole stacks: one xdist worker runs every such module, one after the other.
pytestmark = pytest.mark.xdist_group("stacks")

SCRIPT = K8S / "base" / "loadgen" / "run-load.sh"
VENV_BIN = Path(sys.executable).parent


def sourced(command: str) -> str:
    """Run `command` in bash after sourcing the script (functions only, no load)."""
    proc = subprocess.run(
        ["bash", "-c", f'source "{SCRIPT}"; {command}'], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_pod_addresses_lists_what_a_name_resolves_to() -> None:
    assert "127.0.0.1:8080" in sourced("pod_addresses localhost:8080").split(",")
    assert sourced("pod_addresses no-such-service.invalid:8080") == ""


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    return process.communicate(timeout=30)


def wait_until(
    condition_met: Callable[[], object], process: subprocess.Popen[str], seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition_met():
            return
        if process.poll() is not None:
            raise AssertionError(f"exited early: {process.communicate()}")
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture(params=["grpc", "rest"])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Endpoints]:
    """A local stack of one replica per service (`calcbench serve`), stopped afterwards."""
    endpoints_file = tmp_path / "endpoints.json"
    command = ["calcbench", "serve", request.param, "--base-port", "0"]
    process = subprocess.Popen(
        [*command, "--endpoints-file", str(endpoints_file)],
        env={**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until(lambda: endpoints_file.exists() and endpoints_file.stat().st_size, process, 60)
        yield Endpoints.load(endpoints_file)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    finally:
        stop(process)


def pod_environment(endpoints: Endpoints, results: Path, balancing: str) -> dict[str, str]:
    """What the loadgen pod gets from its ConfigMap and env, with a short run."""
    ports = {
        service: entry.address.rsplit(":", 1)[1] for service, entry in endpoints.services.items()
    }
    addresses = {
        f"{service.upper()}_ENDPOINT": f"localhost:{ports[service]}" for service in SERVICES
    }
    return {
        **os.environ, **addresses,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "RESULTS_DIR": str(results), "WAIT_SECONDS": "30", "SETTLE_SECONDS": "1",
        "LOAD_PROTOCOL": endpoints.protocol, "LOAD_BALANCING": balancing, "LOAD_RATE": "40",
        "LOAD_DURATION": "2", "LOAD_WARMUP": "0", "LOAD_EXTRA_ARGS": "--seed 3",
    }  # fmt: skip


def test_the_pod_program_runs_one_load_keeps_the_results_and_stops_on_sigterm(
    stack: Endpoints, tmp_path: Path
) -> None:
    # The gRPC case runs the mesh overlays' shared mode, the REST case client-round-robin's.
    balancing = "shared" if stack.protocol == "grpc" else "round-robin"
    results = tmp_path / "results"
    results.mkdir()
    process = subprocess.Popen(
        ["bash", str(SCRIPT)], env=pod_environment(stack, results, balancing),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until((results / "done").exists, process, 90)
        time.sleep(0.5)  # not hiding a race: checks that it idles rather than exits
        assert process.poll() is None, "the pod program must idle once the run is over"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        stop(process)
    assert process.returncode == 0, err
    meta = json.loads((results / "run" / "run.json").read_text())
    assert (meta["kind"], meta["protocol"], meta["balancing"]) == (
        "load",
        stack.protocol,
        balancing,
    )
    assert (results / "run" / "summary.csv").is_file()
    if balancing == "round-robin":
        assert f"addition: 127.0.0.1:{stack.services['addition'].address.rsplit(':', 1)[1]}" in out
