"""The one seam between the pacing loop and a protocol (fortio's `Runnable`, httpx's transport).

The pacing loop and the statistics only see `Target`; `RestTarget` (aiohttp) and `GrpcTarget`
(grpc.aio) live in their own modules and are imported only when chosen. `EwmaTarget`
(`--balancing ewma`) is a `Target` made of one protocol target per replica address.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Protocol

from calcbench.core.endpoints import Endpoints
from loadgen.outcomes import Reply
from loadgen.settings import CONNECTION_CAP, LoadSettings


class Target(Protocol):
    """Calls the calculator services of one stack. `call` never raises for a failed call: it
    returns the failure as a `Reply` (errors are data inside the load loop)."""

    async def connect(self) -> None:
        """Open connections ahead of the first call where the protocol allows it."""

    async def call(self, service: str, op1: float, op2: float) -> Reply: ...

    async def close(self) -> None: ...


def target_addresses(endpoints: Endpoints, service: str, balancing: str) -> tuple[str, ...]:
    """Where the requests for `service` go: its shared address, or every replica's own address
    for `round-robin` and `ewma` (the shared address when the endpoints list no replica)."""
    try:
        entry = endpoints.services[service]
    except KeyError as exc:
        raise ValueError(f"no endpoint for {service}") from exc
    if balancing != "shared" and entry.replicas:
        return tuple(replica.address for replica in entry.replicas)
    return (entry.address,)


def all_addresses(settings: LoadSettings, endpoints: Endpoints) -> dict[str, tuple[str, ...]]:
    return {s: target_addresses(endpoints, s, settings.balancing) for s in settings.services}


def make_target(settings: LoadSettings, endpoints: Endpoints) -> Target:
    """The target for `settings.protocol`, reaching the services of the mix.

    With `ewma` balancing, one protocol target per replica address behind an `EwmaTarget`,
    whose random draws come from `settings.seed` (the same seed, the same draws).
    """
    addresses = all_addresses(settings, endpoints)
    if settings.balancing == "ewma":
        from loadgen.ewma_target import EwmaTarget

        def per_replica(one: Mapping[str, tuple[str, ...]]) -> Target:
            return protocol_target(settings, one)

        rng = random.Random(f"ewma-{settings.seed}")
        return EwmaTarget(addresses, per_replica, rng, settings.timeout)
    return protocol_target(settings, addresses)


def protocol_target(settings: LoadSettings, addresses: Mapping[str, tuple[str, ...]]) -> Target:
    """The protocol's own target for `addresses` (several per service: round robin)."""
    if settings.protocol == "grpc":
        from loadgen.grpc_target import GrpcTarget

        return GrpcTarget(addresses, settings.timeout, settings.channels)
    from loadgen.rest_target import RestTarget

    connections = settings.connections or CONNECTION_CAP
    # An explicit pool size is opened up front; the default grows with the requests in flight.
    preopen = settings.connections is not None
    return RestTarget(addresses, settings.timeout, connections, settings.keepalive, preopen)
