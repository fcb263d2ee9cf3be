"""Restarted replicas that have a sibling (`--replicas 2`): real processes on port 0.

The sibling holds the shared port (SO_REUSEPORT) while the replica is down, and the new process
must join it there, on its own port too, and answer; a replica that died between phases is
restarted by `revive_between` before the next one, and one that died as a phase ended by the
phase's faults on their way out; one that cannot start again (a stranger took its port) is a
one-line error, and the phase then ends without its closing scrape. Nothing may be left running
after the stop.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import psutil
import pytest

from calcbench.core.endpoints import Endpoints, parse_address
from calcbench.core.protos.calculator.v1 import calculator_pb2
from calcbench.core.rpc import METHOD_PATHS
from calcbench.core.rundir import SERVER
from calcbench.core.vocabulary import REPLICA_HEADER
from calcbench.orchestration.chaos import PhaseFaults, revive_between
from calcbench.orchestration.phase import run_phase
from calcbench.orchestration.scrape import scrape
from calcbench.orchestration.supervisor import Stack, StackError, StackSettings
from loadgen.settings import LoadSettings

# Starts whole stacks: one xdist worker runs every such module, one after the other.
pytestmark = pytest.mark.xdist_group("stacks")

#: Enough fresh connections to the shared port for the kernel to pick each replica: each one
#: has a 1 in 2 chance per connection, so missing one in 200 happens once in 2**200.
MAX_CONNECTIONS = 200


def _answered_by(protocol: str, address: str) -> str:
    """The replica that answers addition over a fresh connection to `address`."""
    if protocol == "rest":
        reply = httpx.post(f"http://{address}/addition", json={"op1": 6, "op2": 3}, timeout=5)
        reply.raise_for_status()
        return reply.headers[REPLICA_HEADER]
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary(
            METHOD_PATHS["addition"],
            request_serializer=calculator_pb2.Operands.SerializeToString,
            response_deserializer=calculator_pb2.Result.FromString,
        )
        _, answer = call.with_call(calculator_pb2.Operands(op1=6, op2=3), timeout=5)
        return str(dict(answer.initial_metadata())[REPLICA_HEADER])


def _until_answered_by(protocol: str, address: str, replica: str) -> int:
    """Fresh connections to the shared `address` until `replica` answers one: how many."""
    for attempt in range(1, MAX_CONNECTIONS + 1):
        if _answered_by(protocol, address) == replica:
            return attempt
    raise AssertionError(f"{replica} never answered on the shared port {address}")


def _ok_count(stack: Stack, replica: str) -> float:
    assert stack.endpoints is not None
    (found,) = [r for s in stack.endpoints.services.values() for r in s.replicas if r.id == replica]
    with httpx.Client(timeout=5) as client:
        return scrape(found.metrics, client).requests.get("ok", 0.0)


def _ports(endpoints: Endpoints) -> dict[str, tuple[str, str, str]]:
    """Each replica's shared, own and metrics addresses."""
    return {
        r.id: (service.address, r.address, r.metrics)
        for service in endpoints.services.values()
        for r in service.replicas
    }


def _kill(stack: Stack, replica: str) -> None:
    """SIGKILL the replica behind the supervisor's back, and wait until it is gone."""
    dying = psutil.Process(stack.pids[replica])
    os.kill(dying.pid, signal.SIGKILL)
    dying.wait(timeout=10)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module", params=["rest", "grpc"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """One stack per protocol for the module, each test restarting a replica of its own; once
    stopped, none of its processes, first or restarted, may be left."""
    settings = StackSettings(
        str(request.param), replicas=2, log_dir=tmp_path_factory.mktemp("logs")
    )
    with Stack(settings) as started:
        first = list(started.pids.values())
        yield started
        every = [*first, *(restart.pid for restart in started.restarts)]
    assert not [pid for pid in every if _alive(pid)]


def test_a_killed_replica_rejoins_the_shared_port(stack: Stack) -> None:
    protocol, endpoints = stack.settings.protocol, stack.endpoints
    assert endpoints is not None
    old = stack.pids["addition-1"]

    restart = stack.kill_and_restart("addition-1")

    assert (restart.kind, restart.replica) == ("kill", "addition-1")
    assert restart.last is not None  # read just before the kill
    assert restart.pid == stack.pids["addition-1"] != old and not _alive(old)
    assert stack.endpoints is not None and _ports(stack.endpoints) == _ports(endpoints)
    shared = endpoints.services["addition"].address
    own = endpoints.services["addition"].replicas[1].address
    assert _answered_by(protocol, own) == "addition-1"
    hits = _until_answered_by(protocol, shared, "addition-1")
    # Counted by the new process from 0: the call on its own port and the shared one's.
    assert _ok_count(stack, "addition-1") == 2, hits


def test_a_replica_dead_between_phases_is_restarted_before_the_next(stack: Stack) -> None:
    assert stack.endpoints is not None
    _kill(stack, "addition-0")

    (event,) = revive_between(stack)

    recorded = event.to_dict()
    assert recorded.pop("restarted_in") > 0
    assert recorded == {
        "kind": "died",
        "replica": "addition-0",
        "second": None,  # between phases
        "server_figures": "whole",  # restarted before the next phase's first reading
    }
    shared = stack.endpoints.services["addition"].address
    _until_answered_by(stack.settings.protocol, shared, "addition-0")
    assert revive_between(stack) == []  # nothing else died


def test_a_replica_dead_as_a_phase_ends_is_back_for_its_closing_scrape(stack: Stack) -> None:
    with PhaseFaults(stack, [], warmup=0.0) as faults:
        _kill(stack, "subtraction-1")
    # Whether the watchdog saw it or the last look as the phase ended: restarted, once.
    assert [(r.kind, r.replica) for r in faults.restarts] == [("died", "subtraction-1")]
    assert [(e.kind, e.to_dict()["server_figures"]) for e in faults.events] == [("died", "partial")]
    assert _ok_count(stack, "subtraction-1") == 0  # its metrics answer


def test_a_replica_that_cannot_start_again_is_one_line(stack: Stack) -> None:
    assert stack.endpoints is not None
    own = stack.endpoints.services["multiplication"].replicas[1].address
    _kill(stack, "multiplication-1")
    with socket.socket() as stranger:  # takes the dead replica's own port
        stranger.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        stranger.bind(parse_address(own))
        stranger.listen()
        with pytest.raises(StackError) as refused:
            revive_between(stack)
    message = str(refused.value)
    assert len(message.splitlines()) == 1 and f"port {parse_address(own)[1]}" in message
    assert "in use" in message
    # Once the port is free again, the replica comes back (for the module's other tests too).
    assert [e.replica for e in revive_between(stack)] == ["multiplication-1"]


class _FailedRestart(PhaseFaults):
    """Faults whose restart of a replica failed as the load ran: the replica is dead when the
    phase ends, and `error` says why (as `PhaseFaults` sets it)."""

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        _kill(self._stack, "multiplication-1")
        self.error = "multiplication-1 could not start again: port 1 on 127.0.0.1 is in use"


def test_a_phase_whose_replica_could_not_start_again_skips_its_closing_scrape(
    stack: Stack, tmp_path: Path
) -> None:
    assert stack.endpoints is not None
    load = LoadSettings(mix=(("multiplication", 1.0),), rate=50, duration=0.5, warmup=0)
    faults = _FailedRestart(stack, [], warmup=0.0)

    result = run_phase(load, stack.endpoints, tmp_path, None, faults)

    assert result.requests == 25 and (tmp_path / "run.json").exists()  # the load's files
    assert not (tmp_path / SERVER).exists()  # no reading of a replica that is down
    assert [e.replica for e in revive_between(stack)] == ["multiplication-1"]
