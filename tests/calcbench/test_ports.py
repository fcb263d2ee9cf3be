from __future__ import annotations

import socket
from pathlib import Path

import pytest

from calcbench.arithmetic import SERVICES
from calcbench.ports import dynamic_ports, fixed_ports, free_ports
from calcbench.service_config import check_port_free


def test_fixed_layout_matches_the_documented_table() -> None:
    assert fixed_ports(8000, "addition", 0) == fixed_ports(8000, "addition", 0)
    first = fixed_ports(8000, "addition", 0)
    assert (first.shared, first.own, first.metrics) == (8001, 8101, 8151)
    second = fixed_ports(9000, "percentage", 1)
    assert (second.shared, second.own, second.metrics) == (9005, 9205, 9255)


def test_fixed_ports_never_collide() -> None:
    ports = [
        port
        for service in SERVICES
        for replica in range(9)
        for port in vars(fixed_ports(8000, service, replica)).values()
    ]
    shared = {fixed_ports(8000, s, 0).shared for s in SERVICES}
    assert len(set(ports)) == len(ports) - 8 * len(SERVICES)  # shared repeats per replica
    assert len(shared) == 5


def test_too_many_replicas() -> None:
    with pytest.raises(ValueError, match="at most 9"):
        fixed_ports(8000, "addition", 9)


def test_dynamic_ports_share_one_port_and_are_distinct() -> None:
    replicas = dynamic_ports("127.0.0.1", 3)
    assert len({r.shared for r in replicas}) == 1
    own = [p for r in replicas for p in (r.own, r.metrics)]
    assert len(set(own)) == 6 and replicas[0].shared not in own
    assert len(set(free_ports("127.0.0.1", 20))) == 20


def test_port_in_use_is_named() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(OSError, match=f"^port {port} on 127.0.0.1 is already in use$"):
            check_port_free("127.0.0.1", port)
    check_port_free("127.0.0.1", 0)


def test_free_ports_stay_below_the_ephemeral_range() -> None:
    # Outgoing connections take ephemeral ports; a listener's port must not race with them.
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert all(1024 <= port < low for port in free_ports("127.0.0.1", 30))
