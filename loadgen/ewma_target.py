"""`--balancing ewma`: a `Target` that picks a replica per request by peak-EWMA load (P2C).

The same algorithm for both protocols: it knows no protocol library. Each replica address gets
its own inner target, built by the protocol's factory for that one address (REST: a keep-alive
pool of `--connections`; gRPC: `--channels` channels), and `loadgen.ewma` chooses which one
carries each request, from the round trips this target times itself.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from loadgen.ewma import PeakEwma
from loadgen.outcomes import Reply
from loadgen.target import Target

#: Builds the protocol's target for `{service: (one address,)}`.
TargetFactory = Callable[[Mapping[str, tuple[str, ...]]], Target]
#: Outcomes with no answer from the replica: a refused connection fails fast and would make a
#: dead replica look like the fastest, so these count as a round trip of the whole call timeout.
_NO_ANSWER: Final = frozenset({"unavailable", "timeout"})


def observed_rtt(reply: Reply, rtt: float, timeout: float) -> float:
    """The round trip the balancer learns from one call (a penalty when nothing answered)."""
    return max(rtt, timeout) if reply.outcome in _NO_ANSWER else rtt


class EwmaTarget:
    """`Target` balancing each service's requests over its replica addresses by peak EWMA."""

    def __init__(
        self,
        addresses: Mapping[str, Sequence[str]],
        factory: TargetFactory,
        rng: random.Random,
        timeout: float,
    ) -> None:
        self._timeout = timeout
        self._replicas = {
            service: [factory({service: (address,)}) for address in targets]
            for service, targets in addresses.items()
        }
        now = time.monotonic()
        self._balancers = {
            service: PeakEwma(len(targets), rng, now) for service, targets in addresses.items()
        }

    @property
    def _targets(self) -> list[Target]:
        return [target for targets in self._replicas.values() for target in targets]

    async def connect(self) -> None:
        await asyncio.gather(*(target.connect() for target in self._targets))

    async def call(self, service: str, op1: float, op2: float) -> Reply:
        balancer = self._balancers[service]
        sent = time.monotonic()
        index = balancer.pick(sent)
        try:
            reply = await self._replicas[service][index].call(service, op1, op2)
        except BaseException:
            balancer.done(index, self._timeout, time.monotonic())  # cancelled: no answer
            raise
        done = time.monotonic()
        balancer.done(index, observed_rtt(reply, done - sent, self._timeout), done)
        return reply

    async def close(self) -> None:
        await asyncio.gather(*(target.close() for target in self._targets))
