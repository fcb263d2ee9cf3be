"""REST over TLS and mTLS: the right certificates pass, the wrong ones fail the handshake, and
percentage's downstream hops speak the same TLS."""

from __future__ import annotations

import httpx
import pytest

from calcbench.core.tls import Pki, TlsFiles, client_context
from tests.calculator_rest.conftest import StartService


def post(port: int, service: str, client: TlsFiles | None, **operands: float) -> httpx.Response:
    verify = True if client is None else client_context(client)
    scheme = "http" if client is None else "https"
    url = f"{scheme}://127.0.0.1:{port}/{service}"
    return httpx.post(url, json=operands, verify=verify, timeout=5)


@pytest.mark.parametrize("mtls", [False, True])
def test_the_right_certificates_get_an_answer(serve: StartService, pki: Pki, mtls: bool) -> None:
    addition = serve("addition", tls=pki.server(mtls))
    response = post(addition.port, "addition", pki.client(mtls), op1=2, op2=3)
    assert response.status_code == 200 and response.json() == {"result": 5.0}


def test_plaintext_and_a_foreign_ca_fail(serve: StartService, pki: Pki, wrong_pki: Pki) -> None:
    addition = serve("addition", tls=pki.server(False))
    with pytest.raises(httpx.HTTPError):
        post(addition.port, "addition", None, op1=2, op2=3)
    with pytest.raises(httpx.ConnectError):
        post(addition.port, "addition", wrong_pki.client(False), op1=2, op2=3)


def test_mtls_refuses_clients_without_the_cas_certificate(
    serve: StartService, pki: Pki, wrong_pki: Pki
) -> None:
    addition = serve("addition", tls=pki.server(True))
    foreign = wrong_pki.client(True)
    for client in (pki.client(False), TlsFiles(pki.ca, foreign.cert, foreign.key, True)):
        with pytest.raises(httpx.HTTPError):
            post(addition.port, "addition", client, op1=2, op2=3)


@pytest.mark.parametrize("mtls", [False, True])
def test_percentage_calls_its_downstreams_over_tls(
    serve: StartService, pki: Pki, mtls: bool
) -> None:
    tls = pki.server(mtls)
    downstream = {
        name: (f"127.0.0.1:{serve(name, tls=tls).port}",) for name in ("multiplication", "division")
    }
    percentage = serve("percentage", tls=tls, downstream=downstream)
    response = post(percentage.port, "percentage", pki.client(mtls), op1=50, op2=10)
    assert response.status_code == 200 and response.json() == {"result": 5.0}


def test_percentage_fails_against_a_downstream_it_cannot_verify(
    serve: StartService, pki: Pki, wrong_pki: Pki
) -> None:
    foreign = wrong_pki.server(False)
    downstream = {
        name: (f"127.0.0.1:{serve(name, tls=foreign).port}",)
        for name in ("multiplication", "division")
    }
    percentage = serve("percentage", tls=pki.server(False), downstream=downstream)
    response = post(percentage.port, "percentage", pki.client(False), op1=50, op2=10)
    assert response.status_code == 502 and "unavailable" in response.json()["detail"]
