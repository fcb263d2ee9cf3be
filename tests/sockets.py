"""Socket helpers for tests. No test probes a port and binds it later: a port a test needs
is held by the test for as long as it needs it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"


@contextmanager
def closed_port() -> Iterator[int]:
    """A port that refuses connections: bound (so nobody else takes it) and not listening."""
    with socket.socket() as held:
        held.bind((HOST, 0))
        yield int(held.getsockname()[1])


@contextmanager
def taken_port() -> Iterator[int]:
    """A port another program listens on, without SO_REUSEPORT."""
    with socket.socket() as held:
        held.bind((HOST, 0))
        held.listen()
        yield int(held.getsockname()[1])


def is_released(port: int) -> bool:
    """Whether a listener could take `port` now (what a restart needs)."""
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            again.bind((HOST, port))
            again.listen()
        except OSError:
            return False
    return True
