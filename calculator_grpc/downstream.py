"""Percentage's downstream calls: its channels, what their failures become for its caller, and
their deadline.

Shared by both server models so that sync and aio percentage services fail the same way. Each
model's client is a `call(service, op1, op2, context)` for `calcbench.core.calculation`, over
long-lived channels made once, with `context` the call being answered (its deadline passed on).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import grpc

from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands
from calcbench.core.rpc import open_channel, unary_method
from calcbench.core.tls import TlsFiles
from calcbench.core.vocabulary import DOWNSTREAMS

# time_remaining() of a call without a deadline is huge (gRPC's infinite future); above this
# we call downstream without a timeout rather than with an absurd one.
_NO_DEADLINE: Final = 86_400.0

# The downstream deadline is the caller's remaining time minus this margin, so that our own
# DEADLINE_EXCEEDED, which names the downstream, reaches the caller before its timer fires.
DEADLINE_MARGIN: Final = 0.002


class DownstreamError(Exception):
    """A call to `downstream` failed with `code`; `status`, `outcome` and `message` say what
    percentage answers its caller (and counts in its metrics)."""

    def __init__(self, downstream: str, code: grpc.StatusCode, details: str | None) -> None:
        self.status, self.outcome, self.message = translate(downstream, code, details)
        super().__init__(self.message)


def translate(
    downstream: str, code: grpc.StatusCode, details: str | None
) -> tuple[grpc.StatusCode, str, str]:
    """(status for our caller, metrics outcome, one-line message) for a failed downstream call.

    An invalid argument (e.g. a product that overflows) is the caller's fault and passes through
    unchanged; unavailable and deadline keep their code and name the downstream.
    """
    text = (details or "").splitlines()[0] if details else code.name.lower()
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return code, "invalid_argument", text
    if code == grpc.StatusCode.UNAVAILABLE:
        return code, "unavailable", f"{downstream} unavailable: {text}"
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return code, "timeout", f"{downstream} deadline exceeded: {text}"
    return grpc.StatusCode.INTERNAL, "server_error", f"{downstream} failed: {code.name}: {text}"


def downstream_timeout(remaining: float | None) -> float | None:
    """The timeout for a downstream call made with `remaining` seconds left to our caller."""
    if remaining is None or remaining > _NO_DEADLINE:
        return None
    return max(remaining - DEADLINE_MARGIN, 0.0)


class SyncDownstream:
    """Blocking calls to multiplication and division (the `sync` model's handler threads)."""

    def __init__(self, addresses: Mapping[str, Sequence[str]], tls: TlsFiles | None = None) -> None:
        names = map(str, DOWNSTREAMS)  # plain-string keys: a StrEnum key compares slower
        self._channels = {d: open_channel(grpc, addresses[d], tls) for d in names}
        self._methods = {d: unary_method(c, d) for d, c in self._channels.items()}

    def call(self, service: str, op1: float, op2: float, context: Any) -> float:
        """`service`'s result before `context`'s deadline; raises `DownstreamError`."""
        timeout = downstream_timeout(context.time_remaining())
        try:
            response = self._methods[service](Operands(op1=op1, op2=op2), timeout=timeout)
        except grpc.RpcError as exc:
            raise DownstreamError(service, exc.code(), exc.details()) from exc
        return float(response.result)

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()


class AioDownstream:
    """`SyncDownstream` over `grpc.aio` channels; make it on the loop that will call it."""

    def __init__(self, addresses: Mapping[str, Sequence[str]], tls: TlsFiles | None = None) -> None:
        self._channels = {
            d: open_channel(grpc.aio, addresses[d], tls) for d in map(str, DOWNSTREAMS)
        }
        self._methods = {d: unary_method(c, d) for d, c in self._channels.items()}

    async def call(self, service: str, op1: float, op2: float, context: Any) -> float:
        """`service`'s result before `context`'s deadline; raises `DownstreamError`."""
        timeout = downstream_timeout(context.time_remaining())
        try:
            response = await self._methods[service](Operands(op1=op1, op2=op2), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            raise DownstreamError(service, exc.code(), exc.details()) from exc
        return float(response.result)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
