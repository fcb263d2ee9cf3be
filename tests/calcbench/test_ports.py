from __future__ import annotations

import pytest

from calcbench.core.vocabulary import SERVICES
from calcbench.orchestration.ports import fixed_ports


def test_fixed_layout_matches_the_documented_table() -> None:
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
