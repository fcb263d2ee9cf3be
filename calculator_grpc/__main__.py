"""`python -m calculator_grpc SERVICE --port P --metrics-port M [...]`: serve one replica.

Prints one JSON "ready" line (ports resolved) once serving, then runs until SIGTERM or SIGINT and
shuts down gracefully (exit 0). A port in use is a one-line error and exit code 2.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from calcbench.core.service_config import (
    announce_failure,
    announce_ready,
    parse_service_args,
)
from calculator_grpc.server import SERVER_MODELS, start

#: Seconds calls in flight get to finish after SIGTERM (Kubernetes then waits 30 s by default).
SHUTDOWN_GRACE = 2.0


def _stop_on_signal() -> threading.Event:
    """An event set by SIGTERM or SIGINT, installed before serving so none is missed."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_service_args(argv, prog="python -m calculator_grpc", server_models=SERVER_MODELS)
    stop = _stop_on_signal()
    try:
        service = start(config)
    except OSError as exc:
        return announce_failure(exc)
    try:
        announce_ready(config, service.port, service.own_port, service.metrics_port)
        # Python runs signal handlers in the main thread between waits; the timeout makes sure
        # the main thread gets there.
        while not stop.wait(0.5):
            pass
    finally:
        service.stop(SHUTDOWN_GRACE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
