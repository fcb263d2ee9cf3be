"""Settings of one calculator service process, shared by `python -m calculator_rest|grpc`.

Both entry points take the same flags so that `calcbench serve` and Kubernetes start either
stack the same way. One process serves one service as one replica.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

from calcbench.core.endpoints import parse_address_list
from calcbench.core.listening import PortInUse, PortShare
from calcbench.core.tls import TlsFiles
from calcbench.core.vocabulary import DOWNSTREAMS, SERVICES

#: Percentage's REST downstream budget per call by default: the load generator's default call
#: timeout, which gRPC's percentage gets as its caller's deadline.
DOWNSTREAM_TIMEOUT: Final = 1.0


def default_replica_id() -> str:
    """`HOSTNAME` (the pod name in Kubernetes), else the host's name."""
    return os.environ.get("HOSTNAME") or socket.gethostname()


@dataclass(frozen=True)
class ServiceConfig:
    """Where one replica listens and whom it calls.

    `port` is the service's shared address (with `share`, several replicas bind it and the
    kernel spreads connections among them: the first opens it, the others join); `own_port`,
    when set, is this replica's own address. Port 0 binds any free port.
    `downstream` maps multiplication/division to one address (shared) or several (the
    percentage service then spreads its requests over them, round robin). `delay` seconds
    are spent before answering each calculator request (a slow replica, for `--fault`);
    a fraction `error_rate` of the requests are answered with a server error instead.
    `tls`, when set, serves the calculator over TLS and makes percentage's downstream calls
    over TLS too (with `tls.mtls`, both sides present and verify certificates); health stays
    on the same port and /metrics stays plaintext (the control plane, as a mesh's admin port).
    """

    service: str
    port: int
    metrics_port: int
    host: str = "127.0.0.1"
    replica_id: str = field(default_factory=lambda: default_replica_id())
    own_port: int | None = None
    share: PortShare = PortShare.ALONE
    downstream: dict[str, tuple[str, ...]] = field(default_factory=dict)
    server_model: str = "sync"
    delay: float = 0.0
    tls: TlsFiles | None = None
    error_rate: float = 0.0
    #: Percentage over REST: each downstream call's budget (gRPC passes its caller's deadline).
    downstream_timeout: float = DOWNSTREAM_TIMEOUT

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            expected = ", ".join(SERVICES)
            raise ValueError(f"unknown service {self.service!r}; expected one of {expected}")
        for name in ("port", "metrics_port"):
            if not 0 <= getattr(self, name) <= 65535:
                raise ValueError(f"--{name.replace('_', '-')} must be a port number (0-65535)")
        if self.share is PortShare.JOIN and self.port == 0:
            raise ValueError("--join-port needs the --port a sibling replica opened, not 0")
        if not (math.isfinite(self.delay) and self.delay >= 0):
            raise ValueError("--delay must be a number of seconds >= 0")
        if not (math.isfinite(self.downstream_timeout) and self.downstream_timeout > 0):
            raise ValueError("--downstream-timeout must be a number of seconds > 0")
        if not 0 <= self.error_rate <= 1:
            raise ValueError("--error-rate must be a fraction between 0 and 1")
        if self.service == "percentage":
            missing = [d for d in DOWNSTREAMS if not self.downstream.get(d)]
            if missing:
                flags = ", ".join(f"--{d}-endpoint or {d.upper()}_ENDPOINT" for d in missing)
                raise ValueError(f"percentage needs its downstream addresses: {flags}")


def _parser(prog: str, server_models: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Serve one calculator service.")
    # Choices as plain strings: argparse shows their repr in errors, an enum member's is long.
    parser.add_argument("service", choices=_plain(SERVICES))
    parser.add_argument("--port", type=int, required=True, help="the service's (shared) port")
    parser.add_argument("--metrics-port", type=int, required=True, help="Prometheus /metrics port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--replica-id", default=None, help="x-calc-replica (default: HOSTNAME)")
    parser.add_argument("--own-port", type=int, default=None, help="this replica's own extra port")
    sharing = parser.add_mutually_exclusive_group()
    sharing.add_argument(
        "--reuse-port",
        action="store_const",
        dest="share",
        const=PortShare.OPEN,
        default=PortShare.ALONE,
        help="claim --port, then let sibling replicas join it (SO_REUSEPORT)",
    )
    sharing.add_argument(
        "--join-port",
        action="store_const",
        dest="share",
        const=PortShare.JOIN,
        help="bind --port beside the sibling replica that opened it with --reuse-port",
    )
    for name in DOWNSTREAMS:
        parser.add_argument(
            f"--{name}-endpoint",
            default=os.environ.get(f"{name.upper()}_ENDPOINT"),
            help=f"host:port[,host:port...] of {name} (percentage only)",
        )
    models = _plain(server_models)
    parser.add_argument("--server-model", choices=models, default=models[0])
    parser.add_argument(
        "--delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long before answering each calculator request (a slow replica)",
    )
    _add_tls_flags(parser)
    parser.add_argument(
        "--error-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="answer this fraction of the calculator requests with a server error "
        "(HTTP 500 / gRPC INTERNAL), drawn from a generator seeded with the replica id",
    )
    parser.add_argument(
        "--downstream-timeout",
        type=float,
        default=DOWNSTREAM_TIMEOUT,
        metavar="SECONDS",
        help="percentage over REST: the budget of each downstream call (HTTP passes no "
        "deadline on; gRPC's percentage uses its caller's)",
    )
    return parser


def _add_tls_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("TLS (all three files, or none: plaintext)")
    group.add_argument("--tls-cert", type=Path, help="this replica's certificate (PEM)")
    group.add_argument("--tls-key", type=Path, help="its private key (PEM, owner-only)")
    group.add_argument("--tls-ca", type=Path, help="the CA that signed the peers' certificates")
    group.add_argument(
        "--mtls", action="store_true", help="require client certificates; present ours downstream"
    )


def _tls_files(args: argparse.Namespace) -> TlsFiles | None:
    given = [args.tls_cert, args.tls_key, args.tls_ca]
    if not any(given):
        if args.mtls:
            raise ValueError("--mtls needs --tls-cert, --tls-key and --tls-ca")
        return None
    if not all(given):
        raise ValueError("TLS needs all of --tls-cert, --tls-key and --tls-ca")
    return TlsFiles(ca=args.tls_ca, cert=args.tls_cert, key=args.tls_key, mtls=args.mtls)


def _plain(choices: Sequence[str]) -> list[str]:
    return [str(choice) for choice in choices]


def parse_service_args(
    argv: Sequence[str] | None, prog: str, server_models: Sequence[str] = ("default",)
) -> ServiceConfig:
    """Parse an entry point's command line; a bad flag exits with a one-line usage error."""
    parser = _parser(prog, server_models)
    args = parser.parse_args(argv)
    try:
        downstream = {
            name: tuple(parse_address_list(value))
            for name in DOWNSTREAMS
            if (value := getattr(args, f"{name}_endpoint"))
        }
        config = ServiceConfig(
            service=args.service,
            port=args.port,
            metrics_port=args.metrics_port,
            host=args.host,
            own_port=args.own_port,
            share=args.share,
            downstream=downstream if args.service == "percentage" else {},
            server_model=args.server_model,
            delay=args.delay,
            tls=_tls_files(args),
            error_rate=args.error_rate,
            downstream_timeout=args.downstream_timeout,
            **({"replica_id": args.replica_id} if args.replica_id else {}),
        )
    except ValueError as exc:
        parser.error(str(exc))
    return config


def announce_ready(
    config: ServiceConfig, port: int, own_port: int | None, metrics_port: int
) -> None:
    """Print the one JSON line that tells a supervisor the bound ports (port 0 resolved)."""
    line = {
        "event": "ready",
        "service": config.service,
        "replica": config.replica_id,
        "port": port,
        "own_port": own_port,
        "metrics_port": metrics_port,
        "pid": os.getpid(),
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def announce_failure(exc: OSError) -> int:
    """Report a start that failed (a port in use, usually) and return the exit status, 2.

    One line on stderr for a person; one JSON line on stdout for a supervisor, which tells a
    port another program holds from any other failure without parsing prose.
    """
    print(f"error: {exc}", file=sys.stderr)
    line: dict[str, object] = {"event": "failed", "error": str(exc)}
    if isinstance(exc, PortInUse):
        line["port_in_use"] = exc.port
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    return 2


class RunningService(Protocol):
    """A started service replica, as both `calculator_rest.server.start` and
    `calculator_grpc.server.start` return it (ports resolved when 0 was asked)."""

    port: int
    own_port: int | None
    metrics_port: int

    def stop(self, grace: float = 1.0) -> None: ...
