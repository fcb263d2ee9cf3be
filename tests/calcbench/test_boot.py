"""The boot order of a local stack (pure): who starts when, on which ports, calling whom."""

from __future__ import annotations

import pytest

from calcbench.core.listening import PortShare
from calcbench.orchestration.boot import Bound, StackSettings, command, launchable, replica_ids
from calcbench.orchestration.fault import SlowReplica


def _boot(settings: StackSettings) -> list[list[str]]:
    """Replay a boot where every replica announces ports from a counter: the waves of ids."""
    bound: dict[str, Bound] = {}
    waves: list[list[str]] = []
    while len(bound) < len(replica_ids(settings)):
        wave = launchable(settings, bound, bound.keys())
        assert wave, "nothing can start: the boot would hang"
        waves.append([launch.replica_id for launch in wave])
        for launch in wave:
            port = launch.port or 20000 + len(bound)
            bound[launch.replica_id] = Bound(port, 30000 + len(bound), 40000 + len(bound), 1)
    return waves


def test_one_replica_each_percentage_waits_for_its_downstreams() -> None:
    waves = _boot(StackSettings("rest"))
    leaves = ["addition-0", "subtraction-0", "multiplication-0", "division-0"]
    assert waves == [leaves, ["percentage-0"]]


def test_siblings_wait_for_replica_zero_and_percentage_for_every_downstream_replica() -> None:
    waves = _boot(StackSettings("grpc", replicas=2))
    assert waves[0] == ["addition-0", "subtraction-0", "multiplication-0", "division-0"]
    assert waves[1] == ["addition-1", "subtraction-1", "multiplication-1", "division-1"]
    assert waves[2:] == [["percentage-0"], ["percentage-1"]]


def test_free_ports_replica_zero_opens_port_zero_and_siblings_join_what_it_announced() -> None:
    settings = StackSettings("rest", replicas=3)
    [first] = [x for x in launchable(settings, {}, set()) if x.service == "addition"]
    assert (first.port, first.own_port, first.metrics_port) == (0, 0, 0)
    assert first.share is PortShare.OPEN
    bound = {"addition-0": Bound(20001, 20002, 20003, 7)}
    siblings = [x for x in launchable(settings, bound, {"addition-0"}) if x.service == "addition"]
    assert [(x.index, x.port, x.share) for x in siblings] == [
        (1, 20001, PortShare.JOIN),
        (2, 20001, PortShare.JOIN),
    ]
    assert "--join-port" in command(settings, siblings[0])
    assert "--reuse-port" in command(settings, first)


def test_a_single_replica_holds_its_port_alone() -> None:
    [first, *_] = launchable(StackSettings("grpc"), {}, set())
    assert first.share is PortShare.ALONE
    argv = command(StackSettings("grpc"), first)
    assert "--reuse-port" not in argv and "--join-port" not in argv


def test_fixed_ports_follow_the_documented_layout_and_siblings_still_wait() -> None:
    settings = StackSettings("grpc", replicas=2, base_port=9000)
    first = launchable(settings, {}, set())
    assert [(x.replica_id, x.port, x.own_port, x.metrics_port) for x in first][:2] == [
        ("addition-0", 9001, 9101, 9151),
        ("subtraction-0", 9002, 9102, 9152),
    ]
    bound = {"addition-0": Bound(9001, 9101, 9151, 1)}
    [sibling] = [x for x in launchable(settings, bound, {"addition-0"}) if x.service == "addition"]
    assert (sibling.port, sibling.own_port, sibling.metrics_port) == (9001, 9201, 9251)


@pytest.mark.parametrize(
    ("balancing", "expected"),
    [
        ("shared", ["127.0.0.1:5000"]),
        ("round-robin", ["127.0.0.1:5100", "127.0.0.1:5101"]),
        # ewma is the load generator's mode: percentage itself then balances round robin.
        ("ewma", ["127.0.0.1:5100", "127.0.0.1:5101"]),
    ],
)
def test_percentage_calls_what_its_downstreams_announced(
    balancing: str, expected: list[str]
) -> None:
    settings = StackSettings("rest", replicas=2, downstream_balancing=balancing)
    bound = {
        f"{service}-{i}": Bound(5000, 5100 + i, 5200 + i, 1)
        for service in ("multiplication", "division")
        for i in range(2)
    }
    wave = launchable(settings, bound, bound.keys())
    [percentage] = [x for x in wave if x.replica_id == "percentage-0"]
    argv = command(settings, percentage)
    assert argv[argv.index("--multiplication-endpoint") + 1].split(",") == expected
    assert argv[argv.index("--division-endpoint") + 1].split(",") == expected


def _flag_values(settings: StackSettings, flag: str) -> dict[str, str]:
    """The value of `flag` on each replica's command line that has it."""
    bound = {rid: Bound(5000, 5001, 5002, 1) for rid in replica_ids(settings)}
    found = {}
    for rid in replica_ids(settings):
        rest = {r: b for r, b in bound.items() if r != rid}
        launch = next(x for x in launchable(settings, rest, rest.keys()) if x.replica_id == rid)
        argv = command(settings, launch)
        if flag in argv:
            found[rid] = argv[argv.index(flag) + 1]
    return found


def test_only_the_slow_replica_gets_a_delay() -> None:
    settings = StackSettings("grpc", replicas=2, slow_replica=SlowReplica("addition", 1, 0.02))
    assert _flag_values(settings, "--delay") == {"addition-1": "0.02"}


def test_only_percentage_gets_the_downstream_timeout() -> None:
    settings = StackSettings("rest", downstream_timeout=10.0)
    assert _flag_values(settings, "--downstream-timeout") == {"percentage-0": "10.0"}
