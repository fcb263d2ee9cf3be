"""Listening sockets that are bound once and never probed.

A port is either bound for real or not at all: probing a port and binding it later lets another
process take it in between. Every listener sets SO_REUSEADDR, so connections left in TIME_WAIT
by a previous run never block a restart. Replicas of one service can share a port with
SO_REUSEPORT, the kernel spreading connections among them like a Kubernetes ClusterIP Service:

* the first replica `claim`s the port alone (the bind fails if anything holds it, another
  calcbench stack included) and then opens it to its siblings;
* each sibling `join`s it (the bind fails unless the holder opened it, i.e. is a sibling).
"""

from __future__ import annotations

import socket
from enum import StrEnum

#: Connections the kernel queues before the server accepts them.
BACKLOG = 2048


class PortShare(StrEnum):
    """How a replica holds its service port."""

    ALONE = "alone"  # nobody else may bind it
    OPEN = "open"  # claimed alone, then opened to sibling replicas (SO_REUSEPORT)
    JOIN = "join"  # bound beside a sibling that opened it


class PortInUse(OSError):
    """A port another program holds; the message names it."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"port {port} on {host} is already in use")
        self.host, self.port = host, port


def _socket(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def _bind(sock: socket.socket, host: str, port: int) -> socket.socket:
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(host, port) from exc
    return sock


def bound_port(sock: socket.socket) -> int:
    """The port a socket is bound to (what port 0 resolved to)."""
    return int(sock.getsockname()[1])


def claim(host: str, port: int, share: PortShare = PortShare.ALONE) -> socket.socket:
    """A socket bound to `host:port` (0: any free port), not yet listening.

    The bind fails when a listener holds the port, unless it opened the port and this is a
    `JOIN`. `OPEN` sets SO_REUSEPORT after binding: Linux checks the flag on the sockets
    already there when a later one binds, so siblings that `JOIN` are let in and nobody else.
    (Two sockets that only claimed, both with SO_REUSEADDR, may both bind: the kernel then
    refuses the second `listen`, so a port is never served twice.)
    """
    sock = _socket(host)
    if share is PortShare.JOIN:
        if port == 0:
            sock.close()
            raise ValueError("a replica can only join a known port, not port 0")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        return _bind(sock, host, port)
    _bind(sock, host, port)
    if share is PortShare.OPEN:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def listen(host: str, port: int, share: PortShare = PortShare.ALONE) -> socket.socket:
    """A listening socket on `host:port`; raises PortInUse naming the port when it is taken."""
    sock = claim(host, port, share)
    try:
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise PortInUse(host, port) from exc
    return sock
