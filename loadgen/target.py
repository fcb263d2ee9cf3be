"""The one seam between the pacing loop and a protocol (fortio's `Runnable`, httpx's transport).

The pacing loop and the statistics only see `Target`; `RestTarget` (`calcbench.core.http1`)
and `GrpcTarget` (grpc.aio) live in their own modules, and `loadgen.targets` chooses among them.
"""

from __future__ import annotations

from typing import Protocol

from loadgen.outcomes import Reply


class Target(Protocol):
    """Calls the calculator services of one stack. `call` never raises for a failed call: it
    returns the failure as a `Reply` (errors are data inside the load loop)."""

    async def connect(self) -> None:
        """Open connections ahead of the first call where the protocol allows it."""

    async def call(self, service: str, op1: float, op2: float) -> Reply: ...

    async def close(self) -> None: ...
