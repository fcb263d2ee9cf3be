"""`calcbench serve`: run one stack locally until Ctrl-C or SIGTERM."""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from rich.table import Table

from calcbench.core.endpoints import Endpoints
from calcbench.core.tls import throwaway_pki
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
    if endpoints.tls is not None:
        mode = "mTLS" if endpoints.tls.mtls else "TLS"
        table.caption = f"{mode} on every hop; CA {endpoints.tls.ca}"
    return table


def serve_until_stopped(
    settings: StackSettings,
    endpoints_file: Path | None,
    show: Callable[[Table], None],
    tls: bool = False,
    mtls: bool = False,
) -> None:
    """Start the stack, show it, and block until SIGINT/SIGTERM or until a replica dies.

    With `tls`, a throwaway CA and certificates are made first (in a private temporary folder
    named by the endpoints file's `tls.ca`, with the client certificate a load generator
    presents under `mtls`) and removed when the stack stops.
    Raises StackError when the stack cannot start or a replica exits on its own.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ExitStack() as resources:
            if tls:
                pki = resources.enter_context(throwaway_pki([settings.host]))
                settings = dataclasses.replace(settings, pki=pki, mtls=mtls)
            stack = resources.enter_context(Stack(settings))
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
