"""What each stack is made of and whether its parts find each other: names, ports, probes,
limits, security contexts and the `*_ENDPOINT` addresses, checked on every situation."""

from __future__ import annotations

import pytest

from calcbench.core.vocabulary import SERVICES
from tests.k8s.manifests import (
    COMBINATIONS,
    LOADGEN,
    NAMESPACES,
    Docs,
    Manifest,
    by_kind,
    calculators,
    container,
    env,
    flag,
    generator,
    pod_spec,
    port_number,
    rendered,
    selects,
)

CASES = [
    (stack, mesh, balancing, protocol)
    for stack, mesh, balancing in COMBINATIONS
    for protocol in NAMESPACES
    if stack in (protocol, "both")
]


def services(docs: Docs, namespace: str, headless: bool) -> dict[str, Manifest]:
    return {
        name: svc
        for name, svc in by_kind(docs, "Service", namespace).items()
        if (svc["spec"].get("clusterIP") == "None") == headless
    }


def resolve(docs: Docs, namespace: str, address: str) -> tuple[Manifest, int]:
    """The Service an in-cluster `host:port` reaches from `namespace`, and the port."""
    host, _, port = address.rpartition(":")
    name, _, rest = host.partition(".")
    assert rest in ("", namespace, f"{namespace}.svc", f"{namespace}.svc.cluster.local"), (
        f"{address} leaves namespace {namespace}"
    )
    found = by_kind(docs, "Service", namespace)
    assert name in found, f"{address}: no Service {name!r} in {namespace}"
    return found[name], int(port)


def assert_reaches(docs: Docs, namespace: str, address: str, target: str) -> None:
    """`address` is a Service port of `namespace` that leads to the `target` calculator's
    serving port."""
    service, port = resolve(docs, namespace, address)
    deployment = calculators(docs, namespace)[target]
    assert selects(service["spec"]["selector"], deployment), f"{address} misses {target}'s pods"
    ports = {p["port"]: p for p in service["spec"]["ports"]}
    assert port in ports, f"{address}: the Service has no port {port}"
    serving = int(flag(container(deployment)["args"], "--port"))
    assert port_number(deployment, ports[port]["targetPort"]) == serving, address


@pytest.mark.parametrize(("stack", "mesh", "balancing", "protocol"), CASES)
def test_each_stack_has_five_calculators_two_services_each_and_a_generator_job(
    stack: str, mesh: str, balancing: str, protocol: str
) -> None:
    docs, namespace = rendered(stack, mesh, balancing), NAMESPACES[protocol]
    assert set(by_kind(docs, "Deployment", namespace)) == set(SERVICES)
    assert set(by_kind(docs, "Job", namespace)) == {LOADGEN}
    assert set(services(docs, namespace, headless=False)) == set(SERVICES)
    assert set(services(docs, namespace, headless=True)) == {f"{s}-headless" for s in SERVICES}
    for svc in by_kind(docs, "Service", namespace).values():
        owner = svc["metadata"]["name"].removesuffix("-headless")
        picked = [
            d for d in calculators(docs, namespace).values() if selects(svc["spec"]["selector"], d)
        ]
        assert [d["metadata"]["name"] for d in picked] == [owner]
    other = {"both": set(), "rest": {"grpc"}, "grpc": {"rest"}}[stack]
    assert not any(d["metadata"].get("namespace") in {NAMESPACES[p] for p in other} for d in docs)


@pytest.mark.parametrize(("stack", "mesh", "balancing", "protocol"), CASES)
def test_ports_probes_limits_and_security_agree(
    stack: str, mesh: str, balancing: str, protocol: str
) -> None:
    docs, namespace = rendered(stack, mesh, balancing), NAMESPACES[protocol]
    for service, deployment in calculators(docs, namespace).items():
        box = container(deployment)
        args = box["args"]
        assert args[0] == service and flag(args, "--host") == "0.0.0.0"
        assert box["command"] == ["python", "-m", f"calculator_{protocol}"]
        assert port_number(deployment, "api") == int(flag(args, "--port"))
        assert port_number(deployment, "metrics") == int(flag(args, "--metrics-port"))
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert int(annotations["prometheus.io/port"]) == int(flag(args, "--metrics-port"))
        for probe in (box["readinessProbe"], box["livenessProbe"]):
            handler = probe.get("httpGet") or probe["grpc"]
            assert port_number(deployment, handler["port"]) == int(flag(args, "--port"))
            assert (
                (probe["httpGet"]["path"] == "/healthz") if protocol == "rest" else "grpc" in probe
            )
        for svc_name in (service, f"{service}-headless"):
            assert_reaches(docs, namespace, f"{svc_name}:8080", service)
    for workload in [*calculators(docs, namespace).values(), generator(docs, namespace)]:
        box, pod = container(workload), pod_spec(workload)
        assert box["resources"]["requests"] and box["resources"]["limits"]
        assert box["securityContext"] == {
            "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
            "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        }  # fmt: skip
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["serviceAccountName"] == "calcbench"
        assert pod["automountServiceAccountToken"] is False
        assert {"name": "tmp", "mountPath": "/tmp"} in box["volumeMounts"]


@pytest.mark.parametrize(("stack", "mesh", "balancing", "protocol"), CASES)
def test_every_downstream_is_in_the_same_namespace(
    stack: str, mesh: str, balancing: str, protocol: str
) -> None:
    docs, namespace = rendered(stack, mesh, balancing), NAMESPACES[protocol]
    percentage = env(calculators(docs, namespace)["percentage"])
    for downstream in ("multiplication", "division"):
        assert_reaches(docs, namespace, percentage[f"{downstream.upper()}_ENDPOINT"], downstream)
    variables = env(generator(docs, namespace))
    for service in SERVICES:
        address = variables[f"{service.upper()}_ENDPOINT"]
        assert_reaches(docs, namespace, address, service)
        headless = address.startswith(f"{service}-headless:")
        assert headless == (balancing == "round-robin"), address


def test_an_endpoint_to_a_missing_service_is_caught() -> None:
    """The address checks above can fail."""
    docs, namespace = rendered(), NAMESPACES["rest"]
    with pytest.raises(AssertionError, match="no Service"):
        assert_reaches(docs, namespace, "multiplicaton:8080", "multiplication")
    with pytest.raises(AssertionError, match="misses"):
        assert_reaches(docs, namespace, "division:8080", "multiplication")
    with pytest.raises(AssertionError, match="no port 9090"):
        assert_reaches(docs, namespace, "division:9090", "division")
    with pytest.raises(AssertionError, match="leaves namespace"):
        assert_reaches(docs, namespace, "division.grpc-calculator:8080", "division")
