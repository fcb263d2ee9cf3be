"""Bytes per request: the counting relay, exactly, then real calls through it."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from calcbench.core.endpoints import Endpoints
from calcbench.orchestration.wire import counting_relay, measure_bytes

REQUEST, REPLY = b"x" * 10, b"y" * 20


def _answer_once(listener: socket.socket) -> None:
    conn, _ = listener.accept()
    with conn:
        received = b""
        while len(received) < len(REQUEST):
            received += conn.recv(64)
        conn.sendall(REPLY)


def test_the_relay_counts_every_byte_each_way() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        server = threading.Thread(target=_answer_once, args=(listener,))
        server.start()
        target = f"127.0.0.1:{listener.getsockname()[1]}"
        with counting_relay(target) as (address, count):
            host, port = address.rsplit(":", 1)
            with socket.create_connection((host, int(port))) as client:
                client.sendall(REQUEST)
                received = b""
                while len(received) < len(REPLY):
                    received += client.recv(64)
        server.join(timeout=10)
    assert received == REPLY and (count.up, count.down) == (10, 20)


def test_real_calls_carry_their_headers_and_framing(addition: Endpoints, tmp_path: Path) -> None:
    measured = measure_bytes(addition.protocol, addition, tmp_path, seconds=1.0)
    assert measured.requests > 0
    # At least the operands and the answer, whatever the framing: a double each way.
    assert measured.sent_per_request > 16 and measured.received_per_request > 8
    if addition.protocol == "rest":
        # The request line and the JSON body alone.
        line = len(b"POST /addition HTTP/1.1\r\n") + len(b'{"op1": 1, "op2": 1}')
        assert measured.sent_per_request > line
