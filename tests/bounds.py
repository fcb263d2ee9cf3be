"""Bounds shared by several tests, each defined once with the reason it holds on a busy
2-core machine."""

from __future__ import annotations

from typing import Final

#: How far from 1/2 one of two replicas' share of a service's requests may be under
#: per-request round robin.
#:
#: REST rotates the replica URLs with `itertools.cycle` per service and worker: the counts
#: differ by at most one per worker. gRPC's `round_robin` channel is READY as soon as its
#: first subchannel is, and `GrpcTarget.connect` waits for no more; from the second
#: subchannel's READY on, picks alternate strictly. So the first replica gets every request
#: of the first T seconds (T: how much later the second replica's server answered the HTTP/2
#: handshake, a scheduling delay) and half of the rest. Over a phase of D seconds with n
#: requests to the service, its share is at most 1/2 + T / (2 D) + 1 / (2 n). The tests run
#: D >= 1 s with n >= 100 (D = 1 s with n = 200 at the shortest), so 0.1 holds for any
#: T <= 0.19 s: far beyond the milliseconds a busy 2-core machine takes to wake an idle
#: server, and far from what a broken balancer gives (one replica 100%, or ewma's few).
ROUND_ROBIN_SLACK: Final = 0.1


def round_robin_share(share: float) -> bool:
    """Whether `share`, one of two replicas' share of the requests, fits per-request round
    robin (see `ROUND_ROBIN_SLACK`)."""
    return abs(share - 0.5) <= ROUND_ROBIN_SLACK
