"""The `aio` server model: `grpc.aio` on its own event loop in a background thread.

The thread keeps `start()` synchronous, the same shape as the sync model, so callers (tests,
`__main__`, `calcbench serve`) never need an event loop of their own.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from calcbench.arithmetic import InvalidArgument, check_operands, compute
from calcbench.service_config import DOWNSTREAMS, ServiceConfig
from calcbench.telemetry import ServiceMetrics
from calculator_grpc import wiring
from calculator_grpc.downstream import DownstreamError, downstream_timeout
from calculator_grpc.protos.calculator.v1.calculator_pb2 import Operands, Result
from calculator_grpc.rpc import MalformedRequest, channel_target, read_operands, unary_method

_INVALID = grpc.StatusCode.INVALID_ARGUMENT
_START_TIMEOUT = 10.0

Behaviour = Callable[[bytes, Any], Awaitable[Result]]


class AioServer:
    """A `grpc.aio` server running on a private event loop thread."""

    def __init__(self, config: ServiceConfig, metrics: ServiceMetrics) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"grpc-aio-{config.service}", daemon=True
        )
        self._thread.start()
        self._channels: list[Any] = []
        try:
            self._server, self.port, self.own_port = self._run(self._start(config, metrics))
        except BaseException:
            self._run(self._close_channels())
            self._halt()
            raise

    def stop(self, grace: float = 1.0) -> None:
        self._run(self._stop(grace), timeout=grace + _START_TIMEOUT)
        self._halt()

    def _run(self, coroutine: Any, timeout: float = _START_TIMEOUT) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _halt(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _start(
        self, config: ServiceConfig, metrics: ServiceMetrics
    ) -> tuple[Any, int, int | None]:
        server = grpc.aio.server(options=wiring.server_options(config))
        if config.service == "percentage":
            behaviour = self._percentage(config, metrics)
        else:
            behaviour = _arithmetic(config, metrics)
        # No request deserializer: the handler reads the bytes (`read_operands` says why).
        handler = grpc.unary_unary_rpc_method_handler(
            behaviour, response_serializer=Result.SerializeToString
        )
        wiring.register(server, config.service, handler)
        await _add_health(server, config.service)
        wiring.add_reflection(server, config.service)
        port, own_port = wiring.bind(server, config)
        await server.start()
        return server, port, own_port

    async def _stop(self, grace: float) -> None:
        await self._server.stop(grace)
        await self._close_channels()

    async def _close_channels(self) -> None:
        for channel in self._channels:
            await channel.close()

    def _percentage(self, config: ServiceConfig, metrics: ServiceMetrics) -> Behaviour:
        calls = {}
        for name in DOWNSTREAMS:
            target, options = channel_target(config.downstream[name])
            self._channels.append(grpc.aio.insecure_channel(target, options=options))
            calls[name] = unary_method(self._channels[-1], name)
        return _percentage(config, metrics, calls["multiplication"], calls["division"])


async def _add_health(server: Any, service: str) -> None:
    servicer = health.aio.HealthServicer()
    for name in wiring.health_names(service):
        await servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)


def _arithmetic(config: ServiceConfig, metrics: ServiceMetrics) -> Behaviour:
    service, observe = config.service, metrics.observe
    metadata, delay = wiring.replica_metadata(config), config.delay

    async def handle(data: bytes, context: Any) -> Result:
        await context.send_initial_metadata(metadata)
        # Timed from here, like the REST endpoint's timer, which excludes writing headers.
        started = perf_counter()
        try:
            request = read_operands(data)
            if delay:  # --delay (a slow replica); 0 costs one test of a local
                await asyncio.sleep(delay)
            result = compute(service, request.op1, request.op2)
        except MalformedRequest as exc:
            observe("malformed", perf_counter() - started)
            await context.abort(_INVALID, str(exc))
        except InvalidArgument as exc:
            observe("invalid_argument", perf_counter() - started)
            await context.abort(_INVALID, str(exc))
        except asyncio.CancelledError:
            # The caller's deadline passed during --delay and grpc.aio cancelled us: still a
            # call, counted as percentage counts it.
            observe("timeout", perf_counter() - started)
            raise
        observe("ok", perf_counter() - started)
        return Result(result=result)

    return handle


def _percentage(
    config: ServiceConfig, metrics: ServiceMetrics, multiply: Any, divide: Any
) -> Behaviour:
    """Percent = Divide(Multiply(op1, op2), 100) over the long-lived channels given."""
    observe, metadata = metrics.observe, wiring.replica_metadata(config)
    delay = config.delay

    async def call(name: str, method: Any, request: Operands, context: Any) -> float:
        try:
            response = await method(request, timeout=downstream_timeout(context.time_remaining()))
        except grpc.aio.AioRpcError as exc:
            raise DownstreamError(name, exc.code(), exc.details()) from exc
        return float(response.result)

    async def handle(data: bytes, context: Any) -> Result:
        await context.send_initial_metadata(metadata)
        # Timed from here, like the REST endpoint's timer, which excludes writing headers.
        started = perf_counter()
        try:
            request = read_operands(data)
            if delay:  # --delay (a slow replica); 0 costs one test of a local
                await asyncio.sleep(delay)
            check_operands(request.op1, request.op2)
            product = await call("multiplication", multiply, request, context)
            result = await call("division", divide, Operands(op1=product, op2=100.0), context)
        except MalformedRequest as exc:
            observe("malformed", perf_counter() - started)
            await context.abort(_INVALID, str(exc))
        except InvalidArgument as exc:
            observe("invalid_argument", perf_counter() - started)
            await context.abort(_INVALID, str(exc))
        except DownstreamError as exc:
            observe(exc.outcome, perf_counter() - started)
            await context.abort(exc.status, exc.message)
        except asyncio.CancelledError:
            # The caller gave up (its deadline, usually) and grpc.aio cancelled us mid-call; the
            # sync model would have counted the downstream's deadline instead, so count the same.
            observe("timeout", perf_counter() - started)
            raise
        observe("ok", perf_counter() - started)
        return Result(result=result)

    return handle
