"""What distinguishes the situations (mesh annotations, pods per service, how the generator
balances), what every situation has (an HPA and a PDB per calculator, a token-less
ServiceAccount, Pod Security labels, a NetworkPolicy), and what must never differ between the
two stacks (fairness)."""

from __future__ import annotations

import json

import pytest

from calcbench.core.vocabulary import SERVICES
from calcbench.orchestration.k8s.situation import Situation, generator_image_for
from tests.k8s.manifests import (
    LOADGEN,
    NAMESPACES,
    SITUATIONS,
    Docs,
    Manifest,
    by_kind,
    calculators,
    container,
    env,
    generator,
    namespace_object,
    pod_annotations,
    pod_spec,
    rendered,
    selects,
)

INJECT = "linkerd.io/inject"
NATIVE_SIDECAR = "config.alpha.linkerd.io/proxy-enable-native-sidecar"
# Which workloads Linkerd's proxy-injector meshes in each situation.
MESHED = {
    "none": set(),
    "linkerd": {*SERVICES, LOADGEN},
    "linkerd-unmeshed-client": set(SERVICES),
}
# As in the post: two pods of addition, subtraction and division, one of the others.
POST_REPLICAS = {
    "addition": 2,
    "subtraction": 2,
    "multiplication": 1,
    "division": 2,
    "percentage": 1,
}


def workloads(docs: Docs, namespace: str) -> dict[str, Manifest]:
    return {**calculators(docs, namespace), LOADGEN: generator(docs, namespace)}


def meshed(docs: Docs, namespace: str, workload: Manifest) -> bool:
    """Linkerd's rule: the pod's annotation if it has one, else its namespace's."""
    ns_annotations = namespace_object(docs, namespace)["metadata"].get("annotations") or {}
    setting = pod_annotations(workload).get(INJECT, ns_annotations.get(INJECT, "disabled"))
    assert setting in ("enabled", "disabled")
    return bool(setting == "enabled")


@pytest.mark.parametrize(("stack", "mesh", "balancing"), SITUATIONS)
def test_linkerd_meshes_what_the_situation_says_and_every_pod_says_so(
    stack: str, mesh: str, balancing: str
) -> None:
    docs = rendered(stack, mesh, balancing)
    for namespace in NAMESPACES.values():
        found = workloads(docs, namespace)
        assert {name for name, w in found.items() if meshed(docs, namespace, w)} == MESHED[mesh]
        for name, workload in found.items():
            annotations = pod_annotations(workload)
            # Stated on the pod, so that applying another situation replaces the pods.
            assert annotations[INJECT] == ("enabled" if name in MESHED[mesh] else "disabled")
            assert (
                annotations["calcbench/situation"]
                == f"{'unmeshed' if mesh == 'none' else mesh}-{balancing}"
            )
            # A meshed Job completes only with Linkerd's proxy as a native sidecar.
            assert (annotations.get(NATIVE_SIDECAR) == "true") == (name in MESHED[mesh])


@pytest.mark.parametrize(("stack", "mesh", "balancing"), SITUATIONS)
def test_pod_security_labels_state_what_a_meshed_namespace_needs(
    stack: str, mesh: str, balancing: str
) -> None:
    docs = rendered(stack, mesh, balancing)
    for namespace in NAMESPACES.values():
        meta = namespace_object(docs, namespace)["metadata"]
        labels = meta["labels"]
        enforce = labels["pod-security.kubernetes.io/enforce"]
        assert enforce == ("restricted" if mesh == "none" else "privileged")
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
        assert labels["pod-security.kubernetes.io/audit"] == "restricted"
        if mesh != "none":
            assert "NET_ADMIN" in meta["annotations"]["calcbench/pod-security"]


@pytest.mark.parametrize("replicas", [1, 2, 3])
def test_pods_per_service_follow_the_post(replicas: int) -> None:
    from calcbench.orchestration.k8s.manifests import render
    from loadgen.settings import LoadSettings

    docs = tuple(render(Situation(replicas=replicas), LoadSettings()))
    for namespace in NAMESPACES.values():
        counts = {s: d["spec"]["replicas"] for s, d in calculators(docs, namespace).items()}
        assert counts == {s: replicas if n == 2 else 1 for s, n in POST_REPLICAS.items()}
        job = env(generator(docs, namespace))["CALCBENCH_REPLICAS"]
        assert dict(p.split("=") for p in job.split(",")) == {s: str(n) for s, n in counts.items()}


@pytest.mark.parametrize(("stack", "mesh", "balancing"), SITUATIONS)
def test_one_autoscaler_and_one_disruption_budget_per_calculator(
    stack: str, mesh: str, balancing: str
) -> None:
    docs = rendered(stack, mesh, balancing)
    for namespace in NAMESPACES.values():
        deployments = calculators(docs, namespace)
        autoscalers = by_kind(docs, "HorizontalPodAutoscaler", namespace)
        budgets = by_kind(docs, "PodDisruptionBudget", namespace)
        assert set(autoscalers) == set(budgets) == set(deployments)
        for name, hpa in autoscalers.items():
            spec = hpa["spec"]
            assert hpa["apiVersion"] == "autoscaling/v2"
            assert spec["scaleTargetRef"] == {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": name,
            }
            # No pod may appear in the middle of a measurement unless asked for.
            assert (
                spec["minReplicas"] == spec["maxReplicas"] == deployments[name]["spec"]["replicas"]
            )
            (metric,) = spec["metrics"]
            assert metric["resource"]["name"] == "cpu"
        for name, pdb in budgets.items():
            assert selects(pdb["spec"]["selector"]["matchLabels"], deployments[name])
            assert pdb["spec"]["maxUnavailable"] == 1  # a one-pod service never blocks a drain


def test_the_autoscalers_ceiling_is_a_knob() -> None:
    from calcbench.orchestration.k8s.manifests import render
    from calcbench.orchestration.k8s.situation import Sizing
    from loadgen.settings import LoadSettings

    docs = render(Situation(sizing=Sizing(max_replicas=5)), LoadSettings())
    ceilings = {d["spec"]["maxReplicas"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    assert ceilings == {5}


def test_only_the_generator_and_percentage_reach_the_services() -> None:
    docs = rendered()
    for namespace in NAMESPACES.values():
        (policy,) = by_kind(docs, "NetworkPolicy", namespace).values()
        spec = policy["spec"]
        deployments = calculators(docs, namespace)
        assert all(selects(spec["podSelector"]["matchLabels"], d) for d in deployments.values())
        api, open_ports = spec["ingress"]
        assert api["ports"] == [{"protocol": "TCP", "port": "api"}]
        callers = {**deployments, LOADGEN: generator(docs, namespace)}
        allowed = {
            n
            for n, w in callers.items()
            if any(selects(f["podSelector"]["matchLabels"], w) for f in api["from"])
        }
        assert allowed == {"percentage", LOADGEN}
        assert "from" not in open_ports  # metrics: the API server's proxy, Prometheus
        assert {p["port"] for p in open_ports["ports"]} == {9090, 4191}


def test_the_service_account_mounts_no_token() -> None:
    docs = rendered()
    for namespace in NAMESPACES.values():
        (account,) = by_kind(docs, "ServiceAccount", namespace).values()
        assert account["automountServiceAccountToken"] is False


def cpu(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def test_the_defaults_fit_a_four_cpu_kind_cluster() -> None:
    """Both stacks and one generator Job at a time (bench runs them in turn) within 2 CPUs
    requested: a 4-CPU kind node keeps about one for its control plane, one for Linkerd and
    the proxies."""
    docs = rendered()
    calculators_cpu = sum(
        cpu(container(d)["resources"]["requests"]["cpu"]) * d["spec"]["replicas"]
        for ns in NAMESPACES.values()
        for d in calculators(docs, ns).values()
    )
    job = generator(docs, NAMESPACES["grpc"])
    generator_cpu = cpu(container(job)["resources"]["requests"]["cpu"]) * job["spec"]["parallelism"]
    assert calculators_cpu + generator_cpu <= 2.0


def test_the_generator_is_an_indexed_job_spread_away_from_the_calculators() -> None:
    docs = rendered(generators=3)
    job = generator(docs, NAMESPACES["grpc"])
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 3, 3)
    assert spec["backoffLimit"] == 0 and pod_spec(job)["restartPolicy"] == "Never"
    assert container(job)["command"] == ["calcbench", "k8s", "generate"]
    terms = pod_spec(job)["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    away = [t["podAffinityTerm"]["labelSelector"]["matchLabels"] for t in terms]
    assert {"app.kubernetes.io/component": "calculator"} in away
    assert env(job)["CALCBENCH_GENERATORS"] == "3"


def comparable(workload: Manifest) -> dict[str, object]:
    """What must be equal between a REST pod and its gRPC twin."""
    box = container(workload)
    pod = {k: v for k, v in pod_spec(workload).items() if k != "containers"}
    return {
        "spec": {k: v for k, v in workload["spec"].items() if k not in ("template", "selector")},
        "resources": box["resources"],
        "securityContext": box["securityContext"],
        "image": box["image"],
        "args": box.get("args"),
        "annotations": pod_annotations(workload),
        "pod": pod,
    }


@pytest.mark.parametrize(("stack", "mesh", "balancing"), SITUATIONS)
def test_rest_and_grpc_pods_are_sized_and_loaded_alike(
    stack: str, mesh: str, balancing: str
) -> None:
    docs = rendered(stack, mesh, balancing)
    rest, grpc = (workloads(docs, NAMESPACES[p]) for p in ("rest", "grpc"))
    assert set(rest) == set(grpc)
    for name in rest:
        assert comparable(rest[name]) == comparable(grpc[name]), name
    loads = {
        p: json.loads(env(w[LOADGEN]).pop("CALCBENCH_LOAD"))
        for p, w in (("rest", rest), ("grpc", grpc))
    }
    assert loads["rest"].pop("protocol") == "rest" and loads["grpc"].pop("protocol") == "grpc"
    assert loads["rest"] == loads["grpc"] and loads["rest"]["balancing"] == balancing


@pytest.mark.parametrize(
    ("image", "generator"),
    [
        ("calcbench:dev", "calcbench-generator:dev"),
        ("localhost:5000/calcbench:abc123", "localhost:5000/calcbench-generator:abc123"),
        ("localhost:5000/calcbench", "localhost:5000/calcbench-generator"),
    ],
)
def test_the_generator_image_sits_beside_the_services_image(image: str, generator: str) -> None:
    assert generator_image_for(image) == generator
