"""gRPC over TLS and mTLS (both server models): the right certificates pass, the wrong ones
fail as UNAVAILABLE, and percentage's downstream channels speak the same TLS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from calcbench.core.rpc import open_channel
from calcbench.core.tls import Pki, TlsFiles
from tests.calculator_grpc.conftest import StartService, call, rpc_error


@pytest.fixture
def secure() -> Iterator[Any]:
    """`secure(port, client_files)` opens a channel (TLS unless None); all close at teardown."""
    opened: list[Any] = []

    def _open(port: int, client: TlsFiles | None) -> Any:
        opened.append(open_channel(grpc, [f"127.0.0.1:{port}"], client))
        return opened[-1]

    yield _open
    for channel in opened:
        channel.close()


@pytest.mark.parametrize("mtls", [False, True])
def test_the_right_certificates_get_an_answer(
    serve: StartService, secure: Any, pki: Pki, mtls: bool
) -> None:
    addition = serve("addition", tls=pki.server(mtls))
    result, _ = call(secure(addition.port, pki.client(mtls)), "addition", 2, 3)
    assert result.result == 5.0


def test_plaintext_and_a_foreign_ca_fail(
    serve: StartService, secure: Any, pki: Pki, wrong_pki: Pki
) -> None:
    addition = serve("addition", tls=pki.server(False))
    for client in (None, wrong_pki.client(False)):
        error = rpc_error(secure(addition.port, client), "addition", 2, 3)
        assert error.code() == grpc.StatusCode.UNAVAILABLE


def test_mtls_refuses_clients_without_the_cas_certificate(
    serve: StartService, secure: Any, pki: Pki, wrong_pki: Pki
) -> None:
    addition = serve("addition", tls=pki.server(True))
    foreign = wrong_pki.client(True)
    for client in (pki.client(False), TlsFiles(pki.ca, foreign.cert, foreign.key, True)):
        error = rpc_error(secure(addition.port, client), "addition", 2, 3)
        assert error.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("mtls", [False, True])
def test_percentage_calls_its_downstreams_over_tls(
    serve: StartService, secure: Any, pki: Pki, mtls: bool
) -> None:
    tls = pki.server(mtls)
    downstream = {
        name: (f"127.0.0.1:{serve(name, tls=tls).port}",) for name in ("multiplication", "division")
    }
    percentage = serve("percentage", tls=tls, downstream=downstream)
    result, _ = call(secure(percentage.port, pki.client(mtls)), "percentage", 50, 10)
    assert result.result == 5.0


def test_percentage_fails_against_a_downstream_it_cannot_verify(
    serve: StartService, secure: Any, pki: Pki, wrong_pki: Pki
) -> None:
    foreign = wrong_pki.server(False)
    downstream = {
        name: (f"127.0.0.1:{serve(name, tls=foreign).port}",)
        for name in ("multiplication", "division")
    }
    percentage = serve("percentage", tls=pki.server(False), downstream=downstream)
    error = rpc_error(secure(percentage.port, pki.client(False)), "percentage", 50, 10)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "multiplication unavailable" in error.details()
