"""The FastAPI application of one calculator service replica (one service per process).

`POST /<service>` takes `{"op1": number, "op2": number}` and answers `{"result": number}`;
the calculation is `calcbench.core.calculation`'s, so this module only wires HTTP to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import FastAPI, Response
from fastapi.telemetry import TelemetryConfig
from starlette.types import ASGIApp

from calcbench.core.calculation import calculation
from calcbench.core.service_config import ServiceConfig
from calcbench.core.telemetry import ServiceMetrics
from calcbench.core.vocabulary import RestServerModel, Service
from calculator_rest.downstream import Downstream
from calculator_rest.endpoint import JSON, Endpoint, Shortcut
from calculator_rest.guard import Guard
from calculator_rest.operands import ErrorDetail, Operands, Result

#: FastAPI's native OpenTelemetry hooks off: the service's metrics are its Prometheus ones, and
#: checking for configured providers costs more per request than the arithmetic.
NO_TELEMETRY: Final[TelemetryConfig] = {"tracing": False, "metrics": False, "logs": False}


class CalculatorApp(FastAPI):
    """FastAPI wrapped in `Guard`, outside all its layers so that even its own 404s and 500s
    carry the replica header; in the `lean` model the calculator route is a `Shortcut`."""

    def __init__(self, *, replica: str, shortcut: tuple[str, ASGIApp] | None, **kwargs: Any):
        self.replica = replica
        self.shortcut = shortcut
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        if self.shortcut is not None:
            app = Shortcut(app, *self.shortcut)
        return Guard(app, self.replica)


def create_app(config: ServiceConfig, metrics: ServiceMetrics) -> FastAPI:
    """The app for `config.service`. Percentage calls its downstreams through a `Downstream`
    over `config.downstream`, which the app's lifespan opens and closes."""
    downstream = None
    if config.service == Service.PERCENTAGE:
        downstream = Downstream(config.downstream, config.downstream_timeout, tls=config.tls)
    call = None if downstream is None else downstream.call
    calculate = calculation(
        config.service, call, config.delay, config.error_rate, seed=config.replica_id
    )
    endpoint = Endpoint(calculate, metrics)
    path = f"/{config.service}"
    app = CalculatorApp(
        replica=config.replica_id,
        # `lean` (the default) serves the calculator route ahead of FastAPI's request handling;
        # `fastapi` routes it like any other. Same contract, measured cost apart (endpoint.py).
        shortcut=None if config.server_model == RestServerModel.FASTAPI else (path, endpoint),
        title=f"calcbench {config.service}",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(downstream),
        telemetry=NO_TELEMETRY,
    )
    app.add_api_route(
        path,
        endpoint.fastapi,
        methods=["POST"],
        summary=f"{config.service.capitalize()} of op1 and op2",
        openapi_extra={"requestBody": _request_body()},
        responses=_responses(config.service),
        response_class=Response,
    )
    app.add_api_route("/healthz", _healthz, methods=["GET"], summary="Liveness")
    return app


async def _healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type=JSON)


def _lifespan(downstream: Downstream | None) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if downstream is not None:
            await downstream.open()
        try:
            yield
        finally:
            if downstream is not None:
                await downstream.close()

    return lifespan


def _request_body() -> dict[str, Any]:
    # The body is parsed by hand (cheaper); the model only documents it.
    return {"required": True, "content": {JSON: {"schema": Operands.model_json_schema()}}}


def _responses(service: str) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {
        200: {"model": Result, "description": "The result"},
        400: {"model": ErrorDetail, "description": "Invalid argument (e.g. division by zero)"},
        413: {"model": ErrorDetail, "description": "Body over 64 KiB"},
        415: {"model": ErrorDetail, "description": "Content-Type declared and not JSON"},
        422: {"model": ErrorDetail, "description": "Body is not {op1: number, op2: number}"},
    }
    if service == Service.PERCENTAGE:
        responses[502] = {"model": ErrorDetail, "description": "A downstream is unreachable"}
        responses[504] = {"model": ErrorDetail, "description": "A downstream timed out"}
    return responses
