"""`--fault slow-replica=SERVICE:INDEX:DELAY`: one replica of a local stack answers late (pure).

The replica runs with `--delay DELAY` (seconds before each calculator answer, counted in its
own latency metrics), in both stacks and every balancing mode of the run, so round robin and
latency-aware balancing can be compared with the same slow replica.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from calcbench.core.vocabulary import SERVICES

KIND: Final = "slow-replica"
USAGE: Final = f"{KIND}=SERVICE:INDEX:DELAY (e.g. {KIND}=addition:1:0.02)"
#: Beyond this a replica is not slow but dead: every call would hit the default 1 s timeout.
MAX_DELAY: Final = 10.0


@dataclass(frozen=True)
class SlowReplica:
    """Replica `index` of `service` waits `delay` seconds before each answer."""

    service: str
    index: int
    delay: float

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(f"--fault: unknown service {self.service!r}; expected {USAGE}")
        if self.index < 0:
            raise ValueError(f"--fault: replica index must be >= 0, not {self.index}")
        if not (math.isfinite(self.delay) and 0 < self.delay <= MAX_DELAY):
            raise ValueError(f"--fault: delay must be seconds in (0, {MAX_DELAY:g}]")

    @property
    def replica_id(self) -> str:
        """The replica's id as `calcbench serve` names it (`addition-1`)."""
        return f"{self.service}-{self.index}"

    def describe(self) -> str:
        """The flag's value again (`slow-replica=addition:1:0.02`), for run.json."""
        return f"{KIND}={self.service}:{self.index}:{self.delay:g}"

    def check_replicas(self, replicas: int) -> None:
        """ValueError unless the stack has the replica (`replicas` per service)."""
        if self.index >= replicas:
            raise ValueError(
                f"--fault: {self.replica_id} does not exist with {replicas} replica(s) per "
                f"service (indices 0-{replicas - 1}; see --replicas)"
            )


def parse_fault(text: str) -> SlowReplica:
    """`slow-replica=addition:1:0.02` -> SlowReplica("addition", 1, 0.02); ValueError (one
    line, naming the expected form) otherwise."""
    kind, sep, spec = text.strip().partition("=")
    if kind.strip() != KIND or not sep:
        raise ValueError(f"bad --fault {text!r}: expected {USAGE}")
    parts = [part.strip() for part in spec.split(":")]
    if len(parts) != 3:
        raise ValueError(f"bad --fault {text!r}: expected {USAGE}")
    service, index, delay = parts
    try:
        number, seconds = int(index), float(delay)
    except ValueError as exc:
        raise ValueError(f"bad --fault {text!r}: expected {USAGE}") from exc
    return SlowReplica(service, number, seconds)
