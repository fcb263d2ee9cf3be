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

from calcbench.core.arithmetic import InvalidArgument
from calcbench.core.calculation import (
    Calculate,
    InjectedError,
    SyncCalculate,
    calculation,
    sync_calculation,
)
from calcbench.core.protos.calculator.v1.calculator_pb2 import Result
from calcbench.core.rpc import MalformedRequest, read_operands
from calcbench.core.service_config import ServiceConfig
from calcbench.core.telemetry import ServiceMetrics
from calcbench.core.vocabulary import Service
from calculator_grpc import wiring
from calculator_grpc.downstream import AioDownstream, DownstreamError

_INVALID = grpc.StatusCode.INVALID_ARGUMENT
_INTERNAL = grpc.StatusCode.INTERNAL
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
        self._downstream: AioDownstream | None = None
        try:
            self._server, self.port, self.own_port = self._run(self._start(config, metrics))
        except BaseException:
            self._run(self._close_downstream())
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
        wiring.register(
            server, config.service, wiring.bytes_handler(self._handler(config, metrics))
        )
        await _add_health(server, config.service)
        wiring.add_reflection(server, config.service)
        port, own_port = wiring.bind(server, config)
        await server.start()
        return server, port, own_port

    async def _stop(self, grace: float) -> None:
        await self._server.stop(grace)
        await self._close_downstream()

    async def _close_downstream(self) -> None:
        if self._downstream is not None:
            await self._downstream.close()

    def _handler(self, config: ServiceConfig, metrics: ServiceMetrics) -> Behaviour:
        """The method handler of `config.service` (on the loop, where channels must be made)."""
        metadata = wiring.replica_metadata(config)
        if config.service != Service.PERCENTAGE and not config.delay:
            calculate = sync_calculation(
                config.service, error_rate=config.error_rate, seed=config.replica_id
            )
            return _immediate(calculate, metrics, metadata)
        if config.service == Service.PERCENTAGE:
            self._downstream = AioDownstream(config.downstream, config.tls)
        call = None if self._downstream is None else self._downstream.call
        faulty = calculation(
            config.service, call, config.delay, config.error_rate, seed=config.replica_id
        )
        return _awaiting(faulty, metrics, metadata)


async def _add_health(server: Any, service: str) -> None:
    servicer = health.aio.HealthServicer()
    for name in wiring.health_names(service):
        await servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)


def _immediate(calculate: SyncCalculate, metrics: ServiceMetrics, metadata: Any) -> Behaviour:
    """`_awaiting` for a calculation with nothing to wait for (the arithmetic, no `--delay`):
    called, not awaited, which saves creating and running a coroutine per call."""
    observe = metrics.observe

    async def handle(data: bytes, context: Any) -> Result:
        await context.send_initial_metadata(metadata)
        # Timed from here, like the REST endpoint's timer, which excludes writing headers.
        started = perf_counter()
        try:
            request = read_operands(data)
            result = calculate(request.op1, request.op2, context)
        except MalformedRequest as exc:
            observe("malformed", perf_counter() - started)
            await context.abort(_INVALID, str(exc))
        except InvalidArgument as exc:
            observe("invalid_argument", perf_counter() - started)
            await context.abort(_INVALID, str(exc))
        except InjectedError as exc:
            observe("server_error", perf_counter() - started)
            await context.abort(_INTERNAL, str(exc))
        observe("ok", perf_counter() - started)
        return Result(result=result)

    return handle


def _awaiting(calculate: Calculate, metrics: ServiceMetrics, metadata: Any) -> Behaviour:
    """The handler of a calculation that waits: on `--delay`, on percentage's downstreams."""
    observe = metrics.observe

    async def handle(data: bytes, context: Any) -> Result:
        await context.send_initial_metadata(metadata)
        started = perf_counter()
        try:
            request = read_operands(data)
            result = await calculate(request.op1, request.op2, context)
        except MalformedRequest as exc:
            observe("malformed", perf_counter() - started)
            await context.abort(_INVALID, str(exc))
        except InvalidArgument as exc:
            observe("invalid_argument", perf_counter() - started)
            await context.abort(_INVALID, str(exc))
        except InjectedError as exc:
            observe("server_error", perf_counter() - started)
            await context.abort(_INTERNAL, str(exc))
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
