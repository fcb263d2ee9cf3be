"""One calculator service of one stack as Kubernetes objects: its Deployment, a ClusterIP
Service (the shared address: kube-proxy balances connections), a headless Service (resolves to
every ready pod, for a client that balances requests itself), a HorizontalPodAutoscaler and a
PodDisruptionBudget (pure)."""

from __future__ import annotations

from calcbench.core.vocabulary import DOWNSTREAMS, Service
from calcbench.orchestration.k8s.pods import (
    API_PORT,
    CALCULATOR,
    METRICS_PORT,
    NAME_LABEL,
    TMP_MOUNT,
    Manifest,
    container_security,
    labels,
    metadata,
    pod_annotations,
    pod_spec,
    resources,
)
from calcbench.orchestration.k8s.situation import Situation, namespace_of

#: The HPA's target: CPU use over requests, averaged over the Deployment's pods.
CPU_TARGET_PERCENT = 70


def calculator_objects(situation: Situation, protocol: str, service: str) -> list[Manifest]:
    return [
        deployment(situation, protocol, service),
        cluster_service(protocol, service, headless=False),
        cluster_service(protocol, service, headless=True),
        autoscaler(situation, protocol, service),
        disruption_budget(protocol, service),
    ]


def command(protocol: str) -> list[str]:
    return ["python", "-m", f"calculator_{protocol}"]


def args(service: str) -> list[str]:
    ports = ["--port", str(API_PORT), "--metrics-port", str(METRICS_PORT)]
    return [service, "--host", "0.0.0.0", *ports]


def downstream_env(service: str) -> list[Manifest]:
    """Percentage calls multiplication, then division, through their ClusterIP Services."""
    if service != Service.PERCENTAGE:
        return []
    return [{"name": f"{d.upper()}_ENDPOINT", "value": f"{d}:{API_PORT}"} for d in DOWNSTREAMS]


def probes(protocol: str) -> Manifest:
    """REST: GET /healthz; gRPC: the kubelet's native gRPC probe (grpc.health.v1)."""
    handler: Manifest = (
        {"httpGet": {"path": "/healthz", "port": "api"}}
        if protocol == "rest"
        else {"grpc": {"port": API_PORT}}
    )
    return {
        "readinessProbe": {**handler, "periodSeconds": 5},
        "livenessProbe": {**handler, "periodSeconds": 10, "failureThreshold": 3},
    }


def container(situation: Situation, protocol: str, service: str) -> Manifest:
    sizing = situation.sizing
    box: Manifest = {
        "name": CALCULATOR,
        "image": situation.image,
        "imagePullPolicy": "IfNotPresent",
        "command": command(protocol),
        "args": args(service),
        "ports": [
            {"name": "api", "containerPort": API_PORT},
            {"name": "metrics", "containerPort": METRICS_PORT},
        ],
        **probes(protocol),
        "resources": resources(
            sizing.cpu_request, sizing.memory_request, sizing.cpu_limit, sizing.memory_limit
        ),
        "securityContext": container_security(),
        "volumeMounts": [TMP_MOUNT],
    }
    env = downstream_env(service)
    if env:
        box["env"] = env
    return box


def deployment(situation: Situation, protocol: str, service: str) -> Manifest:
    own = labels(service, CALCULATOR, protocol)
    annotations = {
        **pod_annotations(situation, CALCULATOR),
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(METRICS_PORT),
        "prometheus.io/path": "/metrics",
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(service, namespace_of(protocol), own),
        "spec": {
            "replicas": situation.replicas_of(service),
            "selector": {"matchLabels": {NAME_LABEL: service}},
            "template": {
                "metadata": {"labels": own, "annotations": annotations},
                "spec": pod_spec([container(situation, protocol, service)]),
            },
        },
    }


def cluster_service(protocol: str, service: str, *, headless: bool) -> Manifest:
    name = f"{service}-headless" if headless else service
    port: Manifest = {
        "name": "api",
        "port": API_PORT,
        "targetPort": "api",
        "appProtocol": "http" if protocol == "rest" else "kubernetes.io/h2c",
    }
    spec: Manifest = {"selector": {NAME_LABEL: service}, "ports": [port]}
    if headless:
        spec = {"clusterIP": "None", **spec}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(name, namespace_of(protocol), labels(service, CALCULATOR, protocol)),
        "spec": spec,
    }


def autoscaler(situation: Situation, protocol: str, service: str) -> Manifest:
    """CPU-driven, between the Deployment's own count and `--max-replicas` (by default the same
    count: a benchmark must not gain a pod halfway through; raise it to let the HPA work)."""
    floor = situation.replicas_of(service)
    ceiling = max(floor, situation.sizing.max_replicas or floor)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(
            service, namespace_of(protocol), labels(service, CALCULATOR, protocol)
        ),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service},
            "minReplicas": floor,
            "maxReplicas": ceiling,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": CPU_TARGET_PERCENT},
                    },
                }
            ],
        },
    }


def disruption_budget(protocol: str, service: str) -> Manifest:
    """One pod at a time may be evicted (a drain); `maxUnavailable` rather than `minAvailable`
    so that a one-pod service does not block a node drain forever."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(
            service, namespace_of(protocol), labels(service, CALCULATOR, protocol)
        ),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {NAME_LABEL: service}}},
    }
