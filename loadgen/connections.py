"""Client TCP connections per service, counted from the generator's own sockets each second.

The same method for both protocols: psutil lists the established TCP connections of the
generator's processes, and each is attributed to the service whose address it reaches. The
sampler runs in a thread of the parent process, once per measured second (at its middle).
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

import psutil

from calcbench.core.endpoints import parse_address
from loadgen.rundir import Row

Peers = dict[tuple[str, int], str]


def service_peers(addresses: Mapping[str, Sequence[str]]) -> Peers:
    """(ip, port) -> service for every address a service is reached at (names resolved)."""
    peers: Peers = {}
    for service, targets in addresses.items():
        for address in targets:
            host, port = parse_address(address)
            for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
                peers[(str(sockaddr[0]), port)] = service
    return peers


def count_connections(pids: Iterable[int], peers: Peers) -> Counter[str]:
    """Established connections of processes `pids` to each service (absent when none)."""
    counts: Counter[str] = Counter()
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            continue  # a worker that already exited holds no connection
        for conn in connections:
            if conn.status == psutil.CONN_ESTABLISHED and conn.raddr:
                service = peers.get((_unmapped(conn.raddr.ip), conn.raddr.port))
                if service is not None:
                    counts[service] += 1
    return counts


def _unmapped(ip: str) -> str:
    """`::ffff:127.0.0.1` -> `127.0.0.1`: gRPC dials IPv4 over IPv6 sockets."""
    return ip[7:] if ip.startswith("::ffff:") else ip


class ConnectionSampler(threading.Thread):
    """Samples at `measure_start + s + 0.5` for each measured second `s` until stopped;
    `write` receives the rows (protocol, service, second, connections)."""

    def __init__(
        self,
        protocol: str,
        pids: Sequence[int],
        addresses: Mapping[str, Sequence[str]],
        measure_start: float,
        duration: float,
        write: Callable[[list[Row]], None],
    ) -> None:
        super().__init__(name="loadgen-connections", daemon=True)
        self.protocol = protocol
        self.pids = pids
        self.services = sorted(addresses)
        self.peers = service_peers(addresses)
        self.measure_start = measure_start
        self.seconds = math.ceil(duration)
        self.write = write
        self.maximum: Counter[str] = Counter({service: 0 for service in self.services})
        self._stop_event = threading.Event()

    def run(self) -> None:
        for second in range(self.seconds):
            delay = self.measure_start + second + 0.5 - time.monotonic()
            if self._stop_event.wait(max(delay, 0.0)):
                return
            counts = count_connections(self.pids, self.peers)
            self.write([[self.protocol, s, second, counts[s]] for s in self.services])
            for service in self.services:
                self.maximum[service] = max(self.maximum[service], counts[service])

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5.0)
