"""The entry point of one service replica, written once for `python -m calculator_rest|grpc`.

Parse the flags, start serving, print the ready line (or the failure, exit 2), serve until
SIGTERM or SIGINT, stop gracefully, exit 0. A supervisor (`calcbench serve`, a Kubernetes pod)
sees the same lines, statuses and shutdown from either stack.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from types import FrameType
from typing import Final

from calcbench.core.service_config import (
    RunningService,
    ServiceConfig,
    announce_failure,
    announce_ready,
    parse_service_args,
)

#: Seconds calls in flight get to finish after SIGTERM (Kubernetes then waits 30 s by default).
GRACE_SECONDS: Final = 2.0
#: The longest the main thread goes without looking at Python's signal flags (see `_wait`).
SIGNAL_POLL_SECONDS: Final = 0.5


def serve_replica(
    prog: str,
    start: Callable[[ServiceConfig], RunningService],
    server_models: Iterable[str],
    argv: Sequence[str] | None = None,
) -> int:
    """Serve one replica with `start` until a signal; the process's exit status.

    `server_models` are the stack's `--server-model` choices, the first the default.
    """
    config = parse_service_args(argv, prog=prog, server_models=tuple(server_models))
    stopping = _stop_on_signal()
    try:
        service = start(config)
    except OSError as exc:
        return announce_failure(exc)
    try:
        announce_ready(config, service.port, service.own_port, service.metrics_port)
        _wait(stopping)
    finally:
        service.stop(GRACE_SECONDS)
    return 0


def _stop_on_signal() -> threading.Event:
    """An event set by SIGTERM or SIGINT, installed before serving so that a signal sent while
    the replica starts is not lost (and SIGINT never raises KeyboardInterrupt mid-start)."""
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    return stopping


def _wait(stopping: threading.Event) -> None:
    """Return once `stopping` is set.

    Python runs a signal's handler in the main thread, between bytecodes. The kernel may hand
    the signal to any of the servers' threads instead; the main thread, blocked in a wait, would
    then never get to the handler. Waking it every SIGNAL_POLL_SECONDS bounds that delay.
    """
    while not stopping.wait(SIGNAL_POLL_SECONDS):
        pass
