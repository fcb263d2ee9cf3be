"""The FastAPI application of one calculator service replica (one service per process).

`POST /<service>` takes `{"op1": number, "op2": number}` and answers `{"result": number}`;
the arithmetic is `calcbench.arithmetic`'s, so this module only maps HTTP to it and back.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from time import perf_counter
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp

from calcbench.arithmetic import InvalidArgument, check_operands, check_result, compute
from calcbench.service_config import ServiceConfig
from calcbench.telemetry import ServiceMetrics
from calculator_rest.downstream import Downstream, DownstreamError
from calculator_rest.guard import MAX_BODY_BYTES, BodyTooLarge, Guard
from calculator_rest.operands import ErrorDetail, MalformedBody, Operands, Result, parse_operands

Calculate = Callable[[float, float], Awaitable[float]]
logger = logging.getLogger(__name__)
JSON = "application/json"


class GuardedFastAPI(FastAPI):
    """FastAPI with `Guard` outside all its layers, so even its own 404/500 carry the header."""

    def __init__(self, *, replica: str, **kwargs: Any) -> None:
        self.replica = replica
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        return Guard(super().build_middleware_stack(), self.replica, MAX_BODY_BYTES)


def create_app(
    config: ServiceConfig, metrics: ServiceMetrics, downstream: Downstream | None = None
) -> FastAPI:
    """The app for `config.service`. Percentage calls `downstream` (by default a `Downstream`
    over `config.downstream`), opened and closed by the app's lifespan."""
    if config.service == "percentage" and downstream is None:
        downstream = Downstream(config.downstream)
    calculate = _percentage(downstream) if config.service == "percentage" else _local(config)
    app = GuardedFastAPI(
        replica=config.replica_id,
        title=f"calcbench {config.service}",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(downstream),
    )
    app.add_api_route(
        f"/{config.service}",
        _endpoint(calculate, metrics),
        methods=["POST"],
        summary=f"{config.service.capitalize()} of op1 and op2",
        openapi_extra={"requestBody": _request_body()},
        responses=_responses(config.service),
        response_class=Response,
    )
    app.add_api_route("/healthz", _healthz, methods=["GET"], summary="Liveness")
    return app


def _local(config: ServiceConfig) -> Calculate:
    service = config.service

    async def calculate(op1: float, op2: float) -> float:
        return compute(service, op1, op2)

    return calculate


def _percentage(downstream: Downstream | None) -> Calculate:
    if downstream is None:
        raise ValueError("percentage needs a downstream client")

    async def calculate(op1: float, op2: float) -> float:
        check_operands(op1, op2)
        product = await downstream.call("multiplication", op1, op2)
        return check_result(await downstream.call("division", product, 100.0))

    return calculate


def _endpoint(calculate: Calculate, metrics: ServiceMetrics) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        started = perf_counter()
        try:
            op1, op2 = parse_operands(await request.body())
            result = await calculate(op1, op2)
        except InvalidArgument as exc:
            outcome, response = "invalid_argument", _error(400, str(exc))
        except MalformedBody as exc:
            outcome, response = "malformed", _error(422, str(exc))
        except BodyTooLarge as exc:
            outcome, response = "malformed", _error(413, exc.detail)
        except DownstreamError as exc:
            outcome, response = exc.outcome, _error(exc.status, str(exc))
        except Exception:
            logger.exception("unexpected error")
            outcome, response = "server_error", _error(500, "internal server error")
        else:
            outcome, response = "ok", Response(orjson.dumps({"result": result}), media_type=JSON)
        metrics.observe(outcome, perf_counter() - started)
        return response

    return endpoint


def _error(status: int, detail: str) -> Response:
    return Response(orjson.dumps({"detail": detail}), status_code=status, media_type=JSON)


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
    # The body is parsed by hand (cheaper); the model still documents it.
    schema = Operands.model_json_schema()
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _responses(service: str) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {
        200: {"model": Result, "description": "The result"},
        400: {"model": ErrorDetail, "description": "Invalid argument (e.g. division by zero)"},
        413: {"model": ErrorDetail, "description": "Body over 64 KiB"},
        422: {"model": ErrorDetail, "description": "Body is not {op1: number, op2: number}"},
    }
    if service == "percentage":
        responses[502] = {"model": ErrorDetail, "description": "A downstream is unreachable"}
        responses[504] = {"model": ErrorDetail, "description": "A downstream timed out"}
    return responses
