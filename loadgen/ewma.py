"""Latency-aware balancing: peak-EWMA load with power-of-two choices, as Linkerd balances (pure).

Each replica has a round-trip-time estimate. An answer slower than the estimate replaces it at
once (the *peak*); a faster one pulls it down by a weight that grows with the time since the
last update (an exponentially weighted moving average over time, not over requests). Reading
an estimate is an observation of 0, as in Finagle and tower (whose balancer Linkerd uses): a
replica not heard from looks better and better, so a slow one is tried again now and then and
its recovery gets noticed. A replica's cost is `estimate * (outstanding + 1)`, so requests
already in flight count against it; each request goes to the cheaper of two replicas drawn at
random (P2C), which avoids the herd that "always the cheapest" sends to one replica.

No clock is read here: every call takes `now` (seconds, any epoch), so tests set the time.
"""

from __future__ import annotations

import math
import random
from typing import Final

#: The decay time constant. Linkerd uses 10 s, suited to services that run for days; a
#: calcbench phase lasts ~10 s after a 2 s warm-up. With 1 s, a 20 ms replica next to a 0.5 ms
#: one is tried again after about tau * ln(20 / 0.5) ~ 4 s without an answer, a few times per
#: phase, so a run shows both the avoidance and the re-probing; with 10 s it would not be
#: tried again within a phase at all.
DECAY_SECONDS: Final = 1.0
#: The estimate before a replica's first answer. Linkerd starts at 30 ms, a guess for a network
#: it does not know; on loopback (answers in ~0.5 ms) such a guess takes seconds of decay to
#: forget, longer than a short phase, and meanwhile hides which replica is slow. Starting near
#: zero, every replica is tried early and its first answer sets its estimate (a peak).
FIRST_RTT: Final = 1e-6


class RttEstimate:
    """One replica's peak-EWMA round-trip time, in seconds."""

    __slots__ = ("decay", "stamp", "value")

    def __init__(self, now: float, decay: float = DECAY_SECONDS, first: float = FIRST_RTT):
        self.value = first
        self.stamp = now
        self.decay = decay

    def observe(self, rtt: float, now: float) -> float:
        """Take one answer's round trip (0 to only decay); return the new estimate."""
        if rtt > self.value:
            self.value = rtt
        else:
            weight = math.exp(-max(now - self.stamp, 0.0) / self.decay)
            self.value = self.value * weight + rtt * (1.0 - weight)
        self.stamp = max(now, self.stamp)
        return self.value

    def read(self, now: float) -> float:
        """The estimate at `now`, decayed toward 0 since the last update."""
        return self.observe(0.0, now)


def two_choices(rng: random.Random, count: int) -> tuple[int, int]:
    """Two different replica indices drawn uniformly (the same index twice when only one)."""
    if count < 2:
        return 0, 0
    first = rng.randrange(count)
    second = rng.randrange(count - 1)
    return first, second + (second >= first)


class PeakEwma:
    """Chooses among `count` replicas (indices 0..count-1) of one service.

    `pick(now)` returns the replica for the next request and counts it outstanding; the caller
    reports its answer with `done(index, rtt, now)`, failed calls included.
    """

    def __init__(
        self, count: int, rng: random.Random, now: float, decay: float = DECAY_SECONDS
    ) -> None:
        if count < 1:
            raise ValueError("PeakEwma needs at least one replica")
        self.rng = rng
        self.estimates = [RttEstimate(now, decay) for _ in range(count)]
        self.outstanding = [0] * count

    def cost(self, index: int, now: float) -> float:
        """What sending to `index` now is expected to cost: estimate x (outstanding + 1)."""
        return self.estimates[index].read(now) * (self.outstanding[index] + 1)

    def pick(self, now: float) -> int:
        """The cheaper of two replicas drawn at random (ties go to the first drawn)."""
        first, second = two_choices(self.rng, len(self.estimates))
        chosen = second if self.cost(second, now) < self.cost(first, now) else first
        self.outstanding[chosen] += 1
        return chosen

    def done(self, index: int, rtt: float, now: float) -> None:
        """The request sent to `index` ended after `rtt` seconds."""
        self.outstanding[index] -= 1
        self.estimates[index].observe(rtt, now)
