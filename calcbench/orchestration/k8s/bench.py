"""`calcbench k8s bench`: for each situation in turn, deploy it, measure each stack with the
generator Job, and delete it; one run directory per situation, in the layout `calcbench run`
writes, so that `calcbench report` and `compare` read it like a local run.

Per stack: the calculator pods' metrics and CPU before, the Job (N pods, each with its share of
the rate, starting together), the pods' connections halfway, the metrics after, every
generator pod's results from its log, merged into the phase directory.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calcbench.orchestration.k8s import podmetrics
from calcbench.orchestration.k8s.archive import ArchiveError
from calcbench.orchestration.k8s.cluster import Waits, delete, deploy, leftover_hint
from calcbench.orchestration.k8s.generator_job import (
    JOB_NAME,
    deadline_seconds,
    generator_job,
    plan_for,
)
from calcbench.orchestration.k8s.job import JobFailed, fetch_results, wait_for_job
from calcbench.orchestration.k8s.kubectl import Kubectl, KubectlError
from calcbench.orchestration.k8s.manifests import to_yaml
from calcbench.orchestration.k8s.merge import merge_generators
from calcbench.orchestration.k8s.record import BenchRecord
from calcbench.orchestration.k8s.situation import Situation, namespace_of
from loadgen.rundir import write_json
from loadgen.settings import LoadSettings

Say = Callable[[str], None]


class BenchFailed(RuntimeError):
    """A situation could not be measured; the message says why and what stays in the cluster.
    `completed` are the run directories of the situations measured before it failed."""

    def __init__(self, message: str, completed: list[Path] | None = None) -> None:
        super().__init__(message)
        self.completed = completed or []


@dataclass(frozen=True)
class BenchSettings:
    """`start_delay`: seconds from creating a Job to its pods' common start (scheduling, image
    pulls and the pods' own wait for the services fit in it; a pod ready later starts late)."""

    situations: tuple[Situation, ...]
    load: LoadSettings
    out_dir: Path
    start_delay: float = 30.0
    waits: Waits = field(default_factory=Waits)


def parse_cpu(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def cluster_info(kubectl: Kubectl, version: str) -> dict[str, Any]:
    """What run.json says about where the run happened (the `host` of a local run); the nodes
    only where the user may list them."""
    try:
        nodes = kubectl.json("get", "nodes")["items"]
    except KubectlError:
        nodes = []
    cpus = [parse_cpu(str(n["status"].get("capacity", {}).get("cpu", "0"))) for n in nodes]
    return {
        "kubernetes": version,
        "context": kubectl.context,
        "nodes": [n["metadata"]["name"] for n in nodes],
        "cpu_count": int(sum(cpus)) or None,
    }


def bench(kubectl: Kubectl, settings: BenchSettings, say: Say) -> list[Path]:
    """Measure every situation; returns their run directories. Raises KubectlError when the
    cluster cannot be reached, BenchFailed when a situation fails (with the ones measured)."""
    cluster = cluster_info(kubectl, kubectl.server_version())
    done: list[Path] = []
    for situation in settings.situations:
        try:
            done.append(bench_situation(kubectl, situation, settings, cluster, say))
        except BenchFailed as exc:
            raise BenchFailed(str(exc), [*done, *exc.completed]) from exc
    return done


def bench_situation(
    kubectl: Kubectl,
    situation: Situation,
    settings: BenchSettings,
    cluster: dict[str, Any],
    say: Say,
) -> Path:
    """Deploy, measure each stack, delete. Until deployed, a failure says what (if anything)
    stays applied; after, that the situation stays, for a look at its pods."""
    leftover = leftover_hint(situation.protocols)
    try:
        deploy(kubectl, situation, say, settings.waits)
    except KubectlError as exc:
        raise BenchFailed(f"{situation.name}: {exc}") from exc
    except KeyboardInterrupt:
        say(f"interrupted while deploying: {leftover}")
        raise
    record = None
    try:
        record = BenchRecord(settings.out_dir / situation.name, situation, settings.load, cluster)
        for protocol in situation.protocols:
            measure_stack(kubectl, situation, protocol, settings, record, say)
    except (KubectlError, JobFailed, BenchFailed, ArchiveError, ValueError, OSError) as exc:
        if record is not None:
            record.finish(partial=True)
        raise BenchFailed(f"{situation.name}: {exc}; {leftover}") from exc
    except KeyboardInterrupt:
        if record is not None:
            record.finish(partial=True)
        say(f"interrupted: {leftover}")
        raise
    record.finish(partial=False)
    try:
        delete(kubectl, situation.protocols, say, settings.waits)
    except KubectlError as exc:
        raise BenchFailed(f"{situation.name}: measured, then {exc}", [record.dir]) from exc
    return record.dir


def replicas_seen(pods: list[podmetrics.Pod]) -> dict[str, int]:
    counts = Counter(pod.service for pod in pods)
    return dict(sorted(counts.items()))


def measure_stack(
    kubectl: Kubectl,
    situation: Situation,
    protocol: str,
    settings: BenchSettings,
    record: BenchRecord,
    say: Say,
) -> None:
    namespace, name = namespace_of(protocol), situation.phase_name(protocol)
    remove_job(kubectl, namespace)
    pods = podmetrics.calculator_pods(kubectl, namespace)
    replicas = replicas_seen(pods)
    if replicas != dict(sorted(situation.service_replicas.items())):
        raise BenchFailed(f"{namespace} runs {replicas} pods, not {situation.service_replicas}")
    warnings: list[str] = []
    server = podmetrics.ServerWindow(kubectl, pods, warnings)
    plan = plan_for(situation, protocol, settings.load, time.time() + settings.start_delay)
    say(f"{name}: {plan.generators} generator pod(s), starting in {settings.start_delay:g} s")
    kubectl.apply(to_yaml([generator_job(situation, protocol, plan)]))
    halfway = plan.start_at + plan.load.warmup + plan.load.duration / 2
    seconds = deadline_seconds(plan) + settings.start_delay
    wait_for_job(kubectl, namespace, seconds, settings.waits.poll, lambda: server.halfway(halfway))
    document = server.end(plan.load.warmup + plan.load.duration)
    if podmetrics.calculator_pods(kubectl, namespace) != pods:
        warnings.append("the calculator pods changed during the load (a restart, or the HPA)")
    results = fetch_results(kubectl, namespace, plan.generators, record.generators_dir(name))
    meta = merge_generators(results, plan.load, record.phase_dir(name))
    if document is not None:
        write_json(record.phase_dir(name) / "server.json", document)
    warnings += meta["generator"]["warnings"]
    record.add_phase(protocol, name, situation.balancing, replicas, warnings)
    remove_job(kubectl, namespace)
    say(f"{name}: {meta['totals']['requests']} requests, {meta['totals']['errors']} errors")


def remove_job(kubectl: Kubectl, namespace: str) -> None:
    """Delete the generator Job and, before returning, its pods (foreground cascade)."""
    kubectl.run(
        "delete", "job", JOB_NAME, "-n", namespace, "--ignore-not-found",
        "--cascade=foreground", "--wait=true",
    )  # fmt: skip
