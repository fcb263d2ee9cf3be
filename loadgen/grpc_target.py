"""gRPC over HTTP/2 with grpc.aio: `channels` channels per service, each its own connection.

`calcbench.core.rpc.channel_target` gives every channel a local subchannel pool (without it
grpcio would share one connection among identical channels) and, for several addresses, the
`round_robin` policy. Calls rotate over the channels; the multicallables are bound once, with
their serializers, so a call costs one `Operands` and one await.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import grpc

from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands
from calcbench.core.rpc import open_channel, unary_method
from calcbench.core.tls import TlsFiles
from calcbench.core.vocabulary import REPLICA_HEADER
from loadgen.outcomes import Reply, grpc_outcome

#: How long `connect` waits for each channel; a server that is down is left to the run, where
#: its calls count as `unavailable`.
CONNECT_SECONDS: Final = 3.0
_SETTLED: Final = {
    grpc.ChannelConnectivity.READY,
    grpc.ChannelConnectivity.TRANSIENT_FAILURE,
    grpc.ChannelConnectivity.SHUTDOWN,
}


class GrpcTarget:
    """`Target` for the gRPC stack; over TLS with `tls`."""

    def __init__(
        self,
        addresses: Mapping[str, Sequence[str]],
        timeout: float,
        channels: int,
        tls: TlsFiles | None = None,
    ) -> None:
        self._addresses = addresses
        self._tls = tls
        self._timeout = timeout
        self._channels_per_service = channels
        self._channels: list[Any] = []
        self._methods: dict[str, Iterator[Any]] = {}

    async def connect(self) -> None:
        for service, addresses in self._addresses.items():
            channels = [
                open_channel(grpc.aio, list(addresses), self._tls)
                for _ in range(self._channels_per_service)
            ]
            self._channels += channels
            self._methods[service] = itertools.cycle([unary_method(c, service) for c in channels])
        await asyncio.gather(*(_ready(channel) for channel in self._channels))

    async def call(self, service: str, op1: float, op2: float) -> Reply:
        call = next(self._methods[service])(Operands(op1=op1, op2=op2), timeout=self._timeout)
        try:
            response = await call
        except grpc.aio.AioRpcError as exc:
            name = exc.code().name
            return Reply(grpc_outcome(name), name, None, _replica(exc.initial_metadata()))
        metadata = await call.initial_metadata()
        return Reply("ok", "OK", response.result, _replica(metadata))

    async def close(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self._channels))


async def _ready(channel: Any) -> None:
    """Connect `channel` now; stop waiting once it is ready or has failed to connect."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_settled(channel), CONNECT_SECONDS)


async def _settled(channel: Any) -> None:
    state = channel.get_state(try_to_connect=True)
    while state not in _SETTLED:
        await channel.wait_for_state_change(state)
        state = channel.get_state()


def _replica(metadata: Any) -> str | None:
    if not metadata:
        return None
    value = metadata.get(REPLICA_HEADER)
    return None if value is None else str(value)
