"""The load generator against real services of both stacks (in-process, port 0)."""

from __future__ import annotations

import csv
import itertools
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import pytest

from calcbench.core.endpoints import Endpoints, ServiceEndpoint, parse_address
from calcbench.core.rundir import LOAD_FILES, SUMMARY_COLUMNS
from loadgen import LoadSettings, Progress, run_load
from loadgen.health import LAG_P99_BOUND_MS
from loadgen.stats import decode
from loadgen.workload import requests
from tests.bounds import round_robin_share
from tests.loadgen.conftest import LONG_TIMEOUT, LocalStack

#: For tests that compare exact counts or expect no error: a busy 2-core machine can hold a
#: loopback call for over a second, and a call given up on is an error and may leave a
#: connection behind; ten seconds it never takes.


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def by_operation(path: Path) -> dict[str, dict[str, str]]:
    return {row["operation"]: row for row in rows(path)}


def test_rate_counts_and_every_file(stack: LocalStack, tmp_path: Path) -> None:
    """200 requests/s for 2 s over the five services: exactly the schedule's 400 requests, the
    servers counted the same (warm-up 0, so nothing else reached them), all answers right."""
    before = {s: stack.served(s) for s in stack.services}
    # A 10 s timeout: on a busy machine a call given up by the client may never reach (or be
    # counted by) its server, and this test compares exact counts.
    settings = LoadSettings(
        protocol=stack.protocol, rate=200, duration=2, warmup=0, seed=3, timeout=LONG_TIMEOUT
    )
    result = run_load(settings, stack.endpoints, tmp_path)
    assert (result.requests, result.interrupted, result.measured_seconds) == (400, False, 2)
    assert {p.name for p in tmp_path.iterdir()} == set(LOAD_FILES)

    summary = by_operation(tmp_path / "summary.csv")
    assert list(rows(tmp_path / "summary.csv")[0]) == list(SUMMARY_COLUMNS)
    sent = {s: int(summary[s]["requests"]) for s in stack.services}
    assert sum(sent.values()) == int(summary["all"]["requests"]) == 400
    assert float(summary["all"]["rps"]) == 200.0
    served = {s: stack.served(s) - before[s] for s in stack.services}
    # Percentage calls multiplication and division over the network: they count those too.
    assert served == {
        **sent,
        "multiplication": sent["multiplication"] + sent["percentage"],
        "division": sent["division"] + sent["percentage"],
    }
    errors = rows(tmp_path / "errors.csv")
    assert {(e["operation"], e["outcome"], e["expected"]) for e in errors} <= {
        ("division", "invalid_argument", "true")
    }
    ok = sum(int(summary[s]["ok"]) for s in stack.services)
    assert ok + sum(int(e["count"]) for e in errors) == 400

    # The requested rate, second by second (seconds are those of the intended send time).
    series = [r for r in rows(tmp_path / "timeseries.csv") if r["operation"] == "all"]
    assert [(r["second"], r["requests"]) for r in series] == [("0", "200"), ("1", "200")]
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["kind"] == "load" and run["protocol"] == stack.protocol
    assert run["settings"]["rate"] == 200 and run["interrupted"] is False
    # A late generator is marked, not hidden. (How late it is depends on the machine: with a
    # stack of 120 processes starting beside it, this run once left half its requests 98 ms
    # late; benchmarks/pacing_lag.py measures the lag on a quiet machine.)
    lag = run["generator"]["lag_ms"]
    assert 0 <= lag["p50"] <= lag["p99"] <= lag["max"]
    if lag["p99"] > LAG_P99_BOUND_MS:
        assert run["generator"]["bound"] and "late at p99" in run["generator"]["warnings"][0]
    assert run["generator"]["bound"] == result.bound
    assert run["client_connections"]["addition"] >= 1

    replicas = {r["service"]: int(r["requests"]) for r in rows(tmp_path / "replicas.csv")}
    assert replicas == sent  # every answer named its replica
    histograms = json.loads((tmp_path / "histograms.json").read_text())
    assert decode(histograms["intended"]["all"]).get_total_count() == 400
    # Latency from the actual send is never longer than from the intended one.
    actual = by_operation(tmp_path / "summary_actual.csv")
    for column in ("p50_ms", "p99_ms", "max_ms"):
        assert float(actual["all"][column]) <= float(summary["all"][column])


def test_division_success_is_one_minus_div_zero(stack: LocalStack, tmp_path: Path) -> None:
    settings = LoadSettings(
        protocol=stack.protocol,
        mix=(("division", 1.0),),
        div_zero=0.25,
        rate=800,
        duration=1,
        warmup=0,
        seed=21,
        timeout=LONG_TIMEOUT,
    )
    result = run_load(settings, stack.endpoints, tmp_path)
    assert result.requests == 800
    # The seeded workload fixes the number of zero divisors: the server must refuse exactly
    # those calls and answer every other one.
    zeros = sum(r.op2 == 0 for r in itertools.islice(requests(settings), 800))
    assert result.errors == zeros
    # 800 draws of p = 0.25 have sd 0.015: the share is within 4 sd of 0.75 for any seed.
    assert abs(result.ok / result.requests - 0.75) < 0.06
    [error] = rows(tmp_path / "errors.csv")
    assert (error["outcome"], error["expected"], int(error["count"])) == (
        "invalid_argument",
        "true",
        zeros,
    )
    assert error["code"] == ("400" if stack.protocol == "rest" else "INVALID_ARGUMENT")


def test_closed_loop_keeps_its_callers_busy(stack: LocalStack, tmp_path: Path) -> None:
    settings = LoadSettings(
        protocol=stack.protocol,
        mix=(("addition", 1.0),),
        concurrency=4,
        duration=1,
        warmup=0.3,
        timeout=LONG_TIMEOUT,
    )
    result = run_load(settings, stack.endpoints, tmp_path)
    # Four callers with loopback calls of about a millisecond make thousands of calls in 1 s.
    # A machine at load 4 once let them make only 53 (75 ms a call); 20 still tells callers
    # that keep calling from callers that stop after their first answer.
    assert result.requests > 20 and result.errors == 0
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["loop"] == "closed" and run["generator"]["lag_ms"]["p99"] is None
    assert run["warmup"]["requests"] > 0


def connections_during(stack: LocalStack, service: str, seen: list[float]) -> Any:
    """A progress callback scraping the server's open TCP connections each measured second."""

    def progress(update: Progress) -> None:
        if update.phase == "measure":
            seen.append(sum(s.tcp_conn for s in stack.scrape(service)))

    return progress


@pytest.mark.parametrize("count", [3])
def test_channels_and_connections_are_tcp_connections(
    stack: LocalStack, tmp_path: Path, count: int
) -> None:
    """--channels N (gRPC) or --connections N (REST): N connections, counted by the client
    from its own sockets and by the server from its own."""
    pool: dict[str, Any] = (
        {"channels": count} if stack.protocol == "grpc" else {"connections": count}
    )
    settings = LoadSettings(
        protocol=stack.protocol,
        mix=(("subtraction", 1.0),),
        rate=150,
        duration=2,
        warmup=0.5,
        timeout=LONG_TIMEOUT,
        **pool,
    )
    server: list[float] = []
    run_load(settings, stack.endpoints, tmp_path, connections_during(stack, "subtraction", server))
    client = [int(r["connections"]) for r in rows(tmp_path / "connections.csv")]
    assert client == [count, count]
    assert server and set(server) == {count}
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["client_connections"] == {"subtraction": count}


def closed_connections(port: int) -> set[tuple[Any, Any]]:
    """Connections to or from `port` in TIME_WAIT: closed ones, remembered by the kernel
    for a minute (whichever side closed first), as (local, remote) addresses. Compare sets,
    not counts: an entry of the last minute expiring during the run (the port number may have
    been some client's ephemeral port) would otherwise hide a new one."""
    return {
        (c.laddr, c.raddr)
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_TIME_WAIT
        and port in {c.laddr.port if c.laddr else 0, c.raddr.port if c.raddr else 0}
    }


@pytest.mark.parametrize("stack", ["rest"], indirect=True)  # --no-keepalive is a REST option
def test_rest_without_keepalive_opens_a_connection_per_request(
    stack: LocalStack, tmp_path: Path
) -> None:
    port = parse_address(stack.services["multiplication"].address)[1]
    before = closed_connections(port)
    settings = LoadSettings(
        mix=(("multiplication", 1.0),),
        rate=100,
        duration=1,
        warmup=0,
        keepalive=False,
        timeout=LONG_TIMEOUT,
    )
    result = run_load(settings, stack.endpoints, tmp_path)
    assert result.requests == result.ok == 100
    # A connection reaches TIME_WAIT once both sides have closed it; the server's side of the
    # last ones may still be closing (a busy machine once left 2 of 100): wait, up to 10 s.
    deadline = time.monotonic() + 10
    while len(new := closed_connections(port) - before) < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(new) >= 100


def test_round_robin_spreads_and_shared_grpc_pins(pair: LocalStack, tmp_path: Path) -> None:
    def replica_counts(balancing: str) -> dict[str, int]:
        settings = LoadSettings(
            protocol=pair.protocol,
            mix=(("addition", 1.0),),
            rate=200,
            duration=1,
            warmup=0,
            balancing=balancing,
            timeout=LONG_TIMEOUT,  # every call answered: the counts are exact
        )
        out = tmp_path / balancing
        run_load(settings, pair.endpoints, out)
        return {r["replica"]: int(r["requests"]) for r in rows(out / "replicas.csv")}

    spread = replica_counts("round-robin")
    # Round robin alternates per request (REST by rotating URLs, gRPC by its round_robin
    # policy): 200 requests split 100/100, give or take the few sent while a subchannel
    # was still connecting (see ROUND_ROBIN_SLACK).
    assert set(spread) == {"addition-0", "addition-1"}
    assert all(round_robin_share(count / 200) for count in spread.values()), spread
    shared = replica_counts("shared")
    assert sum(shared.values()) == 200
    if pair.protocol == "grpc":
        assert len(shared) == 1  # one HTTP/2 connection: every call to one replica


# Worker processes are protocol-independent; one stack is enough.
@pytest.mark.parametrize("stack", ["grpc"], indirect=True)
def test_two_workers_share_the_rate_and_merge(stack: LocalStack, tmp_path: Path) -> None:
    settings = LoadSettings(
        protocol="grpc",
        mix=(("addition", 1.0),),
        rate=200,
        duration=2,
        warmup=0.5,
        workers=2,
        timeout=LONG_TIMEOUT,
    )
    before = stack.served("addition")
    result = run_load(settings, stack.endpoints, tmp_path)
    assert (result.requests, result.ok) == (400, 400)
    assert stack.served("addition") - before == 500  # warm-up included
    series = [
        int(r["requests"]) for r in rows(tmp_path / "timeseries.csv") if r["operation"] == "all"
    ]
    assert series == [200, 200]
    # Each worker holds its own channel.
    assert {int(r["connections"]) for r in rows(tmp_path / "connections.csv")} == {2}


def endpoints_for(protocol: str, address: str) -> Endpoints:
    return Endpoints(protocol, {"addition": ServiceEndpoint(address)})


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_a_killed_server_counts_as_unavailable(
    protocol: str, tmp_path: Path, service_process: Any
) -> None:
    server = service_process(protocol, "addition")
    # A call timeout long enough that a busy machine cannot turn a refused connection (gRPC's
    # channel reconnecting to the dead port) into a timeout: every failure is `unavailable`.
    settings = LoadSettings(
        protocol=protocol, mix=(("addition", 1.0),), rate=100, duration=2, warmup=0.5, timeout=3
    )

    def kill_after_first_second(update: Progress) -> None:
        if update.phase == "measure" and server.process.poll() is None:
            server.process.kill()

    result = run_load(
        settings, endpoints_for(protocol, server.address), tmp_path, kill_after_first_second
    )
    assert not result.interrupted and result.requests == 200  # the run went on
    outcomes: Counter[str] = Counter()
    for error in rows(tmp_path / "errors.csv"):
        outcomes[error["outcome"]] += int(error["count"])
    # Replies cut off by the kill and connections refused after it (a raw code per cause).
    assert set(outcomes) == {"unavailable"}
    assert result.ok + outcomes["unavailable"] == 200
    # Killed once second 0 was complete: that second all answered, most of second 1 not. The
    # kill comes with the first tick after second 1 began (ticks 0.1 s apart); >= 50 errors
    # leave 0.4 s more for a busy machine to run that tick.
    series = [r for r in rows(tmp_path / "timeseries.csv") if r["operation"] == "all"]
    assert int(series[0]["errors"]) == 0 and int(series[1]["errors"]) >= 50
