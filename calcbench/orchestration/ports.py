"""Where `calcbench serve` puts each service and replica.

Fixed default ports, so that a stack started by hand is always found at the same place:

=============  ===========  ===========================  =============================
stack          shared       replica *r* own address      replica *r* metrics
=============  ===========  ===========================  =============================
rest (8000)    8001-8005    8000 + 100*(r+1) + 1..5      8000 + 100*(r+1) + 51..55
grpc (9000)    9001-9005    9000 + 100*(r+1) + 1..5      9000 + 100*(r+1) + 51..55
=============  ===========  ===========================  =============================

Services in the order addition, subtraction, multiplication, division, percentage. So
`addition` over REST is at 8001, its first replica also at 8101 with metrics on 8151.
Without a base port (`--base-port 0`) no port is chosen here: every replica binds port 0 and
announces what it got (see `calcbench.orchestration.boot`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from calcbench.core.vocabulary import MAX_REPLICAS, SERVICES

DEFAULT_BASE_PORTS: Final = {"rest": 8000, "grpc": 9000}


@dataclass(frozen=True)
class ReplicaPorts:
    shared: int
    own: int
    metrics: int


def fixed_ports(base: int, service: str, replica: int) -> ReplicaPorts:
    """The documented ports of `service` replica `replica` for a stack based at `base`."""
    if not 0 <= replica < MAX_REPLICAS:
        raise ValueError(f"at most {MAX_REPLICAS} replicas per service")
    offset = SERVICES.index(service) + 1
    block = base + 100 * (replica + 1)
    return ReplicaPorts(shared=base + offset, own=block + offset, metrics=block + 50 + offset)
