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
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from types import TracebackType
from typing import IO, Final

import httpx

from calcbench.core.endpoints import (
    Endpoints,
    EndpointsTls,
    Replica,
    ServiceEndpoint,
    format_address,
)
from calcbench.core.listening import PortShare
from calcbench.core.tls import TlsFiles
from calcbench.core.vocabulary import BALANCING_MODES, SERVICES
from calcbench.orchestration.boot import (
    Bound,
    Launch,
    StackSettings,
    command,
    launchable,
    replica_ids,
)
from calcbench.orchestration.health import wait_healthy
from calcbench.orchestration.interrupt import latch
from calcbench.orchestration.scrape import Reading, cpu_seconds, read
from calcbench.orchestration.served import Restart

__all__ = ["BALANCING_MODES", "PortTaken", "Restart", "Stack", "StackError", "StackSettings"]

#: How long a kill waits for the replica's last reading: a hung replica is killed anyway.
LAST_READING_TIMEOUT: Final = 1.0


class StackError(RuntimeError):
    """A stack could not start (port in use, a replica died or never became healthy)."""


class PortTaken(StackError):
    """A replica could not bind a port another program holds (a usage error: exit 2)."""


@dataclass
class _Child:
    replica_id: str
    process: subprocess.Popen[str]
    log: IO[str]


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM when the supervisor dies, even by SIGKILL.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class Stack:
    """A running local stack; use as a context manager so it is always stopped."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self._children: dict[str, _Child] = {}
        self._bound: dict[str, Bound] = {}
        self._selector: selectors.BaseSelector | None = None
        self._launches: dict[str, Launch] = {}
        # Held while a replica restarts (from a fault's thread) or the stack stops.
        self._lock = threading.Lock()
        # Restarted replicas are spawned by this one thread, which lives as long as the stack:
        # PR_SET_PDEATHSIG fires when the *thread* that forked a child ends, so a child of a
        # fault's short-lived thread would be sent SIGTERM as soon as that thread returned.
        self._spawner: ThreadPoolExecutor | None = None
        self.endpoints: Endpoints | None = None
        #: Every restart so far, in the order made (a phase reads those made during it).
        self.restarts: list[Restart] = []

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
        return {rid: child.process.pid for rid, child in self._children.items()}

    def start(self) -> Endpoints:
        """Start every replica, wait until all are ready and healthy; stop all on failure."""
        self.spawn()
        return self.wait_started()

    def spawn(self) -> None:
        """Launch the replicas that need nothing from the others, without waiting for them
        (so that several stacks boot side by side); `wait_started` launches the rest."""
        self._selector = selectors.DefaultSelector()
        try:
            self._launch_what_can_start()
        except BaseException:
            self.stop()
            raise

    def wait_started(self) -> Endpoints:
        """Launch the rest as their ports become known, wait until every replica is ready and
        healthy; stop all on failure."""
        try:
            self._wait_ready()
            self.endpoints = self._endpoints()
            self._wait_healthy(self.endpoints)
        except BaseException:
            self.stop()
            raise
        return self.endpoints

    def _launch_what_can_start(self) -> None:
        assert self._selector is not None
        for launch in launchable(self.settings, self._bound, self._children.keys()):
            child = self._spawn(launch)
            assert child.process.stdout is not None
            self._selector.register(child.process.stdout, selectors.EVENT_READ, child)

    def _spawn(self, launch: Launch, mode: str = "w+") -> _Child:
        log: IO[str]
        if self.settings.log_dir is None:
            log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - lives as long as the child
        else:
            self.settings.log_dir.mkdir(parents=True, exist_ok=True)
            name = f"{self.settings.protocol}-{launch.replica_id}.log"
            log = (self.settings.log_dir / name).open(mode)
        with latch.deferred():
            process = subprocess.Popen(
                command(self.settings, launch),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            # Registered before a deferred signal is raised, so that `stop` stops it.
            child = _Child(launch.replica_id, process, log)
            self._children[launch.replica_id] = child
            self._launches[launch.replica_id] = launch
        return child

    def _wait_ready(self) -> None:
        assert self._selector is not None
        # The timeout runs from the last replica that became ready: the boot goes in waves
        # (boot.py), and on a busy machine a stack of many replicas takes several timeouts'
        # worth in all while every wave is quick. Only a wave that makes no progress fails.
        deadline = time.monotonic() + self.settings.startup_timeout
        while len(self._bound) < len(replica_ids(self.settings)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                waiting = sorted(set(replica_ids(self.settings)) - self._bound.keys())
                raise StackError(
                    f"{self.settings.protocol} replicas never became ready: " + ", ".join(waiting)
                )
            for key, _ in self._selector.select(timeout=remaining):
                self._selector.unregister(key.fileobj)
                self._read_ready(key.data)
                deadline = time.monotonic() + self.settings.startup_timeout
            self._launch_what_can_start()
        self._selector.close()
        self._selector = None

    def _read_ready(self, child: _Child) -> None:
        assert child.process.stdout is not None
        line = child.process.stdout.readline()
        try:
            ready = json.loads(line)
            if "port_in_use" in ready:
                raise PortTaken(ready["error"])
            self._bound[child.replica_id] = Bound(
                port=ready["port"],
                own_port=ready["own_port"],
                metrics_port=ready["metrics_port"],
                pid=child.process.pid,
            )
        except (json.JSONDecodeError, KeyError, TypeError):
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=5)
            raise StackError(f"{child.replica_id} failed to start: {_tail(child.log)}") from None

    def _endpoints(self) -> Endpoints:
        host = self.settings.host
        services = {}
        for service in SERVICES:
            members = tuple(
                Replica(
                    id=rid,
                    address=format_address(host, self._bound[rid].own_port),
                    metrics=format_address(host, self._bound[rid].metrics_port),
                    pid=self._bound[rid].pid,
                )
                for rid in (f"{service}-{i}" for i in range(self.settings.replicas))
            )
            shared = format_address(host, self._bound[f"{service}-0"].port)
            services[service] = ServiceEndpoint(shared, members)
        return Endpoints(self.settings.protocol, services, self._endpoints_tls())

    def _endpoints_tls(self) -> EndpointsTls | None:
        pki = self.settings.pki
        return None if pki is None else EndpointsTls(str(pki.ca), self.settings.mtls)

    def _tls(self) -> TlsFiles | None:
        """What the health checks present: the stack's CA (and client certificate, mTLS)."""
        pki = self.settings.pki
        return None if pki is None else pki.client(self.settings.mtls)

    def _wait_healthy(self, endpoints: Endpoints) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout
        tls = self._tls()
        for service in endpoints.services.values():
            for replica in service.replicas:
                if not wait_healthy(self.settings.protocol, replica.address, deadline, tls):
                    raise StackError(f"{replica.id} never became healthy at {replica.address}")

    def kill_and_restart(self, replica_id: str) -> Restart:
        """Read the replica (its counters and CPU, for the phase's figures), SIGKILL it, start
        it again on the same ports. StackError (one line) if it cannot start."""
        with self._lock:
            child = self._children.get(replica_id)
            if child is None:
                raise StackError(f"{replica_id}: the stack is stopped")
            last = self._last_reading(child)
            child.process.kill()
            child.process.wait()
            return self._restart(child, "kill", last)

    def revive(self) -> list[Restart]:
        """Restart every replica that exited by itself. StackError (one line) for one that
        cannot start."""
        with self._lock:
            dead = [c for c in self._children.values() if c.process.poll() is not None]
            return [self._restart(child, "died", None) for child in dead]

    def _last_reading(self, child: _Child) -> Reading | None:
        """The replica's counters and CPU now; None if its metrics do not answer in time."""
        address = format_address(self.settings.host, self._bound[child.replica_id].metrics_port)
        try:
            with httpx.Client(timeout=LAST_READING_TIMEOUT) as client:
                return read(address, child.process.pid, client)
        except httpx.HTTPError:
            return None

    def _restart(self, child: _Child, kind: str, last: Reading | None) -> Restart:
        started = time.monotonic()
        _close(child)
        bound = self._bound[child.replica_id]
        # The ports it announced, so that clients and siblings find it where it was. The shared
        # port: alone, it is free again since the kill; with siblings, they keep it open
        # (SO_REUSEPORT) and the new process joins it, whichever index it has.
        share = PortShare.ALONE if self.settings.replicas == 1 else PortShare.JOIN
        launch = replace(
            self._launches[child.replica_id],
            port=bound.port,
            own_port=bound.own_port,
            metrics_port=bound.metrics_port,
            share=share,
        )
        if self._spawner is None:
            self._spawner = ThreadPoolExecutor(1, thread_name_prefix="spawner")
        try:
            fresh = self._respawn(launch)
        except PortTaken:
            raise
        except StackError:
            # Seen once in a few runs: a child forked while the load's in-process gRPC client
            # is busy exits silently before exec (grpcio's fork handlers). One more try.
            fresh = self._respawn(launch)
        ready_cpu = cpu_seconds(fresh.process.pid)
        self.endpoints = self._endpoints()
        replica = next(
            r
            for s in self.endpoints.services.values()
            for r in s.replicas
            if r.id == launch.replica_id
        )
        deadline = time.monotonic() + self.settings.startup_timeout
        if not wait_healthy(self.settings.protocol, replica.address, deadline, self._tls()):
            raise StackError(f"{replica.id} never became healthy again at {replica.address}")
        took = time.monotonic() - started
        restart = Restart(child.replica_id, kind, last, ready_cpu, fresh.process.pid, took)
        self.restarts.append(restart)
        return restart

    def _respawn(self, launch: Launch) -> _Child:
        assert self._spawner is not None
        fresh = self._spawner.submit(self._spawn, launch, "a+").result()
        try:
            self._await_ready(fresh, time.monotonic() + self.settings.startup_timeout)
        except StackError:
            # Down for good until the next try: reaped, so that `revive` sees it dead.
            fresh.process.kill()
            fresh.process.wait()
            raise
        return fresh

    def _await_ready(self, child: _Child, deadline: float) -> None:
        assert child.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(child.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                raise StackError(f"{child.replica_id} never became ready again")
        self._read_ready(child)

    def exited(self) -> str | None:
        """The id of a replica that has exited, if any."""
        children = self._children.values()
        return next((c.replica_id for c in children if c.process.poll() is not None), None)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM every child, wait up to `grace` seconds, SIGKILL what is left, reap all."""
        with self._lock:
            self._stop(grace)

    def _stop(self, grace: float) -> None:
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        for child in self._children.values():
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self._children.values():
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            _close(child)
        self._children.clear()
        if self._spawner is not None:
            self._spawner.shutdown()
            self._spawner = None
        self._bound.clear()


def _close(child: _Child) -> None:
    if child.process.stdout is not None:
        child.process.stdout.close()
    child.log.close()


def _tail(log: IO[str], lines: int = 1) -> str:
    """The last non-empty line(s) a child wrote to its log: its one-line error, usually."""
    log.flush()
    log.seek(0)
    text = [line.strip() for line in log.read().splitlines() if line.strip()]
    return " | ".join(text[-lines:]) or "no output"
