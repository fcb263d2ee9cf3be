"""Which `Target` a load uses: the protocol's own, or `EwmaTarget` (`--balancing ewma`) made
of one protocol target per replica address. Protocol libraries are imported only when chosen.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path

from calcbench.core.endpoints import Endpoints
from calcbench.core.tls import Pki, TlsFiles
from calcbench.core.vocabulary import Balancing, Protocol
from loadgen.settings import CONNECTION_CAP, LoadSettings
from loadgen.target import Target


def target_addresses(endpoints: Endpoints, service: str, balancing: str) -> tuple[str, ...]:
    """Where the requests for `service` go: its shared address, or every replica's own address
    for `round-robin` and `ewma` (the shared address when the endpoints list no replica)."""
    try:
        entry = endpoints.services[service]
    except KeyError as exc:
        raise ValueError(f"no endpoint for {service}") from exc
    if balancing != Balancing.SHARED and entry.replicas:
        return tuple(replica.address for replica in entry.replicas)
    return (entry.address,)


def all_addresses(settings: LoadSettings, endpoints: Endpoints) -> dict[str, tuple[str, ...]]:
    return {s: target_addresses(endpoints, s, settings.balancing) for s in settings.services}


def client_tls(settings: LoadSettings, endpoints: Endpoints) -> TlsFiles | None:
    """The client's TLS files (None: plaintext), found beside the CA the endpoints name.

    ValueError when TLS is asked of a stack that does not say where its CA is, or the stack
    serves TLS and the settings do not ask for it (every call would fail).
    """
    if endpoints.tls is None:
        if settings.tls:
            raise ValueError(
                "--tls: the endpoints name no CA (serve with --tls, or give --tls-dir)"
            )
        return None
    if not settings.tls:
        raise ValueError("the stack serves TLS: add --tls (or --mtls)")
    if endpoints.tls.mtls and not settings.mtls:
        raise ValueError("the stack requires client certificates: add --mtls")
    return Pki(Path(endpoints.tls.ca).parent).client(settings.mtls)


def make_target(settings: LoadSettings, endpoints: Endpoints) -> Target:
    """The target for `settings.protocol`, reaching the services of the mix.

    With `ewma` balancing, one protocol target per replica address behind an `EwmaTarget`,
    whose random draws come from `settings.seed` (the same seed, the same draws).
    """
    addresses = all_addresses(settings, endpoints)
    tls = client_tls(settings, endpoints)
    if settings.balancing == Balancing.EWMA:
        from loadgen.ewma_target import EwmaTarget

        def per_replica(one: Mapping[str, tuple[str, ...]]) -> Target:
            return protocol_target(settings, one, tls)

        rng = random.Random(f"ewma-{settings.seed}")
        return EwmaTarget(addresses, per_replica, rng, settings.timeout)
    return protocol_target(settings, addresses, tls)


def protocol_target(
    settings: LoadSettings,
    addresses: Mapping[str, tuple[str, ...]],
    tls: TlsFiles | None = None,
) -> Target:
    """The protocol's own target for `addresses` (several per service: round robin)."""
    if settings.protocol == Protocol.GRPC:
        from loadgen.grpc_target import GrpcTarget

        return GrpcTarget(addresses, settings.timeout, settings.channels, tls)
    from loadgen.rest_target import RestTarget

    connections = settings.connections or CONNECTION_CAP
    # An explicit pool size is opened up front; the default grows with the requests in flight.
    preopen = settings.connections is not None
    return RestTarget(addresses, settings.timeout, connections, settings.keepalive, preopen, tls)
