"""Put a situation into a cluster and take it out, through kubectl: `calcbench k8s deploy` and
`delete`, and the first and last steps of `bench`.

"Deployed" means more than applied: every Deployment has its pods ready, every headless Service
resolves to exactly those pods, and Linkerd's proxy is in the pods the situation meshes and in
no other. Only then may a generator start: one reachable pod per Service is not enough (the
generator would see part of a service), and a local Linkerd proxy accepts connections at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from calcbench.core.vocabulary import SERVICES
from calcbench.orchestration.k8s.kubectl import Kubectl, KubectlError, NotFound
from calcbench.orchestration.k8s.manifests import cluster_objects, to_yaml
from calcbench.orchestration.k8s.pods import CALCULATOR, COMPONENT_LABEL
from calcbench.orchestration.k8s.situation import Situation, namespace_of

PROXY: Final = "linkerd-proxy"
INJECTOR: Final = "linkerd-proxy-injector"
SERVICE_NAME_LABEL: Final = "kubernetes.io/service-name"
#: Kubernetes from which Linkerd's native sidecar (so a meshed Job completes) is on by default.
NATIVE_SIDECAR_MINOR: Final = 29

Say = Callable[[str], None]


@dataclass(frozen=True)
class Waits:
    """How long the flows wait (seconds) and how often they look."""

    rollout: float = 600.0
    poll: float = 2.0
    delete: float = 300.0


def leftover_hint(protocols: tuple[str, ...]) -> str:
    namespaces = ", ".join(namespace_of(p) for p in protocols)
    stack = protocols[0] if len(protocols) == 1 else "both"
    return f"{namespaces} stay applied; `calcbench k8s delete --stack {stack}` removes them"


def check_cluster(kubectl: Kubectl, situation: Situation, say: Say) -> str:
    """The server version, once kubectl, the cluster and (for a mesh) Linkerd are there."""
    version = kubectl.server_version()
    if situation.mesh != "none":
        try:
            kubectl.run("get", "deployment", INJECTOR, "-n", "linkerd", "-o", "name")
        except KubectlError as exc:
            raise KubectlError(
                f"--mesh {situation.mesh} needs Linkerd in the cluster (no deployment "
                "linkerd-proxy-injector in namespace linkerd; see k8s/README.md)"
            ) from exc
        if _minor(version) < NATIVE_SIDECAR_MINOR:
            say(
                f"warning: Kubernetes {version} has no native sidecars by default; a meshed "
                "generator Job may never complete"
            )
    return version


def _minor(version: str) -> int:
    parts = version.lstrip("v").split(".")
    digits = "".join(c for c in (parts[1] if len(parts) > 1 else "") if c.isdigit())
    return int(digits) if digits else 0


def deploy(kubectl: Kubectl, situation: Situation, say: Say, waits: Waits = Waits()) -> str:
    """Apply the situation and wait until it is deployed (see the module); returns the server
    version. After the apply, a failure says what stays applied."""
    version = check_cluster(kubectl, situation, say)
    say(f"applying {situation.name} ({', '.join(situation.namespaces)})")
    try:
        # A failed apply may have applied part of the objects: said as a failed rollout is.
        kubectl.apply(to_yaml(cluster_objects(situation)))
        wait_deployed(kubectl, situation, say, waits)
    except KubectlError as exc:
        raise KubectlError(f"{exc}; {leftover_hint(situation.protocols)}") from exc
    return version


def wait_deployed(kubectl: Kubectl, situation: Situation, say: Say, waits: Waits) -> None:
    deadline = time.monotonic() + waits.rollout
    wait_until(lambda: rollout_missing(kubectl, situation), deadline, waits.poll)
    say("every Deployment rolled out; waiting for the headless Services to list every pod")
    wait_until(lambda: endpoints_missing(kubectl, situation), deadline, waits.poll)
    mismatch = injection_mismatch(kubectl, situation)
    if mismatch:
        raise KubectlError(mismatch)


def rollout_state(deployment: dict[str, Any]) -> str | None:
    """Why a Deployment is not rolled out yet, as `kubectl rollout status` judges it (pure):
    the controller saw the latest spec, and every pod is updated, ready and available, with
    no old pod left. KubectlError when it will not happen (its progress deadline passed)."""
    name, spec = deployment["metadata"]["name"], deployment["spec"]
    status = deployment.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("reason") == "ProgressDeadlineExceeded":
            raise KubectlError(f'deployment "{name}" exceeded its progress deadline')
    wanted = int(spec.get("replicas", 1))
    if status.get("observedGeneration", 0) < deployment["metadata"].get("generation", 0):
        return f"deployment {name}: its controller has not seen the change yet"
    counts = [status.get(k, 0) for k in ("updatedReplicas", "readyReplicas", "availableReplicas")]
    if counts != [wanted] * 3 or status.get("replicas", 0) != wanted:
        return f"deployment {name}: {counts[1]} of {wanted} pod(s) ready and up to date"
    return None


def rollout_missing(kubectl: Kubectl, situation: Situation) -> str | None:
    for namespace in situation.namespaces:
        found = {
            d["metadata"]["name"]: d
            for d in kubectl.json("get", "deployments", "-n", namespace)["items"]
        }
        for service in SERVICES:
            if service not in found:
                return f"{namespace} has no deployment {service}"
            why = rollout_state(found[service])
            if why is not None:
                return f"{namespace}: {why}"
    return None


def wait_until(missing: Callable[[], str | None], deadline: float, poll: float) -> None:
    """Until `missing()` is None; KubectlError with its last answer at the deadline."""
    while (why := missing()) is not None:
        if time.monotonic() >= deadline:
            raise KubectlError(f"gave up waiting: {why}")
        time.sleep(poll)


def ready_addresses(slices: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Service name -> the ready endpoints' addresses, from EndpointSlices (pure)."""
    found: dict[str, set[str]] = {}
    for item in slices:
        service = (item["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL, "")
        addresses = found.setdefault(service, set())
        for endpoint in item.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready", False):
                addresses.update(endpoint.get("addresses") or [])
    return found


def endpoints_missing(kubectl: Kubectl, situation: Situation) -> str | None:
    """Which headless Service does not (yet) resolve to exactly its Deployment's pods."""
    for namespace in situation.namespaces:
        ready = ready_addresses(kubectl.json("get", "endpointslices", "-n", namespace)["items"])
        for service in SERVICES:
            have = len(ready.get(f"{service}-headless", set()))
            want = situation.replicas_of(service)
            if have != want:
                return f"{namespace}/{service}-headless lists {have} ready pod(s), not {want}"
    return None


def pod_has_proxy(pod: dict[str, Any]) -> bool:
    spec = pod["spec"]
    names = [c["name"] for c in [*spec.get("initContainers", []), *spec["containers"]]]
    return PROXY in names


def live_pods(kubectl: Kubectl, namespace: str, selector: str) -> list[dict[str, Any]]:
    items = kubectl.json("get", "pods", "-n", namespace, "-l", selector)["items"]
    return [pod for pod in items if not pod["metadata"].get("deletionTimestamp")]


def injection_mismatch(kubectl: Kubectl, situation: Situation) -> str | None:
    """A calculator pod meshed when the situation says not, or the other way round."""
    wanted = situation.meshed(CALCULATOR)
    for namespace in situation.namespaces:
        for pod in live_pods(kubectl, namespace, f"{COMPONENT_LABEL}={CALCULATOR}"):
            if pod_has_proxy(pod) != wanted:
                state = "lacks" if wanted else "has"
                name = pod["metadata"]["name"]
                return f"pod {namespace}/{name} {state} Linkerd's proxy ({situation.name})"
    return None


def delete(kubectl: Kubectl, protocols: tuple[str, ...], say: Say, waits: Waits = Waits()) -> None:
    """Delete the stacks' namespaces (everything in them) and wait until they are gone."""
    kubectl.server_version()
    namespaces = [namespace_of(p) for p in protocols]
    say(f"deleting {', '.join(namespaces)} and waiting until they are gone")
    kubectl.run(
        "delete", "namespace", *namespaces, "--ignore-not-found", "--wait=true",
        f"--timeout={int(waits.delete)}s", timeout=waits.delete + 30,
    )  # fmt: skip
    deadline = time.monotonic() + waits.delete
    wait_until(lambda: _still_there(kubectl, namespaces), deadline, waits.poll)


def _still_there(kubectl: Kubectl, namespaces: list[str]) -> str | None:
    for namespace in namespaces:
        try:
            kubectl.run("get", "namespace", namespace, "-o", "name")
        except NotFound:
            continue
        return f"namespace {namespace} is still terminating"
    return None
