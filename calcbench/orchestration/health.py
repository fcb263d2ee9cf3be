"""Control-plane health checks: REST `GET /healthz`, gRPC `grpc.health.v1.Health/Check`.

Over TLS when the stack serves TLS (health shares the calculator's port), presenting the
client certificate under mTLS.
"""

from __future__ import annotations

import time

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from calcbench.core.rpc import open_channel
from calcbench.core.tls import TlsFiles, client_context


def is_healthy(
    protocol: str, address: str, timeout: float = 1.0, tls: TlsFiles | None = None
) -> bool:
    """One probe of the replica at `address`; False on any failure."""
    if protocol == "rest":
        return _rest_healthy(address, timeout, tls)
    with open_channel(grpc, [address], tls) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _rest_healthy(address: str, timeout: float, tls: TlsFiles | None) -> bool:
    scheme = "http" if tls is None else "https"
    verify = True if tls is None else client_context(tls)
    try:
        response = httpx.get(f"{scheme}://{address}/healthz", timeout=timeout, verify=verify)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def wait_healthy(protocol: str, address: str, deadline: float, tls: TlsFiles | None = None) -> bool:
    """Probe until healthy or `deadline` (a time.monotonic() value) passes."""
    while True:
        timeout = max(0.1, min(1.0, deadline - time.monotonic()))
        if is_healthy(protocol, address, timeout, tls):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
