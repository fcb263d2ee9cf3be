"""`python -m calculator_rest SERVICE --port P --metrics-port M ...`: serve one replica.

Prints one JSON ready line on stdout once connections are accepted, runs until SIGTERM or
SIGINT, then shuts down gracefully and exits 0. A port in use is a one-line error, exit 2.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence

from calcbench.core.service_config import (
    announce_failure,
    announce_ready,
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
        service = start(config)
    except OSError as exc:
        return announce_failure(exc)
    announce_ready(config, service.port, service.own_port, service.metrics_port)
    stopping.wait()
    service.stop(grace=GRACE_SECONDS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
