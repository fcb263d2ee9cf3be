"""The server side of a cluster run: each calculator pod's own metrics, read through the API
server's proxy before and after the load (the same counters `calcbench run` scrapes locally),
and its containers' CPU from the kubelet's resource metrics.

The API server reaches the pods itself, so this works whatever the NetworkPolicy says about the
API port (the metrics port is open to the cluster) and from outside the cluster.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from prometheus_client.parser import text_string_to_metric_families

from calcbench.orchestration.k8s.cluster import PROXY, live_pods
from calcbench.orchestration.k8s.kubectl import Kubectl, KubectlError
from calcbench.orchestration.k8s.pods import CALCULATOR, COMPONENT_LABEL, METRICS_PORT, NAME_LABEL
from calcbench.orchestration.phase import Member, server_report
from calcbench.orchestration.scrape import Reading, Scrape, parse_metrics

CPU_METRIC: Final = "container_cpu_usage_seconds_total"


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    service: str
    node: str

    @property
    def member(self) -> Member:
        """The pod as a phase sees a replica (its name is its x-calc-replica id)."""
        return Member(self.service, self.name, metrics="", pid=None)


@dataclass(frozen=True)
class PodSample:
    """One pod's counters and its containers' CPU seconds (NaN when the kubelet said none)."""

    scrape: Scrape
    cpu_seconds: float
    proxy_cpu_seconds: float


def calculator_pods(kubectl: Kubectl, namespace: str) -> list[Pod]:
    pods = [
        Pod(
            namespace,
            item["metadata"]["name"],
            item["metadata"]["labels"][NAME_LABEL],
            str(item["spec"].get("nodeName") or ""),
        )
        for item in live_pods(kubectl, namespace, f"{COMPONENT_LABEL}={CALCULATOR}")
    ]
    return sorted(pods, key=lambda p: (p.service, p.name))


def pod_metrics_path(pod: Pod) -> str:
    return f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}:{METRICS_PORT}/proxy/metrics"


def cpu_by_container(text: str, namespace: str) -> dict[tuple[str, str], float]:
    """(pod, container) -> CPU seconds, from a kubelet's /metrics/resource text (pure)."""
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == CPU_METRIC and labels.get("namespace") == namespace:
                found[(labels.get("pod", ""), labels.get("container", ""))] = sample.value
    return found


def node_cpu(kubectl: Kubectl, pods: Iterable[Pod]) -> dict[tuple[str, str], float]:
    """Every node's resource metrics for the pods on it; empty when the kubelet refuses."""
    found: dict[tuple[str, str], float] = {}
    by_node = {(pod.node, pod.namespace) for pod in pods if pod.node}
    for node, namespace in sorted(by_node):
        text = kubectl.raw(f"/api/v1/nodes/{node}/proxy/metrics/resource")
        found |= cpu_by_container(text, namespace)
    return found


def sample(kubectl: Kubectl, pods: list[Pod], warnings: list[str]) -> dict[str, PodSample]:
    """Every pod's counters now (KubectlError if one cannot be read) and its CPU (NaN, with a
    warning, if the kubelets' resource metrics cannot be read: no nodes/proxy permission)."""
    try:
        cpu = node_cpu(kubectl, pods)
    except KubectlError as exc:
        cpu = {}
        note = f"server CPU not measured (the kubelet's /metrics/resource: {exc})"
        if note not in warnings:
            warnings.append(note)
    nan = math.nan
    return {
        pod.name: PodSample(
            parse_metrics(kubectl.raw(pod_metrics_path(pod))),
            cpu.get((pod.name, CALCULATOR), nan),
            cpu.get((pod.name, PROXY), nan),
        )
        for pod in pods
    }


def connections(kubectl: Kubectl, pods: list[Pod]) -> dict[str, float]:
    """Open TCP connections per pod now (NaN for a pod that cannot be read)."""
    counts: dict[str, float] = {}
    for pod in pods:
        try:
            counts[pod.name] = parse_metrics(kubectl.raw(pod_metrics_path(pod))).tcp_conn
        except KubectlError:
            counts[pod.name] = math.nan
    return counts


def server_document(
    pods: list[Pod],
    before: dict[str, PodSample],
    after: dict[str, PodSample],
    midpoint: dict[str, float],
    seconds: float,
) -> dict[str, Any]:
    """The phase's server.json, as `calcbench run` writes it, plus each pod's node and its
    Linkerd proxy's CPU seconds (meshed situations)."""

    def pairs(samples: dict[str, PodSample]) -> dict[str, Reading]:
        return {name: Reading(s.scrape, s.cpu_seconds) for name, s in samples.items()}

    members = [pod.member for pod in pods]
    report = server_report(members, pairs(before), pairs(after), midpoint, seconds)
    for row, pod in zip(report["replicas"], pods, strict=True):
        proxy = after[pod.name].proxy_cpu_seconds - before[pod.name].proxy_cpu_seconds
        row |= {"node": pod.node, "proxy_cpu_seconds": proxy}
    return report


class ServerWindow:
    """The server side of one load: the pods sampled before it, their open connections once
    halfway, sampled after it. A pod the API server's proxy cannot reach (no `pods/proxy`
    permission, say) costs the phase its server.json, with a warning, not the whole bench."""

    def __init__(self, kubectl: Kubectl, pods: list[Pod], warnings: list[str]) -> None:
        self.kubectl, self.pods, self.warnings = kubectl, pods, warnings
        self.midpoint: dict[str, float] = {}
        self.before = self._sample()

    def _sample(self) -> dict[str, PodSample] | None:
        try:
            return sample(self.kubectl, self.pods, self.warnings)
        except KubectlError as exc:
            self.warnings.append(f"no server-side metrics for this phase: {exc}")
            return None

    def halfway(self, at: float) -> None:
        """Count the open connections once, the first time this runs after `at` (Unix time)."""
        if self.before is not None and not self.midpoint and time.time() >= at:
            self.midpoint = connections(self.kubectl, self.pods)

    def end(self, seconds: float) -> dict[str, Any] | None:
        """server.json for a load of `seconds`, or None when a sample failed."""
        after = self._sample() if self.before is not None else None
        if self.before is None or after is None:
            return None
        return server_document(self.pods, self.before, after, self.midpoint, seconds)
