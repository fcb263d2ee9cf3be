"""What each stack is made of and whether its parts find each other: names, ports, probes and
the `*_ENDPOINT` addresses, checked on the rendered overlays."""

from __future__ import annotations

import itertools

import pytest

from calcbench.core.vocabulary import SERVICES
from tests.k8s.manifests import (
    LOADGEN,
    NAMESPACES,
    OVERLAYS,
    Manifest,
    by_kind,
    calculators,
    container,
    env,
    flag,
    overlay,
    port_number,
    render,
    selects,
)

CASES = list(itertools.product(OVERLAYS, NAMESPACES))


def stack(name: str, protocol: str) -> tuple[tuple[Manifest, ...], str]:
    return render(overlay(name)), NAMESPACES[protocol]


def services(docs: tuple[Manifest, ...], namespace: str, headless: bool) -> dict[str, Manifest]:
    return {
        name: svc
        for name, svc in by_kind(docs, "Service", namespace).items()
        if (svc["spec"].get("clusterIP") == "None") == headless
    }


def resolve(docs: tuple[Manifest, ...], namespace: str, address: str) -> tuple[Manifest, int]:
    """The Service an in-cluster `host:port` reaches from `namespace`, and the port."""
    host, _, port = address.rpartition(":")
    name, _, rest = host.partition(".")
    assert rest in ("", namespace, f"{namespace}.svc", f"{namespace}.svc.cluster.local"), (
        f"{address} leaves namespace {namespace}"
    )
    found = by_kind(docs, "Service", namespace)
    assert name in found, f"{address}: no Service {name!r} in {namespace}"
    return found[name], int(port)


def assert_reaches(docs: tuple[Manifest, ...], namespace: str, address: str, target: str) -> None:
    """`address` is a Service port of `namespace` that leads to the `target` calculator's
    serving port."""
    service, port = resolve(docs, namespace, address)
    deployment = calculators(docs, namespace)[target]
    assert selects(service, deployment), f"{address} does not select {target}'s pods"
    ports = {p["port"]: p for p in service["spec"]["ports"]}
    assert port in ports, f"{address}: the Service has no port {port}"
    serving = int(flag(container(deployment)["args"], "--port"))
    assert port_number(deployment, ports[port]["targetPort"]) == serving, address


@pytest.mark.parametrize(("name", "protocol"), CASES)
def test_each_stack_has_five_calculators_two_services_each_and_a_loadgen(
    name: str, protocol: str
) -> None:
    docs, namespace = stack(name, protocol)
    assert set(by_kind(docs, "Deployment", namespace)) == {*SERVICES, LOADGEN}
    assert set(services(docs, namespace, headless=False)) == set(SERVICES)
    assert set(services(docs, namespace, headless=True)) == {f"{s}-headless" for s in SERVICES}
    for svc in by_kind(docs, "Service", namespace).values():
        assert svc["spec"].get("type", "ClusterIP") == "ClusterIP"
        owner = svc["metadata"]["name"].removesuffix("-headless")
        picked = [d for d in by_kind(docs, "Deployment", namespace).values() if selects(svc, d)]
        assert [d["metadata"]["name"] for d in picked] == [owner]


@pytest.mark.parametrize(("name", "protocol"), CASES)
def test_container_service_probe_and_metrics_ports_agree(name: str, protocol: str) -> None:
    docs, namespace = stack(name, protocol)
    for service, deployment in calculators(docs, namespace).items():
        box = container(deployment)
        args = box["args"]
        assert args[0] == service
        serving, metrics = int(flag(args, "--port")), int(flag(args, "--metrics-port"))
        assert flag(args, "--host") == "0.0.0.0"
        assert port_number(deployment, "api") == serving
        assert port_number(deployment, "metrics") == metrics
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert int(annotations["prometheus.io/port"]) == metrics
        for probe in (box["readinessProbe"], box["livenessProbe"]):
            handler = probe.get("httpGet") or probe["grpc"]
            assert port_number(deployment, handler["port"]) == serving
        for svc_name in (service, f"{service}-headless"):
            assert_reaches(docs, namespace, f"{svc_name}:8080", service)


@pytest.mark.parametrize(("name", "protocol"), CASES)
def test_probes_use_the_stack_protocol(name: str, protocol: str) -> None:
    docs, namespace = stack(name, protocol)
    for deployment in calculators(docs, namespace).values():
        box = container(deployment)
        assert box["command"] == ["python", "-m", f"calculator_{protocol}"]
        for probe in (box["readinessProbe"], box["livenessProbe"]):
            if protocol == "rest":
                assert probe["httpGet"]["path"] == "/healthz"
            else:
                assert "grpc" in probe


@pytest.mark.parametrize(("name", "protocol"), CASES)
def test_percentage_reaches_multiplication_and_division(name: str, protocol: str) -> None:
    docs, namespace = stack(name, protocol)
    variables = env(calculators(docs, namespace)["percentage"])
    for downstream in ("multiplication", "division"):
        assert_reaches(docs, namespace, variables[f"{downstream.upper()}_ENDPOINT"], downstream)


@pytest.mark.parametrize(("name", "protocol"), CASES)
def test_loadgen_reaches_every_service(name: str, protocol: str) -> None:
    docs, namespace = stack(name, protocol)
    variables = env(by_kind(docs, "Deployment", namespace)[LOADGEN])
    for service in SERVICES:
        assert_reaches(docs, namespace, variables[f"{service.upper()}_ENDPOINT"], service)


def test_an_endpoint_to_a_missing_service_is_caught() -> None:
    """The address checks above can fail."""
    docs, namespace = stack("unmeshed", "rest")
    with pytest.raises(AssertionError, match="no Service"):
        assert_reaches(docs, namespace, "multiplicaton:8080", "multiplication")
    with pytest.raises(AssertionError, match="does not select"):
        assert_reaches(docs, namespace, "division:8080", "multiplication")
    with pytest.raises(AssertionError, match="no port 9090"):
        assert_reaches(docs, namespace, "division:9090", "division")
    with pytest.raises(AssertionError, match="leaves namespace"):
        assert_reaches(docs, namespace, "division.grpc-calculator:8080", "division")
