"""The load generator over TLS and mTLS against real services (percentage's hops included):
every call succeeds with the right certificates and none with the wrong ones."""

from __future__ import annotations

import csv
import dataclasses
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from calcbench.core.endpoints import Endpoints, EndpointsTls
from calcbench.core.tls import CA_CERT, CLIENT_CERT, CLIENT_KEY, Pki
from loadgen.runner import run_load
from loadgen.settings import LoadSettings
from tests.loadgen.conftest import LocalStack

MIX = (("addition", 1.0), ("percentage", 1.0))


@pytest.fixture(scope="module", params=["rest", "grpc"])
def mtls_stack(request: pytest.FixtureRequest, pki: Pki) -> Iterator[LocalStack]:
    """Addition and percentage (with its two downstreams), every hop on mTLS."""
    stack = LocalStack(str(request.param))
    try:
        tls = pki.server(True)
        for service in ("addition", "multiplication", "division"):
            stack.add(service, tls=tls)
        downstream = {s: (stack.services[s].address,) for s in ("multiplication", "division")}
        stack.add("percentage", downstream=downstream, tls=tls)
        yield stack
    finally:
        stack.stop()


def endpoints(stack: LocalStack, ca: Path) -> Endpoints:
    return Endpoints(stack.protocol, stack.endpoints.services, EndpointsTls(str(ca), mtls=True))


def outcomes(out: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    with (out / "errors.csv").open() as file:
        for row in csv.DictReader(file):
            counts[row["outcome"]] += int(row["count"])
    return counts


def settings(protocol: str) -> LoadSettings:
    return LoadSettings(
        protocol=protocol,
        mix=MIX,
        rate=60,
        duration=1,
        warmup=0.2,
        mtls=True,
        div_zero=0,
        timeout=5,
    )


def test_every_call_succeeds_with_the_right_certificates(
    mtls_stack: LocalStack, pki: Pki, tmp_path: Path
) -> None:
    load = settings(mtls_stack.protocol)
    result = run_load(load, endpoints(mtls_stack, pki.ca), tmp_path)
    assert result.requests == 60 and result.ok == 60


def test_no_call_succeeds_with_a_foreign_client_certificate(
    mtls_stack: LocalStack, pki: Pki, wrong_pki: Pki, tmp_path: Path
) -> None:
    # The right CA (the server verifies) beside a client certificate another CA signed.
    mixed = tmp_path / "mixed"
    mixed.mkdir(mode=0o700)
    shutil.copy(pki.ca, mixed / CA_CERT)
    shutil.copy(wrong_pki.directory / CLIENT_CERT, mixed / CLIENT_CERT)
    shutil.copy(wrong_pki.directory / CLIENT_KEY, mixed / CLIENT_KEY)
    result = run_load(
        settings(mtls_stack.protocol), endpoints(mtls_stack, mixed / CA_CERT), tmp_path
    )
    # A refused handshake is `unavailable`; on a busy machine some calls time out first.
    assert result.ok == 0 and set(outcomes(tmp_path)) <= {"unavailable", "timeout"}


def test_no_call_succeeds_against_servers_another_ca_signed(
    mtls_stack: LocalStack, wrong_pki: Pki, tmp_path: Path
) -> None:
    result = run_load(settings(mtls_stack.protocol), endpoints(mtls_stack, wrong_pki.ca), tmp_path)
    # A refused handshake is `unavailable`; on a busy machine some calls time out first.
    assert result.ok == 0 and set(outcomes(tmp_path)) <= {"unavailable", "timeout"}


def test_settings_that_do_not_match_the_stack_are_refused_up_front(
    mtls_stack: LocalStack, pki: Pki, tmp_path: Path
) -> None:
    load = settings(mtls_stack.protocol)
    tls = endpoints(mtls_stack, pki.ca)
    cases = [
        (dataclasses.replace(load, tls=False, mtls=False), tls, "add --tls"),
        (dataclasses.replace(load, mtls=False), tls, "add --mtls"),
        (load, dataclasses.replace(tls, tls=None), "name no CA"),
    ]
    for wrong, where, message in cases:
        with pytest.raises(ValueError, match=message):
            run_load(wrong, where, tmp_path)
