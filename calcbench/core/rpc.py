"""What a gRPC client of the calculator needs: service names, method paths, channel settings;
and how a server reads a request's bytes (`read_operands`).

A client (the load generator, the percentage service) calls any service the same way::

    target, options = channel_target(["127.0.0.1:9001"])
    channel = grpc.aio.insecure_channel(target, options=options)
    add = unary_method(channel, "addition")        # or channel.unary_unary(METHOD_PATHS[...], ...)
    result = await add(Operands(op1=1, op2=2), timeout=1.0)   # -> Result(result=3.0)

`unary_method` works on sync (`grpc.insecure_channel`) and `grpc.aio` channels alike.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from typing import Any, Final

import grpc
from google.protobuf.message import DecodeError

from calcbench.core.endpoints import parse_address
from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands, Result
from calcbench.core.tls import TlsFiles, read_pem

PACKAGE: Final = "calculator.v1"

#: service -> (proto service, method), as in calculator.proto.
_PROTO_NAMES: Final = {
    "addition": ("Addition", "Add"),
    "subtraction": ("Subtraction", "Subtract"),
    "multiplication": ("Multiplication", "Multiply"),
    "division": ("Division", "Divide"),
    "percentage": ("Percentage", "Percent"),
}

#: "addition" -> "calculator.v1.Addition" (also the health-check service name).
SERVICE_NAMES: Final[dict[str, str]] = {
    service: f"{PACKAGE}.{proto}" for service, (proto, _) in _PROTO_NAMES.items()
}
#: "addition" -> "Add"
METHOD_NAMES: Final[dict[str, str]] = {
    service: method for service, (_, method) in _PROTO_NAMES.items()
}
#: "addition" -> "/calculator.v1.Addition/Add"
METHOD_PATHS: Final[dict[str, str]] = {
    service: f"/{SERVICE_NAMES[service]}/{METHOD_NAMES[service]}" for service in _PROTO_NAMES
}

REQUEST_SERIALIZER: Final = Operands.SerializeToString
RESPONSE_DESERIALIZER: Final = Result.FromString


class MalformedRequest(ValueError):
    """The request bytes are not an `Operands` message (INVALID_ARGUMENT, counted malformed)."""


def read_operands(data: bytes) -> Operands:
    """The `Operands` in `data`, or `MalformedRequest`.

    Servers register their method without a request deserializer and call this in the handler.
    Left to grpcio, bytes it cannot parse get INTERNAL (sync) or UNKNOWN (aio), uncounted and
    without the replica's metadata, though the caller's message is at fault, as a REST body that
    is not JSON is (422). It also puts the decode inside the handler's timer, as REST's is.
    """
    try:
        return Operands.FromString(data)
    except DecodeError as exc:
        raise MalformedRequest(f"request is not a {Operands.DESCRIPTOR.full_name} message") from exc


# Per-request balancing over a fixed list of addresses, as a mesh or a headless Service does.
_ROUND_ROBIN: Final = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})


def channel_target(addresses: Sequence[str]) -> tuple[str, list[tuple[str, Any]]]:
    """The channel target and options that reach `addresses` (each `host:port`).

    One address: the plain `host:port` target with gRPC's default `pick_first` (one connection,
    every request on it). Several: an `ipv4:`/`ipv6:` list target with `round_robin`, one
    connection per address and requests spread over them. Host names are resolved here, since
    list targets take IP literals only.

    Every channel gets `grpc.use_local_subchannel_pool`: without it grpcio shares one connection
    among channels created with identical arguments, so N channels would not be N connections.
    """
    if not addresses:
        raise ValueError("channel_target needs at least one address")
    options: list[tuple[str, Any]] = [("grpc.use_local_subchannel_pool", 1)]
    if len(addresses) == 1:
        parse_address(addresses[0])
        return addresses[0], options
    scheme, literals = _ip_literals(addresses)
    options += [
        ("grpc.service_config", _ROUND_ROBIN),
        ("grpc.service_config_disable_resolution", 1),
    ]
    return f"{scheme}:{','.join(literals)}", options


def _ip_literals(addresses: Sequence[str]) -> tuple[str, list[str]]:
    """("ipv4", ["127.0.0.1:9001", ...]) or ("ipv6", ["[::1]:9001", ...]) for `addresses`."""
    families: set[socket.AddressFamily] = set()
    literals: list[str] = []
    for address in addresses:
        host, port = parse_address(address)
        family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        families.add(family)
        ip = str(sockaddr[0])
        literals.append(f"[{ip}]:{port}" if family == socket.AF_INET6 else f"{ip}:{port}")
    if len(families) != 1:
        raise ValueError(f"cannot mix IPv4 and IPv6 addresses in one channel: {list(addresses)}")
    return ("ipv6" if families == {socket.AF_INET6} else "ipv4"), literals


def unary_method(channel: Any, service: str) -> Any:
    """The multicallable for `service`'s one method on `channel` (sync or `grpc.aio`).

    Registered methods (`_registered_method=True`, as generated stubs do) save grpcio a
    per-call lookup of the method path.
    """
    return channel.unary_unary(
        METHOD_PATHS[service],
        request_serializer=REQUEST_SERIALIZER,
        response_deserializer=RESPONSE_DESERIALIZER,
        _registered_method=True,
    )


def channel_credentials(tls: TlsFiles) -> grpc.ChannelCredentials:
    """Credentials that verify the server against `tls.ca` (and, under mTLS, present
    `tls.cert`), for `grpc.secure_channel` and `grpc.aio.secure_channel` alike."""
    ca, cert, key = read_pem(tls)
    if not tls.mtls:
        return grpc.ssl_channel_credentials(root_certificates=ca)
    return grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert
    )


def open_channel(module: Any, addresses: Sequence[str], tls: TlsFiles | None = None) -> Any:
    """A channel to `addresses` (see `channel_target`) from `module` (`grpc` or `grpc.aio`):
    insecure, or TLS when `tls` is set."""
    target, options = channel_target(addresses)
    if tls is None:
        return module.insecure_channel(target, options=options)
    return module.secure_channel(target, channel_credentials(tls), options=options)
