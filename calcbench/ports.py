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
"""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from calcbench.arithmetic import SERVICES

DEFAULT_BASE_PORTS: Final = {"rest": 8000, "grpc": 9000}
MAX_REPLICAS: Final = 9


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


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_ports(host: str, count: int) -> list[int]:
    """`count` distinct ports free now, chosen below the kernel's ephemeral range.

    Ports from `bind(0)` would be ephemeral ones, which any outgoing connection (a health
    check, a client) may take between this probe and the service's own bind; below the range
    only listeners compete. Racy still against other listeners: for tests and ad-hoc stacks.
    """
    low, _ = _ephemeral_range()
    candidates = list(range(max(1024, low - 12000), low))
    random.shuffle(candidates)
    found: list[int] = []
    for port in candidates:
        if _bindable(host, port):
            found.append(port)
            if len(found) == count:
                return found
    raise OSError(f"no {count} free ports on {host} below {low}")


def _bindable(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def dynamic_ports(host: str, replicas: int) -> list[ReplicaPorts]:
    """Fresh ports for every replica of one service; they all share one `shared` port."""
    shared, *rest = free_ports(host, 1 + 2 * replicas)
    return [ReplicaPorts(shared, rest[2 * r], rest[2 * r + 1]) for r in range(replicas)]
