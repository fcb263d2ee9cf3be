"""A stack's namespace and what guards it: Pod Security labels, the pods' ServiceAccount and a
NetworkPolicy that lets only the load generator and percentage call the calculators (pure)."""

from __future__ import annotations

from typing import Final

from calcbench.core.vocabulary import Service
from calcbench.orchestration.k8s.pods import (
    CALCULATOR,
    COMPONENT_LABEL,
    INJECT,
    LOADGEN,
    METRICS_PORT,
    NAME_LABEL,
    PROTOCOL_LABEL,
    SERVICE_ACCOUNT,
    SITUATION,
    Manifest,
    metadata,
)
from calcbench.orchestration.k8s.situation import Situation, namespace_of

#: Linkerd's proxy admin port: linkerd-viz's Prometheus scrapes the proxies there.
LINKERD_ADMIN_PORT: Final = 4191
PSA: Final = "pod-security.kubernetes.io"
#: Why a meshed namespace cannot enforce more, stated on the namespace itself.
MESHED_PSA_REASON: Final = (
    "linkerd-init adds NET_ADMIN and NET_RAW to set up iptables, which the baseline and "
    "restricted profiles forbid: a meshed namespace enforces privileged and warns and audits "
    "restricted (with Linkerd's CNI plugin there is no linkerd-init)"
)


def namespace_objects(situation: Situation, protocol: str) -> list[Manifest]:
    return [
        namespace(situation, protocol),
        service_account(protocol),
        network_policy(protocol),
    ]


def pod_security(meshed: bool) -> dict[str, str]:
    enforce = "privileged" if meshed else "restricted"
    return {
        f"{PSA}/enforce": enforce,
        f"{PSA}/enforce-version": "latest",
        f"{PSA}/warn": "restricted",
        f"{PSA}/audit": "restricted",
    }


def namespace(situation: Situation, protocol: str) -> Manifest:
    meshed = situation.meshed(CALCULATOR)
    annotations = {SITUATION: situation.name}
    if meshed:
        # New pods are meshed by default; each pod template also says so (pods.pod_annotations).
        annotations |= {INJECT: "enabled", "calcbench/pod-security": MESHED_PSA_REASON}
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": namespace_of(protocol),
            "labels": {
                "app.kubernetes.io/part-of": "calcbench",
                PROTOCOL_LABEL: protocol,
                **pod_security(meshed),
            },
            "annotations": annotations,
        },
    }


def service_account(protocol: str) -> Manifest:
    """Every pod's identity (Linkerd's mTLS names it); no API token: nothing here calls the
    API server."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(SERVICE_ACCOUNT, namespace_of(protocol), _part_of(protocol)),
        "automountServiceAccountToken": False,
    }


def network_policy(protocol: str) -> Manifest:
    """The calculators' API port: only from the load generator and from percentage (which calls
    multiplication and division). Their metrics port and Linkerd's admin port stay open to the
    cluster: the API server's proxy, Prometheus and linkerd-viz scrape them."""
    callers = [
        {"podSelector": {"matchLabels": {COMPONENT_LABEL: LOADGEN}}},
        {"podSelector": {"matchLabels": {NAME_LABEL: Service.PERCENTAGE.value}}},
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata("calculators", namespace_of(protocol), _part_of(protocol)),
        "spec": {
            "podSelector": {"matchLabels": {COMPONENT_LABEL: CALCULATOR}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": callers, "ports": [{"protocol": "TCP", "port": "api"}]},
                {
                    "ports": [
                        {"protocol": "TCP", "port": METRICS_PORT},
                        {"protocol": "TCP", "port": LINKERD_ADMIN_PORT},
                    ]
                },
            ],
        },
    }


def _part_of(protocol: str) -> dict[str, str]:
    return {"app.kubernetes.io/part-of": "calcbench", PROTOCOL_LABEL: protocol}
