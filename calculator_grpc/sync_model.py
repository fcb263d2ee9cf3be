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

from calcbench.core.arithmetic import InvalidArgument
from calcbench.core.calculation import InjectedError, SyncCalculate, sync_calculation
from calcbench.core.protos.calculator.v1.calculator_pb2 import Result
from calcbench.core.rpc import MalformedRequest, read_operands
from calcbench.core.service_config import ServiceConfig
from calcbench.core.telemetry import ServiceMetrics
from calcbench.core.vocabulary import Service
from calculator_grpc import wiring
from calculator_grpc.downstream import DownstreamError, SyncDownstream

# Arithmetic never blocks, so a few threads keep the core busy and more only fight over the GIL;
# percentage's threads wait on two downstream round trips, so it needs one per call in flight.
WORKERS = {"percentage": 64}
DEFAULT_WORKERS = 8

_INVALID = grpc.StatusCode.INVALID_ARGUMENT
_INTERNAL = grpc.StatusCode.INTERNAL

Behaviour = Callable[[bytes, Any], Result]


@dataclass
class SyncServer:
    """A started sync server; `stop` waits up to `grace` for calls in flight."""

    port: int
    own_port: int | None
    server: Any
    executor: ThreadPoolExecutor
    downstream: SyncDownstream | None

    def stop(self, grace: float = 1.0) -> None:
        self.server.stop(grace).wait()
        self.close()

    def close(self) -> None:
        """Release what the server does not own: downstream channels and the thread pool."""
        if self.downstream is not None:
            self.downstream.close()
        self.executor.shutdown(wait=False)


def start(config: ServiceConfig, metrics: ServiceMetrics) -> SyncServer:
    """Build, bind and start the server for `config.service`."""
    workers = WORKERS.get(config.service, DEFAULT_WORKERS)
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"grpc-{config.service}")
    server = grpc.server(executor, options=wiring.server_options(config))
    downstream = None
    if config.service == Service.PERCENTAGE:
        downstream = SyncDownstream(config.downstream, config.tls)
    started = SyncServer(0, None, server, executor, downstream)
    call = None if downstream is None else downstream.call
    calculate = sync_calculation(
        config.service, call, config.delay, config.error_rate, seed=config.replica_id
    )
    behaviour = _handler(calculate, metrics, wiring.replica_metadata(config), config.delay)
    wiring.register(server, config.service, wiring.bytes_handler(behaviour))
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


def _handler(
    calculate: SyncCalculate, metrics: ServiceMetrics, metadata: Any, delay: float
) -> Behaviour:
    """The method handler of every service: `calculate`'s answer or its error, on the wire."""
    observe = metrics.observe

    def handle(data: bytes, context: Any) -> Result:
        context.send_initial_metadata(metadata)
        # Timed from here, like the REST endpoint's timer, which excludes writing headers.
        started = perf_counter()
        try:
            request = read_operands(data)
            result = calculate(request.op1, request.op2, context)
        except MalformedRequest as exc:
            observe("malformed", perf_counter() - started)
            context.abort(_INVALID, str(exc))
        except InvalidArgument as exc:
            observe("invalid_argument", perf_counter() - started)
            context.abort(_INVALID, str(exc))
        except DownstreamError as exc:
            observe(exc.outcome, perf_counter() - started)
            context.abort(exc.status, exc.message)
        except InjectedError as exc:
            observe("server_error", perf_counter() - started)
            context.abort(_INTERNAL, str(exc))
        # After a --delay the caller's deadline may have passed: grpc drops the answer and the
        # caller sees DEADLINE_EXCEEDED, so count a timeout as the aio model does. (Asked only
        # then: is_active takes a lock, a cost the undelayed path does not pay.)
        late = delay > 0 and not context.is_active()
        observe("timeout" if late else "ok", perf_counter() - started)
        return Result(result=result)

    return handle
