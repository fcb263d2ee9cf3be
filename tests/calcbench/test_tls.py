"""The throwaway PKI: owner-only keys, certificates that verify against their CA only."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest

from calcbench.core.tls import Pki, TlsFiles, client_context, make_pki, server_context


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keys_are_owner_only_in_an_owner_only_folder(pki: Pki) -> None:
    assert mode(pki.directory) == 0o700
    for files in (pki.server(True), pki.client(True)):
        assert mode(files.key) == 0o600
        assert b"PRIVATE KEY" in files.key.read_bytes()
        assert b"PRIVATE KEY" not in files.cert.read_bytes()
    assert b"PRIVATE KEY" not in pki.ca.read_bytes()
    # The CA's own key is never written: nothing can be signed with it after the run.
    assert sorted(p.name for p in pki.directory.iterdir()) == [
        "ca.pem",
        "client-key.pem",
        "client.pem",
        "server-key.pem",
        "server.pem",
    ]


def test_an_existing_folder_is_made_private_too(tmp_path: Path) -> None:
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    make_pki(folder)
    assert mode(folder) == 0o700


def handshake(server: TlsFiles, client: TlsFiles, name: str = "127.0.0.1") -> None:
    """One TLS handshake over a socket pair; raises ssl.SSLError when either side refuses."""
    left, right = socket.socketpair()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            with server_context(server).wrap_socket(left, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError) as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_context(client).wrap_socket(right, server_hostname=name) as tls:
            tls.sendall(b"x")
            tls.recv(1)  # the server's verdict on our certificate arrives with TLS 1.3's first read
    except ssl.SSLError:
        raise
    except OSError:
        pass
    finally:
        thread.join(5)
        left.close()
        right.close()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_a_client_trusting_the_ca_accepts_the_server(pki: Pki, name: str) -> None:
    handshake(pki.server(False), pki.client(False), name)
    handshake(pki.server(True), pki.client(True), name)


def test_a_client_trusting_another_ca_refuses_the_server(pki: Pki, wrong_pki: Pki) -> None:
    with pytest.raises(ssl.SSLError):
        handshake(pki.server(False), wrong_pki.client(False))


def test_mtls_refuses_a_client_without_a_certificate_or_with_a_foreign_one(
    pki: Pki, wrong_pki: Pki
) -> None:
    with pytest.raises(ssl.SSLError):
        handshake(pki.server(True), pki.client(False))
    foreign = TlsFiles(pki.ca, wrong_pki.client(True).cert, wrong_pki.client(True).key, True)
    with pytest.raises(ssl.SSLError):
        handshake(pki.server(True), foreign)
