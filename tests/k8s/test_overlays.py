"""What distinguishes the overlays (mesh annotations, replicas, how the load generator
balances) and what must never differ between the two stacks (fairness)."""

from __future__ import annotations

import pytest

from calcbench.core.vocabulary import SERVICES
from tests.k8s.manifests import (
    K8S,
    LOADGEN,
    NAMESPACES,
    OVERLAYS,
    Manifest,
    by_kind,
    container,
    env,
    env_from_config_maps,
    namespace_object,
    overlay,
    pod_annotations,
    render,
)

INJECT = "linkerd.io/inject"
# As in the post: two pods of addition, subtraction and division, one of the others.
TWO_REPLICAS = {"addition", "subtraction", "division"}

# Which Deployments Linkerd's proxy-injector would mesh in each overlay.
MESHED = {
    "unmeshed": set(),
    "linkerd": {*SERVICES, LOADGEN},
    "linkerd-server-only": set(SERVICES),
    "client-round-robin": set(),
}


def meshed(docs: tuple[Manifest, ...], namespace: str, deployment: Manifest) -> bool:
    """Linkerd's rule: the pod's annotation if it has one, else its namespace's."""
    ns_annotations = namespace_object(docs, namespace)["metadata"].get("annotations") or {}
    setting = str(pod_annotations(deployment).get(INJECT, ns_annotations.get(INJECT, "disabled")))
    assert setting in ("enabled", "disabled")
    return setting == "enabled"


@pytest.mark.parametrize("name", OVERLAYS)
def test_linkerd_meshes_what_the_overlay_promises(name: str) -> None:
    docs = render(overlay(name))
    for namespace in NAMESPACES.values():
        deployments = by_kind(docs, "Deployment", namespace)
        injected = {d for d, manifest in deployments.items() if meshed(docs, namespace, manifest)}
        assert injected == MESHED[name], namespace


def test_server_only_annotates_the_loadgen_pod_not_its_namespace() -> None:
    docs = render(overlay("linkerd-server-only"))
    for namespace in NAMESPACES.values():
        ns_annotations = namespace_object(docs, namespace)["metadata"]["annotations"]
        assert ns_annotations[INJECT] == "enabled"
        loadgen = by_kind(docs, "Deployment", namespace)[LOADGEN]
        assert pod_annotations(loadgen)[INJECT] == "disabled"


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlays_run_two_pods_of_the_posts_services(name: str) -> None:
    docs = render(overlay(name))
    for namespace in NAMESPACES.values():
        replicas = {
            d: m["spec"]["replicas"] for d, m in by_kind(docs, "Deployment", namespace).items()
        }
        assert replicas == {s: 2 if s in TWO_REPLICAS else 1 for s in (*SERVICES, LOADGEN)}


@pytest.mark.parametrize("protocol", NAMESPACES)
def test_a_stack_alone_runs_one_pod_per_service(protocol: str) -> None:
    docs = render(K8S / protocol)
    deployments = by_kind(docs, "Deployment", NAMESPACES[protocol])
    assert {m["spec"]["replicas"] for m in deployments.values()} == {1}


def comparable(deployment: Manifest) -> dict[str, object]:
    """What must be equal between a REST pod and its gRPC twin."""
    spec = deployment["spec"]
    box = container(deployment)
    return {
        "replicas": spec["replicas"],
        "resources": box["resources"],
        "securityContext": box["securityContext"],
        "image": box["image"],
        "args": box.get("args"),
        "pod": {k: v for k, v in spec["template"]["spec"].items() if k != "containers"},
    }


@pytest.mark.parametrize("name", OVERLAYS)
def test_rest_and_grpc_pods_are_sized_alike(name: str) -> None:
    docs = render(overlay(name))
    rest = by_kind(docs, "Deployment", NAMESPACES["rest"])
    grpc = by_kind(docs, "Deployment", NAMESPACES["grpc"])
    assert set(rest) == set(grpc)
    for deployment in rest:
        assert comparable(rest[deployment]) == comparable(grpc[deployment]), deployment
        assert container(rest[deployment])["resources"]["limits"]["cpu"]


@pytest.mark.parametrize("name", OVERLAYS)
def test_both_loadgens_run_the_same_workload(name: str) -> None:
    docs = render(overlay(name))
    settings = {
        protocol: env_from_config_maps(docs, by_kind(docs, "Deployment", ns)[LOADGEN])
        for protocol, ns in NAMESPACES.items()
    }
    for protocol, variables in settings.items():
        assert variables.pop("LOAD_PROTOCOL") == protocol
    assert settings["rest"] == settings["grpc"]


@pytest.mark.parametrize("name", OVERLAYS)
def test_only_client_round_robin_balances_in_the_client(name: str) -> None:
    docs = render(overlay(name))
    for namespace in NAMESPACES.values():
        loadgen = by_kind(docs, "Deployment", namespace)[LOADGEN]
        variables = env_from_config_maps(docs, loadgen)
        hosts = {env(loadgen)[f"{s.upper()}_ENDPOINT"].rpartition(":")[0] for s in SERVICES}
        if name == "client-round-robin":
            assert variables["LOAD_BALANCING"] == "round-robin"
            assert hosts == {f"{s}-headless" for s in SERVICES}
        else:
            assert variables["LOAD_BALANCING"] == "shared"
            assert hosts == set(SERVICES)
