"""Ports are bound once, never probed: claims, siblings, strangers and TIME_WAIT."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from calcbench.core.listening import PortInUse, PortShare, bound_port, claim, listen

HOST = "127.0.0.1"


@pytest.fixture
def stranger() -> Iterator[int]:
    """A port held by another program: a plain listener, no SO_REUSEPORT."""
    with socket.socket() as held:
        held.bind((HOST, 0))
        held.listen()
        yield bound_port(held)


@pytest.mark.parametrize("share", list(PortShare))
def test_a_port_held_by_another_program_is_named(stranger: int, share: PortShare) -> None:
    with pytest.raises(PortInUse, match=f"^port {stranger} on 127.0.0.1 is already in use$"):
        listen(HOST, stranger, share)


def test_siblings_join_an_opened_port_and_the_kernel_spreads_connections() -> None:
    with listen(HOST, 0, PortShare.OPEN) as first:
        port = bound_port(first)
        with listen(HOST, port, PortShare.JOIN) as second:
            for listener in (first, second):
                listener.settimeout(0)
            accepted = {id(first): 0, id(second): 0}
            clients = [socket.create_connection((HOST, port)) for _ in range(64)]
            for listener in (first, second):
                while True:
                    try:
                        listener.accept()[0].close()
                    except BlockingIOError:
                        break
                    accepted[id(listener)] += 1
            for client in clients:
                client.close()
    # 64 connections hashed over 2 listeners: all 64 on one has probability 2**-63.
    assert sum(accepted.values()) == 64 and all(accepted.values())


@pytest.mark.parametrize("share", [PortShare.ALONE, PortShare.OPEN])
def test_a_claimed_port_cannot_be_claimed_again(share: PortShare) -> None:
    """A stale stack on the same fixed ports makes the new replica 0 fail, not join it."""
    with listen(HOST, 0, share) as first, pytest.raises(PortInUse):
        listen(HOST, bound_port(first), PortShare.OPEN)


def test_only_an_opened_port_can_be_joined() -> None:
    with listen(HOST, 0, PortShare.ALONE) as alone, pytest.raises(PortInUse):
        listen(HOST, bound_port(alone), PortShare.JOIN)


def test_joining_needs_a_known_port() -> None:
    with pytest.raises(ValueError, match="not port 0"):
        claim(HOST, 0, PortShare.JOIN)


def test_time_wait_never_blocks_a_restart() -> None:
    """The server closes first, so its side of the connection sits in TIME_WAIT."""
    with listen(HOST, 0) as server:
        port = bound_port(server)
        client = socket.create_connection((HOST, port))
        conn, _ = server.accept()
        conn.close()
        client.recv(1)  # the server's FIN has arrived: the server side is in TIME_WAIT now
        client.close()
    with listen(HOST, port) as again:
        assert bound_port(again) == port
