"""The `sync` server model: `grpc.server` with handlers on a thread pool (the default).

Handlers are closures over what they need, built once, so the request path allocates only the
response.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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

# Arithmetic never blocks, so a few threads keep the core busy and more only fight over the GIL;
# percentage's threads wait on two downstream round trips, so it needs one per call in flight.
WORKERS = {"percentage": 64}
DEFAULT_WORKERS = 8

_INVALID = grpc.StatusCode.INVALID_ARGUMENT


@dataclass
class SyncServer:
    """A started sync server; `stop` waits up to `grace` for calls in flight."""

    port: int
    own_port: int | None
    server: Any
    executor: ThreadPoolExecutor
    channels: list[Any]

    def stop(self, grace: float = 1.0) -> None:
        self.server.stop(grace).wait()
        self.close()

    def close(self) -> None:
        """Release what the server does not own: downstream channels and the thread pool."""
        for channel in self.channels:
            channel.close()
        self.executor.shutdown(wait=False)


def start(config: ServiceConfig, metrics: ServiceMetrics) -> SyncServer:
    """Build, bind and start the server for `config.service`."""
    workers = WORKERS.get(config.service, DEFAULT_WORKERS)
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"grpc-{config.service}")
    server = grpc.server(executor, options=wiring.server_options(config))
    started = SyncServer(0, None, server, executor, [])
    if config.service == "percentage":
        behaviour = _percentage(config, metrics, started.channels)
    else:
        behaviour = _arithmetic(config, metrics)
    # No request deserializer: the handler reads the bytes (`read_operands` says why).
    handler = grpc.unary_unary_rpc_method_handler(
        behaviour, response_serializer=Result.SerializeToString
    )
    wiring.register(server, config.service, handler)
    _add_health(server, config.service)
    wiring.add_reflection(server, config.service)
    try:
        started.port, started.own_port = wiring.bind(server, config)
    except OSError:
        started.close()
        raise
    server.start()
    return started


def _add_health(server: Any, service: str) -> None:
    servicer = health.HealthServicer()
    for name in wiring.health_names(service):
        servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)


Behaviour = Callable[[bytes, Any], Result]


def _arithmetic(config: ServiceConfig, metrics: ServiceMetrics) -> Behaviour:
    service, observe, delay = config.service, metrics.observe, config.delay
    metadata = wiring.replica_metadata(config)
    calculate = wiring.delayed(compute, delay)

    def handle(data: bytes, context: Any) -> Result:
        context.send_initial_metadata(metadata)
        # Timed from here, like the REST endpoint's timer, which excludes writing headers.
        started = perf_counter()
        try:
            request = read_operands(data)
            result = calculate(service, request.op1, request.op2)
        except MalformedRequest as exc:
            observe("malformed", perf_counter() - started)
            context.abort(_INVALID, str(exc))
        except InvalidArgument as exc:
            observe("invalid_argument", perf_counter() - started)
            context.abort(_INVALID, str(exc))
        # After a --delay the caller's deadline may have passed: grpc drops the answer and the
        # caller sees DEADLINE_EXCEEDED, so count a timeout as the aio model does. (Asked only
        # then: is_active takes a lock, a cost the undelayed path does not pay.)
        late = delay > 0 and not context.is_active()
        observe("timeout" if late else "ok", perf_counter() - started)
        return Result(result=result)

    return handle


def _percentage(config: ServiceConfig, metrics: ServiceMetrics, channels: list[Any]) -> Behaviour:
    """Percent = Divide(Multiply(op1, op2), 100) over long-lived channels made once, here."""
    calls = {}
    for name in DOWNSTREAMS:
        target, options = channel_target(config.downstream[name])
        channels.append(grpc.insecure_channel(target, options=options))
        calls[name] = unary_method(channels[-1], name)
    multiply, divide = calls["multiplication"], calls["division"]
    observe, metadata = metrics.observe, wiring.replica_metadata(config)
    check = wiring.delayed(check_operands, config.delay)

    def call(name: str, method: Any, request: Operands, context: Any) -> float:
        try:
            return float(
                method(request, timeout=downstream_timeout(context.time_remaining())).result
            )
        except grpc.RpcError as exc:
            raise DownstreamError(name, exc.code(), exc.details()) from exc

    def handle(data: bytes, context: Any) -> Result:
        context.send_initial_metadata(metadata)
        # Timed from here, like the REST endpoint's timer, which excludes writing headers.
        started = perf_counter()
        try:
            request = read_operands(data)
            check(request.op1, request.op2)
            product = call("multiplication", multiply, request, context)
            result = call("division", divide, Operands(op1=product, op2=100.0), context)
        except MalformedRequest as exc:
            observe("malformed", perf_counter() - started)
            context.abort(_INVALID, str(exc))
        except InvalidArgument as exc:
            observe("invalid_argument", perf_counter() - started)
            context.abort(_INVALID, str(exc))
        except DownstreamError as exc:
            observe(exc.outcome, perf_counter() - started)
            context.abort(exc.status, exc.message)
        observe("ok", perf_counter() - started)
        return Result(result=result)

    return handle
