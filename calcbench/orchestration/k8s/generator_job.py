"""The load generator as an Indexed Job (the post's MathFanBoy, N pods): each pod runs
`calcbench k8s generate`, its share of the load, and prints its results to its log, where
`calcbench k8s bench` reads them once the Job is complete (pure)."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from calcbench.core.vocabulary import SERVICES
from calcbench.orchestration.k8s.generator_plan import NODE, GeneratorPlan, endpoint_variable
from calcbench.orchestration.k8s.pods import (
    API_PORT,
    CALCULATOR,
    COMPONENT_LABEL,
    LOADGEN,
    TMP_MOUNT,
    Manifest,
    container_security,
    labels,
    metadata,
    pod_annotations,
    pod_spec,
    resources,
)
from calcbench.orchestration.k8s.situation import K8sBalancing, Situation, namespace_of
from loadgen.settings import LoadSettings

JOB_NAME: Final = "loadgen"
GENERATE: Final = ["calcbench", "k8s", "generate"]
#: Beyond the pods' own wait for the services and the load itself: image pulls, scheduling.
SLACK_SECONDS: Final = 300


def endpoint(situation: Situation, service: str) -> str:
    """The ClusterIP Service (kube-proxy, or the generator's own Linkerd proxy, balances), or
    the headless one, whose name resolves to every ready pod (the generator balances)."""
    if situation.balancing == K8sBalancing.ROUND_ROBIN:
        return f"{service}-headless:{API_PORT}"
    return f"{service}:{API_PORT}"


def plan_for(
    situation: Situation, protocol: str, load: LoadSettings, start_at: float = 0.0
) -> GeneratorPlan:
    stack_load = replace(load, protocol=protocol, balancing=situation.balancing)
    return GeneratorPlan(
        stack_load, situation.generators, start_at, replicas=situation.service_replicas
    )


def deadline_seconds(plan: GeneratorPlan) -> int:
    """How long the Job may run in all before Kubernetes stops it."""
    load = plan.load
    return int(plan.wait_seconds + load.warmup + load.duration + SLACK_SECONDS)


def affinity() -> Manifest:
    """Away from the calculators of both stacks (and from each other) where the cluster has
    the nodes: the generator's CPU should not be taken from the services it measures."""

    def away_from(component: str, weight: int) -> Manifest:
        return {
            "weight": weight,
            "podAffinityTerm": {
                "labelSelector": {"matchLabels": {COMPONENT_LABEL: component}},
                "namespaceSelector": {"matchLabels": {"app.kubernetes.io/part-of": "calcbench"}},
                "topologyKey": "kubernetes.io/hostname",
            },
        }

    preferred = [away_from(CALCULATOR, 100), away_from(LOADGEN, 50)]
    return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}


def generator_job(situation: Situation, protocol: str, plan: GeneratorPlan) -> Manifest:
    sizing = situation.sizing
    env: list[Manifest] = [{"name": k, "value": v} for k, v in plan.to_env().items()]
    env += [{"name": endpoint_variable(s), "value": endpoint(situation, s)} for s in SERVICES]
    # Which node the pod ran on, for the record: beside the calculators or not.
    env.append({"name": NODE, "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}})
    box: Manifest = {
        "name": LOADGEN,
        "image": situation.generator_image,
        "imagePullPolicy": "IfNotPresent",
        "command": GENERATE,
        "env": env,
        "resources": resources(
            sizing.generator_cpu_request,
            sizing.generator_memory_request,
            sizing.generator_cpu_limit,
            sizing.generator_memory_limit,
        ),
        "securityContext": container_security(),
        "volumeMounts": [TMP_MOUNT],
    }
    own = labels(LOADGEN, LOADGEN, protocol)
    spec = pod_spec([box], restartPolicy="Never", affinity=affinity())
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(JOB_NAME, namespace_of(protocol), own),
        "spec": {
            "completionMode": "Indexed",
            "completions": plan.generators,
            "parallelism": plan.generators,
            # A pod that fails is not run again: its share of the load would be sent twice.
            "backoffLimit": 0,
            "activeDeadlineSeconds": deadline_seconds(plan),
            "template": {
                "metadata": {"labels": own, "annotations": pod_annotations(situation, LOADGEN)},
                "spec": spec,
            },
        },
    }
