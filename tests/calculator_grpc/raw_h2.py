"""A few HTTP/2 frames written by hand, for callers a real gRPC client will not be: one that
never reads its answers (flow-control window 0, socket never read) or never sends its message.

Only what those callers need: the preface, one SETTINGS frame, per call a HEADERS frame (HPACK
literals, no Huffman, no table) and optionally a DATA frame with one gRPC message; and a PING.
"""

from __future__ import annotations

import socket
from typing import Final

PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA, _HEADERS, _SETTINGS, _PING = 0x0, 0x1, 0x4, 0x6
_END_STREAM, _END_HEADERS, _ACK = 0x1, 0x4, 0x1
_INITIAL_WINDOW_SIZE = 0x4


def frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return (
        len(payload).to_bytes(3, "big") + bytes((kind, flags)) + stream.to_bytes(4, "big") + payload
    )


def _literal(text: str) -> bytes:
    raw = text.encode()
    if len(raw) >= 127:  # one-byte length prefix only
        raise ValueError(f"header too long for this encoder: {text[:40]!r}")
    return bytes((len(raw),)) + raw


def request_headers(path: str, authority: str = "127.0.0.1") -> bytes:
    """A gRPC request's header block: literal fields without indexing (RFC 7541, 6.2.2)."""
    fields = (
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    )
    return b"".join(b"\x00" + _literal(name) + _literal(value) for name, value in fields)


def grpc_message(payload: bytes) -> bytes:
    """A length-prefixed, uncompressed gRPC message."""
    return b"\x00" + len(payload).to_bytes(4, "big") + payload


def connect(port: int, window: int = 65_535) -> socket.socket:
    """A connection that has sent its preface with `window` as every stream's initial window
    (0: the server may send headers but no DATA on any stream until the client allows it)."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    settings = _INITIAL_WINDOW_SIZE.to_bytes(2, "big") + window.to_bytes(4, "big")
    conn.sendall(PREFACE + frame(_SETTINGS, 0, 0, settings))
    return conn


def open_calls(conn: socket.socket, path: str, count: int, message: bytes | None) -> None:
    """Start `count` calls to `path` on new streams: each sends `message` and ends its side,
    or, when `message` is None, sends its headers only and then nothing (half a request)."""
    frames = []
    for index in range(count):
        stream = 1 + 2 * index
        frames.append(frame(_HEADERS, _END_HEADERS, stream, request_headers(path)))
        if message is not None:
            frames.append(frame(_DATA, _END_STREAM, stream, grpc_message(message)))
    conn.sendall(b"".join(frames))


def ping(conn: socket.socket) -> None:
    """Send a PING and read frames until its ACK: the server has then read every frame sent
    before it, so calls opened before a `ping` reach the server ahead of any made after it."""
    conn.sendall(frame(_PING, 0, 0, b"calcbnch"))
    while True:
        header = _read_exactly(conn, 9)
        payload = _read_exactly(conn, int.from_bytes(header[:3], "big"))
        if header[3] == _PING and header[4] & _ACK and payload == b"calcbnch":
            return


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data
