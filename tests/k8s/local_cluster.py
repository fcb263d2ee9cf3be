"""A stack's rendered manifests run as local processes on 127.0.0.1, as a cluster would run them.

Each Deployment's exact command, args and env, once per replica; what a cluster adds or changes
is only what a pod sees of its network:
* the pod's address: `--host 0.0.0.0` binds 127.0.0.1, ports 8080/9090 bind free ports;
* a ClusterIP Service (`addition:8080`): one port shared by the service's replicas with
  SO_REUSEPORT, so the kernel spreads connections among them as kube-proxy does;
* a headless Service (`addition-headless:8080`): the list of every replica's own address;
* HOSTNAME, which Kubernetes sets to the pod's name (the replica's id in its answers).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calcbench.core.endpoints import Endpoints, Replica, ServiceEndpoint
from calcbench.core.vocabulary import SERVICES
from tests.k8s.manifests import Manifest, calculators, container

VENV_BIN = Path(sys.executable).parent
#: The order a cluster would see them ready in: percentage after its downstreams.
START_ORDER = sorted(SERVICES, key=lambda s: s == "percentage")


@dataclass
class Pod:
    name: str
    service: str
    process: subprocess.Popen[str]
    port: int = 0
    own_port: int = 0
    metrics_port: int = 0

    @property
    def replica(self) -> Replica:
        own, metrics = f"127.0.0.1:{self.own_port}", f"127.0.0.1:{self.metrics_port}"
        return Replica(self.name, own, metrics, self.process.pid)


@dataclass
class LocalStack:
    """The calculator pods of one namespace, running; `stop()` ends every process."""

    protocol: str
    pods: list[Pod] = field(default_factory=list)

    def shared(self, service: str) -> str:
        return f"127.0.0.1:{next(p.port for p in self.pods if p.service == service)}"

    def own(self, service: str) -> list[str]:
        return [f"127.0.0.1:{p.own_port}" for p in self.pods if p.service == service]

    def address(self, in_cluster: str) -> str:
        """What a Service's `name:port` reaches here (a list of pods for a headless one)."""
        host = in_cluster.rpartition(":")[0]
        if host.endswith("-headless"):
            return ",".join(self.own(host.removesuffix("-headless")))
        return self.shared(host)

    def endpoints(self) -> Endpoints:
        """Where each pod is, for the metrics scrapes around the load."""
        services = {
            service: ServiceEndpoint(
                self.shared(service),
                tuple(
                    Replica(
                        p.name,
                        f"127.0.0.1:{p.own_port}",
                        f"127.0.0.1:{p.metrics_port}",
                        p.process.pid,
                    )
                    for p in self.pods
                    if p.service == service
                ),
            )
            for service in SERVICES
        }
        return Endpoints(self.protocol, services)

    def stop(self) -> None:
        for pod in self.pods:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pod.process.pid, signal.SIGTERM)
        for pod in self.pods:
            try:
                pod.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(pod.process.pid, signal.SIGKILL)
                pod.process.wait()
            if pod.process.stdout is not None:
                pod.process.stdout.close()


def local_argv(box: Manifest, index: int, joined: int | None, replicas: int) -> list[str]:
    """The container's command and args with the pod's network swapped for loopback."""
    command = [sys.executable if box["command"][0] == "python" else box["command"][0]]
    args = list(box["args"])
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--metrics-port") + 1] = "0"
    args[args.index("--port") + 1] = str(joined or 0)
    share = ["--join-port"] if index > 0 else (["--reuse-port"] if replicas > 1 else [])
    return [*command, *box["command"][1:], *args, "--own-port", "0", *share]


def pod_env(box: Manifest, pod_name: str, stack: LocalStack) -> dict[str, str]:
    environment = {
        **os.environ,
        "HOSTNAME": pod_name,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
    }
    for item in box.get("env", []):
        if "value" not in item:  # filled in by the downward API (the node): no node here
            continue
        name, value = item["name"], item["value"]
        environment[name] = stack.address(value) if name.endswith("_ENDPOINT") else value
    return environment


def start_pod(deployment: Manifest, index: int, stack: LocalStack) -> Pod:
    service, box = deployment["metadata"]["name"], container(deployment)
    replicas = deployment["spec"]["replicas"]
    joined = stack.pods[-1].port if index > 0 else None
    name = f"{service}-{index}"
    process = subprocess.Popen(
        local_argv(box, index, joined, replicas), env=pod_env(box, name, stack),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        text=True, start_new_session=True,
    )  # fmt: skip
    pod = Pod(name, service, process)
    stack.pods.append(pod)
    assert process.stdout is not None
    ready: dict[str, Any] = json.loads(process.stdout.readline() or "{}")
    assert ready.get("event") == "ready", f"{name} did not start: {ready}"
    pod.port, pod.own_port, pod.metrics_port = (
        ready["port"],
        ready["own_port"],
        ready["metrics_port"],
    )
    return pod


@contextlib.contextmanager
def run_stack(docs: tuple[Manifest, ...], namespace: str, protocol: str) -> Iterator[LocalStack]:
    """Every calculator Deployment of `namespace`, a process per replica, until the block ends."""
    stack = LocalStack(protocol)
    deployments = calculators(docs, namespace)
    try:
        for service in START_ORDER:
            for index in range(deployments[service]["spec"]["replicas"]):
                start_pod(deployments[service], index, stack)
        yield stack
    finally:
        stack.stop()


def job_processes(job: Manifest, stack: LocalStack) -> list[subprocess.Popen[str]]:
    """The Job's command once per completion index, all at once (parallelism = completions)."""
    box = container(job)
    command = [str(VENV_BIN / box["command"][0]), *box["command"][1:]]
    processes = []
    for index in range(job["spec"]["completions"]):
        environment = pod_env(box, f"loadgen-{index}", stack)
        environment["JOB_COMPLETION_INDEX"] = str(index)
        process = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True, start_new_session=True,
        )  # fmt: skip
        processes.append(process)
    return processes


def finish(processes: list[subprocess.Popen[str]], timeout: float) -> list[str]:
    """Each process's standard output (its pod log's results); stops all of them either way."""
    logs = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=timeout)
            assert process.returncode == 0, err
            logs.append(out)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
    return logs
