"""What both server models share: server options, listening ports, method registration.

The server models (`sync_model`, `aio_model`) differ only in how handlers run; everything a
client can observe (ports, services, reflection, metadata) is wired here, once.
"""

from __future__ import annotations

from typing import Any

import grpc
from grpc_health.v1 import health
from grpc_reflection.v1alpha import reflection

from calcbench.core.listening import PortInUse, PortShare, bound_port, claim
from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands, Result
from calcbench.core.rpc import METHOD_NAMES, SERVICE_NAMES
from calcbench.core.service_config import ServiceConfig
from calcbench.core.tls import TlsFiles, read_pem
from calcbench.core.vocabulary import REPLICA_HEADER


def server_options(config: ServiceConfig) -> list[tuple[str, Any]]:
    """Options for `grpc.server` / `grpc.aio.server`.

    SO_REUSEPORT only for a shared service port: without it a second process binding our port
    fails loudly instead of silently taking half the traffic. The option is server-wide, so a
    replica's own port is then open to siblings too (none of which is told to join it).
    """
    return [("grpc.so_reuseport", 0 if config.share is PortShare.ALONE else 1)]


def replica_metadata(config: ServiceConfig) -> tuple[tuple[str, str], ...]:
    """The initial metadata every response carries, built once."""
    return ((REPLICA_HEADER, config.replica_id),)


def bind(server: Any, config: ServiceConfig) -> tuple[int, int | None]:
    """Listen on the shared port and, if set, the replica's own port; return the bound ports.

    Raises PortInUse naming a port that another program holds.
    """
    credentials = None if config.tls is None else server_credentials(config.tls)
    port = _listen(server, config.host, config.port, config.share, credentials)
    if config.own_port is None:
        return port, None
    # With SO_REUSEPORT on the server, grpcio's socket binds beside our claim only if it is open.
    own_share = PortShare.ALONE if config.share is PortShare.ALONE else PortShare.OPEN
    return port, _listen(server, config.host, config.own_port, own_share, credentials)


def server_credentials(tls: TlsFiles) -> grpc.ServerCredentials:
    """The replica's certificate; under mTLS, clients must present one the CA signed."""
    ca, cert, key = read_pem(tls)
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca if tls.mtls else None, require_client_auth=tls.mtls
    )


def _listen(
    server: Any, host: str, port: int, share: PortShare, credentials: grpc.ServerCredentials | None
) -> int:
    """Claim `port` with a socket of ours, so that the port is ours from the check to grpcio's
    own bind (grpcio cannot adopt a socket), then let grpcio bind and listen beside it."""
    with claim(host, port, share) as held:
        port = bound_port(held)
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            if credentials is None:
                bound = int(server.add_insecure_port(address))
            else:
                bound = int(server.add_secure_port(address, credentials))
        except RuntimeError as exc:  # grpcio's way of saying the bind failed
            raise PortInUse(host, port) from exc
    if bound != port:
        raise PortInUse(host, port)
    return bound


def register(server: Any, service: str, handler: grpc.RpcMethodHandler) -> None:
    """Serve `handler` as `service`'s one method, the way generated code registers it."""
    full_name = SERVICE_NAMES[service]
    handlers = {METHOD_NAMES[service]: handler}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(full_name, handlers),))
    # Registered methods are matched by the C core, saving a Python lookup per call.
    server.add_registered_method_handlers(full_name, handlers)


def unary_handler(behaviour: Any) -> grpc.RpcMethodHandler:
    """A unary-unary method handler reading `Operands` and writing `Result` (for stand-in
    servers in tests; the services read their own bytes, see `bytes_handler`)."""
    return grpc.unary_unary_rpc_method_handler(
        behaviour,
        request_deserializer=Operands.FromString,
        response_serializer=Result.SerializeToString,
    )


def bytes_handler(behaviour: Any) -> grpc.RpcMethodHandler:
    """A unary-unary method handler given the request's bytes, writing `Result`: the services
    decode with `read_operands` inside their timer and answer bytes that are not an `Operands`
    precisely (INVALID_ARGUMENT, counted malformed) instead of grpcio's INTERNAL/UNKNOWN."""
    return grpc.unary_unary_rpc_method_handler(
        behaviour, response_serializer=Result.SerializeToString
    )


def add_reflection(server: Any, service: str) -> None:
    """Server reflection listing the calculator service, health and reflection itself."""
    names = (SERVICE_NAMES[service], health.SERVICE_NAME, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server)


def health_names(service: str) -> tuple[str, str]:
    """The names health reports SERVING for: the whole server ("") and the calculator service."""
    return "", SERVICE_NAMES[service]
