"""The FastAPI application of one calculator service replica (one service per process).

`POST /<service>` takes `{"op1": number, "op2": number}` and answers `{"result": number}`;
the arithmetic is `calcbench.arithmetic`'s, so this module only wires HTTP to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import FastAPI, Response
from fastapi.telemetry import TelemetryConfig
from starlette.types import ASGIApp

from calcbench.arithmetic import check_operands, check_result, compute
from calcbench.service_config import ServiceConfig
from calcbench.telemetry import ServiceMetrics
from calculator_rest.downstream import Downstream
from calculator_rest.endpoint import JSON, Calculate, Endpoint, Shortcut
from calculator_rest.guard import Guard
from calculator_rest.operands import ErrorDetail, Operands, Result

#: `lean` (default): the calculator route skips FastAPI's request handling; `fastapi`: it
#: goes through it like any route. Same contract, measured cost apart.
SERVER_MODELS: Final = ("lean", "fastapi")
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


def create_app(
    config: ServiceConfig, metrics: ServiceMetrics, downstream: Downstream | None = None
) -> FastAPI:
    """The app for `config.service`. Percentage calls `downstream` (by default a `Downstream`
    over `config.downstream`), which the app's lifespan opens and closes."""
    if config.service == "percentage" and downstream is None:
        downstream = Downstream(config.downstream)
    calculate = _delayed(_calculation(config.service, downstream), config.delay)
    endpoint = Endpoint(calculate, metrics)
    path = f"/{config.service}"
    app = CalculatorApp(
        replica=config.replica_id,
        shortcut=None if config.server_model == "fastapi" else (path, endpoint),
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


def _calculation(service: str, downstream: Downstream | None) -> Calculate:
    if service != "percentage":

        async def local(op1: float, op2: float) -> float:
            return compute(service, op1, op2)

        return local
    if downstream is None:
        raise ValueError("percentage needs a downstream client")

    async def percentage(op1: float, op2: float) -> float:
        check_operands(op1, op2)
        product = await downstream.call("multiplication", op1, op2)
        return check_result(await downstream.call("division", product, 100.0))

    return percentage


def _delayed(calculate: Calculate, delay: float) -> Calculate:
    """`calculate` after an `await asyncio.sleep(delay)` (`--delay`, a slow replica), inside the
    endpoint's timer as a slow replica's own work would be; `calculate` itself when 0."""
    if delay <= 0:
        return calculate

    async def slow(op1: float, op2: float) -> float:
        await asyncio.sleep(delay)
        return await calculate(op1, op2)

    return slow


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
    if service == "percentage":
        responses[502] = {"model": ErrorDetail, "description": "A downstream is unreachable"}
        responses[504] = {"model": ErrorDetail, "description": "A downstream timed out"}
    return responses
