"""Control-plane health checks: REST `GET /healthz`, gRPC `grpc.health.v1.Health/Check`."""

from __future__ import annotations

import time

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc


def is_healthy(protocol: str, address: str, timeout: float = 1.0) -> bool:
    """One probe of the replica at `address`; False on any failure."""
    if protocol == "rest":
        try:
            return httpx.get(f"http://{address}/healthz", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def wait_healthy(protocol: str, address: str, deadline: float) -> bool:
    """Probe until healthy or `deadline` (a time.monotonic() value) passes."""
    while True:
        if is_healthy(protocol, address, timeout=max(0.1, min(1.0, deadline - time.monotonic()))):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
