"""Start one calculator service replica over gRPC, in-process and non-blocking.

`start(config)` is the public API (the same shape as `calculator_rest.server.start`):
it binds, starts serving and returns a handle with the resolved ports and `stop(grace)`.
`config.server_model` picks `sync` (thread pool, the default: cheaper per call, measured in
`benchmarks/grpc_server_models.py`) or `aio` (`grpc.aio`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from calcbench.core.metrics_http import MetricsServer
from calcbench.core.service_config import ServiceConfig
from calcbench.core.telemetry import ServiceMetrics
from calcbench.core.vocabulary import GrpcServerModel
from calculator_grpc import aio_model, sync_model


class _ModelServer(Protocol):
    port: int
    own_port: int | None

    def stop(self, grace: float = 1.0) -> None: ...


@dataclass
class GrpcService:
    """A running replica: what `start` returns (a `service_config.RunningService`)."""

    port: int
    own_port: int | None
    metrics_port: int
    metrics: ServiceMetrics
    _server: _ModelServer
    _metrics_http: MetricsServer

    def stop(self, grace: float = 1.0) -> None:
        """Stop accepting calls, wait up to `grace` seconds for those in flight, release ports."""
        try:
            self._server.stop(grace)
        finally:
            self._metrics_http.stop()


def start(config: ServiceConfig) -> GrpcService:
    """Serve `config.service` on `config.host:config.port` (and `own_port`), metrics apart."""
    if config.server_model not in tuple(GrpcServerModel):
        raise ValueError(f"unknown server model {config.server_model!r}; expected sync or aio")
    metrics = ServiceMetrics(config.service, config.replica_id)
    server: _ModelServer
    if config.server_model == GrpcServerModel.AIO:
        server = aio_model.AioServer(config, metrics)
    else:
        server = sync_model.start(config, metrics)
    metrics.set_ports(tuple(p for p in (server.port, server.own_port) if p is not None))
    try:
        metrics_http = metrics.serve(config.host, config.metrics_port)
    except OSError:
        server.stop(0)
        raise
    return GrpcService(
        server.port, server.own_port, metrics_http.port, metrics, server, metrics_http
    )
