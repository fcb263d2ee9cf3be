"""`calcbench serve`: run one stack locally until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from rich.table import Table

from calcbench.core.endpoints import Endpoints
from calcbench.orchestration.supervisor import Stack, StackError, StackSettings


def endpoint_table(endpoints: Endpoints) -> Table:
    """The endpoint table `serve` prints: one row per replica."""
    table = Table(title=f"calcbench {endpoints.protocol} stack")
    for column in ("SERVICE", "ADDRESS", "REPLICA", "REPLICA ADDRESS", "METRICS", "PID"):
        table.add_column(column)
    for name, service in endpoints.services.items():
        for replica in service.replicas:
            table.add_row(
                name,
                service.address,
                replica.id,
                replica.address,
                replica.metrics,
                str(replica.pid),
            )
    return table


def serve_until_stopped(
    settings: StackSettings, endpoints_file: Path | None, show: Callable[[Table], None]
) -> None:
    """Start the stack, show it, and block until SIGINT/SIGTERM or until a replica dies.

    Raises StackError when the stack cannot start or a replica exits on its own.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Stack(settings) as stack:
            endpoints = stack.endpoints
            assert endpoints is not None  # set by start(), which __enter__ calls
            if endpoints_file is not None:
                endpoints.dump(endpoints_file)
            show(endpoint_table(endpoints))
            while not stop.wait(0.5):
                if dead := stack.exited():
                    raise StackError(f"replica {dead} exited; stopping the stack")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
