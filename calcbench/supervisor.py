"""Start a local stack (five services x N replicas as subprocesses) and stop all of it.

Children run in their own session so that a Ctrl-C reaches only the supervisor, which then
stops them in order; they also get SIGTERM if the supervisor dies (PR_SET_PDEATHSIG), so no
replica outlives the command that started it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from calcbench.arithmetic import SERVICES
from calcbench.endpoints import Endpoints, Replica, ServiceEndpoint, format_address
from calcbench.fault import SlowReplica
from calcbench.health import wait_healthy
from calcbench.ports import DEFAULT_BASE_PORTS, ReplicaPorts, dynamic_ports, fixed_ports
from calcbench.service_config import DOWNSTREAMS, check_port_free

#: How percentage reaches multiplication and division. `ewma` is the load generator's
#: latency-aware mode; the services themselves then balance round robin (only the client is
#: latency-aware).
BALANCING_MODES = ("shared", "round-robin", "ewma")

PortPlan = dict[str, list["ReplicaPorts"]]


class StackError(RuntimeError):
    """A stack could not start (port in use, a replica died or never became healthy)."""


@dataclass(frozen=True)
class StackSettings:
    """What to start. `base_port=None` picks free ports; otherwise the documented layout.
    `slow_replica` starts that one replica with `--delay`."""

    protocol: str
    replicas: int = 1
    host: str = "127.0.0.1"
    base_port: int | None = None
    downstream_balancing: str = "shared"
    server_model: str | None = None
    log_dir: Path | None = None
    startup_timeout: float = 30.0
    slow_replica: SlowReplica | None = None

    def __post_init__(self) -> None:
        if self.protocol not in DEFAULT_BASE_PORTS:
            raise ValueError(f"unknown protocol {self.protocol!r}; expected rest or grpc")
        if not 1 <= self.replicas <= 9:
            raise ValueError("--replicas must be between 1 and 9")
        if self.downstream_balancing not in BALANCING_MODES:
            raise ValueError(f"unknown balancing {self.downstream_balancing!r}")
        if self.slow_replica is not None:
            self.slow_replica.check_replicas(self.replicas)


@dataclass
class _Child:
    replica_id: str
    process: subprocess.Popen[str]
    log: IO[str]
    ready: dict[str, object] = field(default_factory=dict)


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM when the supervisor dies, even by SIGKILL.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def plan_ports(settings: StackSettings) -> PortPlan:
    """Ports for every replica of every service."""
    if settings.base_port is None:
        return {s: dynamic_ports(settings.host, settings.replicas) for s in SERVICES}
    return {
        s: [fixed_ports(settings.base_port, s, r) for r in range(settings.replicas)]
        for s in SERVICES
    }


class Stack:
    """A running local stack; use as a context manager so it is always stopped."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self._children: list[_Child] = []
        self._ports: PortPlan = {}
        self.endpoints: Endpoints | None = None

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pids(self) -> dict[str, int]:
        """Replica id -> process id of every child."""
        return {child.replica_id: child.process.pid for child in self._children}

    def start(self) -> Endpoints:
        """Start every replica, wait until all are ready and healthy; stop all on failure."""
        self.spawn()
        return self.wait_started()

    def spawn(self) -> None:
        """Launch every replica without waiting (so several stacks can boot side by side)."""
        self._ports = plan_ports(self.settings)
        try:
            self._check_free(self._ports)
            for service in SERVICES:
                for index, replica_ports in enumerate(self._ports[service]):
                    self._spawn(service, index, replica_ports, self._ports)
        except BaseException:
            self.stop()
            raise

    def wait_started(self) -> Endpoints:
        """Wait until every spawned replica is ready and healthy; stop all on failure."""
        try:
            self._wait_ready()
            self.endpoints = self._endpoints(self._ports)
            self._wait_healthy(self.endpoints)
        except BaseException:
            self.stop()
            raise
        return self.endpoints

    def _check_free(self, ports: PortPlan) -> None:
        wanted = {p for replicas in ports.values() for r in replicas for p in vars(r).values()}
        for port in sorted(wanted):
            try:
                check_port_free(self.settings.host, port)
            except OSError as exc:
                raise StackError(str(exc)) from exc

    def _command(
        self,
        service: str,
        replica_id: str,
        mine: ReplicaPorts,
        ports: PortPlan,
    ) -> list[str]:
        host = self.settings.host
        command = [sys.executable, "-m", f"calculator_{self.settings.protocol}", service]
        command += ["--host", host, "--port", str(mine.shared), "--own-port", str(mine.own)]
        command += ["--metrics-port", str(mine.metrics), "--replica-id", replica_id, "--reuse-port"]
        if self.settings.server_model:
            command += ["--server-model", self.settings.server_model]
        slow = self.settings.slow_replica
        if slow is not None and slow.replica_id == replica_id:
            command += ["--delay", repr(slow.delay)]
        if service == "percentage":
            for name in DOWNSTREAMS:
                if self.settings.downstream_balancing == "shared":
                    targets = [format_address(host, ports[name][0].shared)]
                else:
                    targets = [format_address(host, r.own) for r in ports[name]]
                command += [f"--{name}-endpoint", ",".join(targets)]
        return command

    def _spawn(self, service: str, index: int, mine: ReplicaPorts, ports: PortPlan) -> None:
        replica_id = f"{service}-{index}"
        log: IO[str]
        if self.settings.log_dir is None:
            log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - lives as long as the child
        else:
            self.settings.log_dir.mkdir(parents=True, exist_ok=True)
            log = (self.settings.log_dir / f"{self.settings.protocol}-{replica_id}.log").open("w+")
        process = subprocess.Popen(
            self._command(service, replica_id, mine, ports),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._children.append(_Child(replica_id, process, log))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout
        waiting = {child.process.stdout: child for child in self._children}
        with selectors.DefaultSelector() as selector:
            for stream in waiting:
                assert stream is not None
                selector.register(stream, selectors.EVENT_READ)
            while waiting:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    names = ", ".join(sorted(c.replica_id for c in waiting.values()))
                    raise StackError(
                        f"{self.settings.protocol} replicas never became ready: {names}"
                    )
                for key, _ in selector.select(timeout=remaining):
                    child = waiting.pop(key.fileobj)  # type: ignore[call-overload]
                    selector.unregister(key.fileobj)
                    self._read_ready(child)

    def _read_ready(self, child: _Child) -> None:
        assert child.process.stdout is not None
        line = child.process.stdout.readline()
        try:
            child.ready = json.loads(line)
        except json.JSONDecodeError:
            child.process.wait(timeout=5)
            raise StackError(f"{child.replica_id} failed to start: {_tail(child.log)}") from None

    def _endpoints(self, ports: PortPlan) -> Endpoints:
        host = self.settings.host
        by_id = {child.replica_id: child for child in self._children}
        services = {}
        for service, replicas in ports.items():
            members = tuple(
                Replica(
                    id=f"{service}-{i}",
                    address=format_address(host, r.own),
                    metrics=format_address(host, r.metrics),
                    pid=by_id[f"{service}-{i}"].process.pid,
                )
                for i, r in enumerate(replicas)
            )
            services[service] = ServiceEndpoint(format_address(host, replicas[0].shared), members)
        return Endpoints(protocol=self.settings.protocol, services=services)

    def _wait_healthy(self, endpoints: Endpoints) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout
        for service in endpoints.services.values():
            for replica in service.replicas:
                if not wait_healthy(self.settings.protocol, replica.address, deadline):
                    raise StackError(f"{replica.id} never became healthy at {replica.address}")

    def exited(self) -> str | None:
        """The id of a replica that has exited, if any."""
        return next((c.replica_id for c in self._children if c.process.poll() is not None), None)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM every child, wait up to `grace` seconds, SIGKILL what is left, reap all."""
        for child in self._children:
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self._children:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            if child.process.stdout is not None:
                child.process.stdout.close()
            child.log.close()
        self._children.clear()


def _tail(log: IO[str], lines: int = 1) -> str:
    """The last non-empty line(s) a child wrote to its log: its one-line error, usually."""
    log.flush()
    log.seek(0)
    text = [line.strip() for line in log.read().splitlines() if line.strip()]
    return " | ".join(text[-lines:]) or "no output"
