"""`python -m calculator_rest SERVICE --port P --metrics-port M ...`: serve one replica.

Prints one JSON ready line on stdout once connections are accepted, runs until SIGTERM or
SIGINT, then shuts down gracefully and exits 0. A port in use is a one-line error, exit 2.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence

from calcbench.service_config import (
    ServiceConfig,
    announce_ready,
    check_port_free,
    parse_service_args,
)
from calculator_rest.app import SERVER_MODELS
from calculator_rest.server import start

GRACE_SECONDS = 2.0


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_service_args(argv, prog="python -m calculator_rest", server_models=SERVER_MODELS)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _sig, _frame: stopping.set())
    try:
        _check_ports(config)
        service = start(config)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    announce_ready(config, service.port, service.own_port, service.metrics_port)
    stopping.wait()
    service.stop(grace=GRACE_SECONDS)
    return 0


def _check_ports(config: ServiceConfig) -> None:
    # Replicas sharing the port (SO_REUSEPORT) expect it taken: only check it when not shared.
    ports = [] if config.reuse_port else [config.port]
    ports += [p for p in (config.own_port, config.metrics_port) if p is not None]
    for port in ports:
        check_port_free(config.host, port)


if __name__ == "__main__":
    sys.exit(main())
