"""Where the services are: an endpoints file, `--endpoint` flags, or `<SERVICE>_ENDPOINT` env
vars (as in Kubernetes). Flags win over the file, the file over the environment; only the
services of the mix need an address."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from calcbench.core.endpoints import Endpoints, Replica, ServiceEndpoint, parse_address_list
from calcbench.core.vocabulary import SERVICES


def parse_endpoint_flag(text: str) -> tuple[str, ServiceEndpoint]:
    """`addition=host:port[,host:port...]` -> ("addition", endpoint)."""
    service, sep, value = (part.strip() for part in text.partition("="))
    if not sep or not service:
        raise ValueError(f"bad --endpoint {text!r}: expected SERVICE=host:port[,host:port...]")
    if service not in SERVICES:
        raise ValueError(f"bad --endpoint {text!r}: unknown service {service!r}")
    return service, endpoint_from_list(value)


def endpoint_from_list(value: str) -> ServiceEndpoint:
    """One address: the service's address. Several: replica addresses (for round-robin); the
    first also serves as the shared address."""
    addresses = parse_address_list(value)
    replicas = tuple(Replica(id=address, address=address, metrics="") for address in addresses)
    return ServiceEndpoint(address=addresses[0], replicas=replicas)


def resolve_endpoints(
    protocol: str,
    services: Sequence[str],
    endpoints_file: Path | None = None,
    flags: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Endpoints:
    """The endpoints of `services` for `protocol`; ValueError names what is missing."""
    environment = os.environ if env is None else env
    found: dict[str, ServiceEndpoint] = {}
    tls = None
    for service in services:
        variable = environment.get(f"{service.upper()}_ENDPOINT")
        if variable:
            found[service] = endpoint_from_list(variable)
    if endpoints_file is not None:
        loaded = Endpoints.load(endpoints_file)
        if loaded.protocol != protocol:
            raise ValueError(f"{endpoints_file} lists {loaded.protocol} endpoints, not {protocol}")
        found |= {s: e for s, e in loaded.services.items() if s in services}
        tls = loaded.tls
    found |= dict(parse_endpoint_flag(flag) for flag in flags)
    missing = [service for service in services if service not in found]
    if missing:
        first = missing[0]
        raise ValueError(
            f"no endpoint for {', '.join(missing)}: give --endpoints-file, "
            f"--endpoint {first}=host:port or {first.upper()}_ENDPOINT"
        )
    return Endpoints(protocol, {s: found[s] for s in services}, tls)
