"""End to end from the rendered manifests, without a cluster: the calculator Deployments run as
local processes (their exact command, args, env and replica count; see local_cluster), the
generator Job's command runs once per completion index, and its pods' logged results are
merged and reported as `calcbench k8s bench` does. It shows the post's finding on this
machine: one HTTP/2 connection through a ClusterIP-like shared port pins a service to one pod;
round robin over the headless Service's pods reaches them all; a one-pod service is never idle.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from analysis.compute import analyse
from analysis.report import build_report
from analysis.rundir import load_run
from calcbench.orchestration.k8s.archive import unpack
from calcbench.orchestration.k8s.generator_job import generator_job, plan_for
from calcbench.orchestration.k8s.manifests import render
from calcbench.orchestration.k8s.merge import GeneratorResult, merge_generators
from calcbench.orchestration.k8s.record import BenchRecord
from calcbench.orchestration.k8s.situation import Situation
from calcbench.orchestration.phase import members, server_report
from calcbench.orchestration.scrape import read
from loadgen.rundir import write_json
from loadgen.settings import LoadSettings
from tests.k8s.local_cluster import LocalStack, finish, job_processes, run_stack
from tests.k8s.manifests import NAMESPACES, Manifest, calculators, container, situation

# Starts whole stacks: one xdist worker runs every such module, one after the other.
pytestmark = pytest.mark.xdist_group("stacks")

PROTOCOL = "grpc"
LOAD = LoadSettings(rate=60.0, duration=2.0, warmup=0.5, channels=1, seed=3)
ONE_POD = ("multiplication", "percentage")


def bench_locally(stack: LocalStack, chosen: Situation, out: Path) -> Path:
    """What `calcbench k8s bench` does for one stack, with local processes for pods."""
    # The Job as bench creates it: render's, with the common start a second ahead.
    plan = plan_for(chosen, PROTOCOL, LOAD, start_at=time.time() + 1.0)
    job = generator_job(chosen, PROTOCOL, plan)
    record = BenchRecord(out, chosen, LOAD, {"cpu_count": None, "local": True})
    name = chosen.phase_name(PROTOCOL)
    group = members(stack.endpoints())
    with httpx.Client(timeout=5.0) as client:
        before = {m.replica: read(m.metrics, m.pid, client) for m in group}
        logs = finish(job_processes(job, stack), timeout=90)
        after = {m.replica: read(m.metrics, m.pid, client) for m in group}
    results = [
        GeneratorResult.read(unpack(log, record.generators_dir(name) / str(i)))
        for i, log in enumerate(logs)
    ]
    merge_generators(results, plan.load, record.phase_dir(name))
    server = server_report(group, before, after, {}, LOAD.warmup + LOAD.duration)
    write_json(record.phase_dir(name) / "server.json", server)
    replicas = {s: sum(p.service == s for p in stack.pods) for s in chosen.service_replicas}
    record.add_phase(PROTOCOL, name, chosen.balancing, replicas, [])
    record.finish(partial=False)
    return out


def launched(deployment: Manifest) -> dict[str, object]:
    """What the local stack starts from a Deployment: its replicas and its container."""
    return {"replicas": deployment["spec"]["replicas"], "container": container(deployment)}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    """The gRPC stack of the unmeshed situation: 2 pods of addition, subtraction and division,
    1 of multiplication and percentage. Every situation renders these Deployments alike."""
    shared = render(situation(PROTOCOL, "none", "shared"), LOAD)
    spread = render(situation(PROTOCOL, "none", "round-robin", generators=2), LOAD)
    namespace = NAMESPACES[PROTOCOL]
    assert [launched(d) for d in calculators(tuple(shared), namespace).values()] == [
        launched(d) for d in calculators(tuple(spread), namespace).values()
    ]
    with run_stack(tuple(shared), namespace, PROTOCOL) as running:
        yield running


def idle_replicas(run_dir: Path) -> pd.Series:
    balancing = analyse(load_run(run_dir)).balancing
    return balancing.set_index("service")["idle_replicas"]


def test_one_channel_through_the_shared_port_leaves_an_addition_pod_idle(
    stack: LocalStack, tmp_path: Path
) -> None:
    run_dir = bench_locally(stack, situation(PROTOCOL, "none", "shared"), tmp_path / "run")
    idle = idle_replicas(run_dir)
    assert idle["addition"] == 1 and idle["subtraction"] == 1
    assert all(idle[s] == 0 for s in ONE_POD)


def test_round_robin_over_the_headless_service_reaches_every_pod(
    stack: LocalStack, tmp_path: Path
) -> None:
    chosen = situation(PROTOCOL, "none", "round-robin", generators=2)
    run_dir = bench_locally(stack, chosen, tmp_path / "run")
    idle = idle_replicas(run_dir)
    assert (idle == 0).all(), idle.to_dict()
    merged = load_run(run_dir).phases[0]
    assert len(merged.meta["generators"]) == 2
    expected = (LOAD.rate or 0) * LOAD.duration
    assert merged.meta["totals"]["requests"] >= 0.9 * expected  # both pods' shares
    files = build_report(run_dir)
    services = pd.read_csv(files.csvs["services"])
    assert set(services["replica"]) >= {"addition-0", "addition-1", "percentage-0"}  # server side
    assert (
        "Left out, with one replica each: multiplication, percentage." in files.markdown.read_text()
    )
