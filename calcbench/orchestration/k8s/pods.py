"""What every calcbench pod shares: labels, mesh annotations, the pod-level settings and the
container's security context (pure; manifests are plain dicts)."""

from __future__ import annotations

from typing import Any, Final

from calcbench.orchestration.k8s.situation import Situation

Manifest = dict[str, Any]

API_PORT: Final = 8080
METRICS_PORT: Final = 9090
#: The uid and gid the Dockerfile's user has.
USER_ID: Final = 10001
SERVICE_ACCOUNT: Final = "calcbench"
CALCULATOR: Final = "calculator"
LOADGEN: Final = "loadgen"

NAME_LABEL: Final = "app.kubernetes.io/name"
COMPONENT_LABEL: Final = "app.kubernetes.io/component"
PROTOCOL_LABEL: Final = "calcbench/protocol"
INJECT: Final = "linkerd.io/inject"
#: Linkerd >= 2.15 runs its proxy as a native sidecar (an init container that keeps running),
#: which Kubernetes stops once the main container exits: a meshed Job can then complete.
NATIVE_SIDECAR: Final = "config.alpha.linkerd.io/proxy-enable-native-sidecar"
SITUATION: Final = "calcbench/situation"


def labels(name: str, component: str, protocol: str) -> dict[str, str]:
    return {
        NAME_LABEL: name,
        COMPONENT_LABEL: component,
        "app.kubernetes.io/part-of": "calcbench",
        PROTOCOL_LABEL: protocol,
    }


def metadata(name: str, namespace: str, object_labels: dict[str, str]) -> Manifest:
    return {"name": name, "namespace": namespace, "labels": dict(object_labels)}


def pod_annotations(situation: Situation, component: str) -> dict[str, str]:
    """Linkerd's choice stated on every pod, not left to the namespace: a pod template whose
    situation changed is a new template, so `kubectl apply` replaces the pods and the injector
    sees each new pod (the namespace annotation alone is read only when a pod is created)."""
    meshed = situation.meshed(component)
    annotations = {INJECT: "enabled" if meshed else "disabled", SITUATION: situation.name}
    if meshed:
        annotations[NATIVE_SIDECAR] = "true"
    return annotations


def container_security() -> Manifest:
    """Set per container, not per pod, so that containers a mesh injects (linkerd-init needs
    NET_ADMIN and runs as root) keep their own settings."""
    return {
        "runAsNonRoot": True,
        "runAsUser": USER_ID,
        "runAsGroup": USER_ID,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }


def resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> Manifest:
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def pod_spec(containers: list[Manifest], **extra: Any) -> Manifest:
    """The pod-level settings every calcbench pod has, plus `extra` (restartPolicy, ...)."""
    return {
        "serviceAccountName": SERVICE_ACCOUNT,
        # Nothing here talks to the API server; Linkerd mounts its own identity token.
        "automountServiceAccountToken": False,
        # Service links would add ADDITION_PORT=tcp://... next to the *_ENDPOINT variables.
        "enableServiceLinks": False,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        **extra,
        "containers": containers,
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }


TMP_MOUNT: Final = {"name": "tmp", "mountPath": "/tmp"}
