"""What both server models share: server options, listening ports, method registration.

The server models (`sync_model`, `aio_model`) differ only in how handlers run; everything a
client can observe (ports, services, reflection, metadata) is wired here, once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import grpc
from grpc_health.v1 import health
from grpc_reflection.v1alpha import reflection

from calcbench.service_config import REPLICA_HEADER, ServiceConfig
from calculator_grpc.protos.calculator.v1.calculator_pb2 import Operands, Result
from calculator_grpc.rpc import METHOD_NAMES, SERVICE_NAMES

P = ParamSpec("P")
R = TypeVar("R")


def server_options(config: ServiceConfig) -> list[tuple[str, Any]]:
    """Options for `grpc.server` / `grpc.aio.server`.

    SO_REUSEPORT only when asked: replicas sharing the service port need it, and without it a
    second process binding our port fails loudly instead of silently taking half the traffic.
    """
    return [("grpc.so_reuseport", 1 if config.reuse_port else 0)]


def replica_metadata(config: ServiceConfig) -> tuple[tuple[str, str], ...]:
    """The initial metadata every response carries, built once."""
    return ((REPLICA_HEADER, config.replica_id),)


def bind(server: Any, config: ServiceConfig) -> tuple[int, int | None]:
    """Listen on the shared port and, if set, the replica's own port; return the bound ports."""
    port = _listen(server, config.host, config.port)
    own_port = None if config.own_port is None else _listen(server, config.host, config.own_port)
    return port, own_port


def _listen(server: Any, host: str, port: int) -> int:
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = int(server.add_insecure_port(address))
    except RuntimeError as exc:  # grpcio's way of saying the bind failed
        raise OSError(f"cannot listen on {address}: {exc}") from exc
    if bound == 0:
        raise OSError(f"cannot listen on {address}")
    return bound


def register(server: Any, service: str, handler: grpc.RpcMethodHandler) -> None:
    """Serve `handler` as `service`'s one method, the way generated code registers it."""
    full_name = SERVICE_NAMES[service]
    handlers = {METHOD_NAMES[service]: handler}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(full_name, handlers),))
    # Registered methods are matched by the C core, saving a Python lookup per call.
    server.add_registered_method_handlers(full_name, handlers)


def unary_handler(behaviour: Any) -> grpc.RpcMethodHandler:
    """A unary-unary method handler reading `Operands` and writing `Result`."""
    return grpc.unary_unary_rpc_method_handler(
        behaviour,
        request_deserializer=Operands.FromString,
        response_serializer=Result.SerializeToString,
    )


def add_reflection(server: Any, service: str) -> None:
    """Server reflection listing the calculator service, health and reflection itself."""
    names = (SERVICE_NAMES[service], health.SERVICE_NAME, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server)


def health_names(service: str) -> tuple[str, str]:
    """The names health reports SERVING for: the whole server ("") and the calculator service."""
    return "", SERVICE_NAMES[service]


def delayed(function: Callable[P, R], delay: float) -> Callable[P, R]:
    """`function` after a `time.sleep(delay)` of the handler's thread (`--delay`, a slow
    replica, sync model); `function` itself when 0, so the default path is unchanged."""
    if delay <= 0:
        return function

    def slow(*args: P.args, **kwargs: P.kwargs) -> R:
        time.sleep(delay)
        return function(*args, **kwargs)

    return slow
