"""The order in which a local stack's replicas start, and the command line of each (pure).

No port is chosen by probing: with `base_port=None` every replica binds port 0 and announces
what it got on its ready line. So a replica starts only once what it needs is known:

* replica 0 of a service claims the service port and opens it to its siblings;
* replica i > 0 joins the port replica 0 announced (with fixed ports too, so that a stale
  stack holding the port makes replica 0 fail instead of the new replicas joining it);
* percentage starts once every multiplication and division replica has announced its ports,
  so that it never calls a downstream that is not there yet.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path

from calcbench.core.endpoints import format_address
from calcbench.core.listening import PortShare
from calcbench.core.tls import Pki
from calcbench.core.vocabulary import BALANCING_MODES, DOWNSTREAMS, MAX_REPLICAS, SERVICES
from calcbench.orchestration.fault import ErrorRate, SlowReplica
from calcbench.orchestration.ports import DEFAULT_BASE_PORTS, fixed_ports


@dataclass(frozen=True)
class StackSettings:
    """What to start. `base_port=None` lets every replica bind free ports; otherwise the
    documented layout. `slow_replica` starts that one replica with `--delay`; `error_rates`
    start every replica of their service with `--error-rate`. With `pki` (made by
    `calcbench.core.tls.make_pki`) every replica serves TLS and percentage calls over TLS;
    `mtls` makes every hop present and verify client certificates."""

    protocol: str
    replicas: int = 1
    host: str = "127.0.0.1"
    base_port: int | None = None
    downstream_balancing: str = "shared"
    server_model: str | None = None
    log_dir: Path | None = None
    startup_timeout: float = 30.0
    slow_replica: SlowReplica | None = None
    pki: Pki | None = None
    mtls: bool = False
    error_rates: tuple[ErrorRate, ...] = ()
    #: REST percentage's budget per downstream call (None: the service's default).
    downstream_timeout: float | None = None

    def __post_init__(self) -> None:
        if self.mtls and self.pki is None:
            raise ValueError("mTLS needs TLS certificates (a pki)")
        if self.protocol not in DEFAULT_BASE_PORTS:
            raise ValueError(f"unknown protocol {self.protocol!r}; expected rest or grpc")
        if not 1 <= self.replicas <= MAX_REPLICAS:
            raise ValueError(f"--replicas must be between 1 and {MAX_REPLICAS}")
        if self.downstream_balancing not in BALANCING_MODES:
            raise ValueError(f"unknown balancing {self.downstream_balancing!r}")
        if self.slow_replica is not None:
            self.slow_replica.check_replicas(self.replicas)


@dataclass(frozen=True)
class Bound:
    """The ports one replica announced on its ready line."""

    port: int
    own_port: int
    metrics_port: int
    pid: int


@dataclass(frozen=True)
class Launch:
    """One replica to start now, with the ports it must bind (0: any)."""

    service: str
    index: int
    port: int
    own_port: int
    metrics_port: int
    share: PortShare
    downstream: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def replica_id(self) -> str:
        return f"{self.service}-{self.index}"


def replica_ids(settings: StackSettings) -> list[str]:
    """Every replica of the stack, in start order."""
    return [f"{s}-{i}" for s in SERVICES for i in range(settings.replicas)]


def launchable(
    settings: StackSettings, bound: Mapping[str, Bound], launched: Set[str]
) -> list[Launch]:
    """The replicas not launched yet whose ports and downstreams are known now."""
    ready: list[Launch] = []
    for service in SERVICES:
        for index in range(settings.replicas):
            if f"{service}-{index}" in launched:
                continue
            launch = _launch(settings, service, index, bound)
            if launch is not None:
                ready.append(launch)
    return ready


def _launch(
    settings: StackSettings, service: str, index: int, bound: Mapping[str, Bound]
) -> Launch | None:
    if index > 0 and f"{service}-0" not in bound:
        return None
    downstream = {}
    if service == "percentage":
        wanted = [f"{d}-{i}" for d in DOWNSTREAMS for i in range(settings.replicas)]
        if not all(replica in bound for replica in wanted):
            return None
        downstream = {d: _downstream(settings, d, bound) for d in DOWNSTREAMS}
    share = PortShare.ALONE if settings.replicas == 1 else PortShare.OPEN
    port = own = metrics = 0
    if settings.base_port is not None:
        fixed = fixed_ports(settings.base_port, service, index)
        port, own, metrics = fixed.shared, fixed.own, fixed.metrics
    if index > 0:
        port, share = bound[f"{service}-0"].port, PortShare.JOIN
    return Launch(service, index, port, own, metrics, share, downstream)


def _downstream(
    settings: StackSettings, service: str, bound: Mapping[str, Bound]
) -> tuple[str, ...]:
    """Percentage's addresses of `service`: the shared port (the kernel balances connections)
    or every replica's own (percentage balances requests; ewma is the load generator's mode,
    so percentage itself then balances round robin)."""
    replicas = [bound[f"{service}-{i}"] for i in range(settings.replicas)]
    if settings.downstream_balancing == "shared":
        return (format_address(settings.host, replicas[0].port),)
    return tuple(format_address(settings.host, r.own_port) for r in replicas)


def command(settings: StackSettings, launch: Launch) -> list[str]:
    """The command line that starts `launch` as a process."""
    argv = [sys.executable, "-m", f"calculator_{settings.protocol}", launch.service]
    argv += ["--host", settings.host, "--port", str(launch.port)]
    argv += ["--own-port", str(launch.own_port), "--metrics-port", str(launch.metrics_port)]
    argv += ["--replica-id", launch.replica_id]
    if launch.share is PortShare.OPEN:
        argv.append("--reuse-port")
    elif launch.share is PortShare.JOIN:
        argv.append("--join-port")
    if settings.server_model:
        argv += ["--server-model", settings.server_model]
    slow = settings.slow_replica
    if slow is not None and slow.replica_id == launch.replica_id:
        argv += ["--delay", repr(slow.delay)]
    for errors in settings.error_rates:
        if errors.service == launch.service:
            argv += ["--error-rate", repr(errors.rate)]
    for name, targets in launch.downstream.items():
        argv += [f"--{name}-endpoint", ",".join(targets)]
    if launch.downstream and settings.downstream_timeout is not None:
        argv += ["--downstream-timeout", repr(settings.downstream_timeout)]
    return argv + tls_flags(settings)


def tls_flags(settings: StackSettings) -> list[str]:
    """A replica's TLS flags: paths only, never key material on a command line."""
    if settings.pki is None:
        return []
    files = settings.pki.server(settings.mtls)
    argv = ["--tls-cert", str(files.cert), "--tls-key", str(files.key), "--tls-ca", str(files.ca)]
    return [*argv, "--mtls"] if settings.mtls else argv
